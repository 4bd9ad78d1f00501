import { Redis } from 'ioredis';

/** Returns a plain client on the test Redis for inspecting streams and groups outside the code under test. */
export function inspectorClient(): Redis {
  return new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { lazyConnect: false });
}

/** Number of entries of a group that were delivered but not acknowledged. */
export async function pendingCount(client: Redis, stream: string, group: string): Promise<number> {
  const summary = (await client.xpending(stream, group)) as [number, ...unknown[]];
  return Number(summary[0]);
}
