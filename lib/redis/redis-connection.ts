import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import { maskRedisUrl } from './mask-url.js';

/**
 * Location of Redis: a URL (`redis://`, `rediss://` for TLS, with optional `user:password@`),
 * ioredis options, or a connected ioredis instance that the caller keeps owning.
 */
export type RedisConnection = string | RedisUrlOptions | Redis | Cluster;

/**
 * ioredis options, optionally with a `url` that supplies host, port, credentials and TLS; the
 * other options add to it, such as `tls: { ca }` for a server with a private certificate.
 */
export interface RedisUrlOptions extends RedisOptions {
  url?: string;
}

/** The URL used when neither the options nor `REDIS_URL` name a Redis server. */
export const DEFAULT_REDIS_URL = 'redis://localhost:6379';

/** A client that this package opened (and so closes) or borrowed from the caller. */
export interface OpenedConnection {
  readonly client: Redis;
  readonly owned: boolean;
}

/**
 * Tells an ioredis client from an options object by its methods rather than `instanceof`, so a
 * client from another copy of ioredis in the application's node_modules is recognised too.
 * A `Cluster` counts as a client too: it has every command, `status` and connection event that
 * this package uses, so the package handles both through the `Redis` type.
 */
export function isRedisClient(value: unknown): value is Redis {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Redis>).duplicate === 'function' &&
    typeof (value as Partial<Redis>).xadd === 'function'
  );
}

/** Reads the connection from options, then from `REDIS_URL`, then falls back to the default. */
export function resolveRedisConnection(connection: RedisConnection | undefined): RedisConnection {
  return connection ?? (process.env['REDIS_URL'] || DEFAULT_REDIS_URL);
}

/** Describes a connection for logs and error messages, with any password masked. */
export function describeRedisConnection(connection: RedisConnection): string {
  if (typeof connection === 'string') {
    return maskRedisUrl(connection);
  }
  if (isClusterClient(connection)) {
    const nodes = connection.nodes('master').map((node) => `${node.options.host ?? 'localhost'}:${node.options.port ?? 6379}`);
    return nodes.length > 0 ? `redis cluster ${nodes.join(', ')}` : 'redis cluster';
  }
  if (!isRedisClient(connection) && connection.url !== undefined) {
    return maskRedisUrl(connection.url);
  }
  const options = isRedisClient(connection) ? connection.options : connection;
  if (options.path) {
    return `redis+unix://${options.path}`;
  }
  const scheme = options.tls ? 'rediss' : 'redis';
  const password = options.password ? ':***' : '';
  const user = options.username || password ? `${options.username ?? ''}${password}@` : '';
  return `${scheme}://${user}${options.host ?? 'localhost'}:${options.port ?? 6379}/${options.db ?? 0}`;
}

/**
 * Opens a client for one role. A caller's instance is used as is for shared work, and duplicated
 * (with `overrides`) where a role needs a connection of its own, such as a blocking read.
 */
export function openRedisConnection(
  connection: RedisConnection,
  overrides: RedisOptions,
  { dedicated }: { dedicated: boolean },
): OpenedConnection {
  if (isClusterClient(connection)) {
    // The package handles a Cluster through the `Redis` type; see isRedisClient.
    const client = dedicated ? connection.duplicate([], { redisOptions: overrides }) : connection;
    return { client: client as unknown as Redis, owned: dedicated };
  }
  if (isRedisClient(connection)) {
    return dedicated ? { client: connection.duplicate(overrides), owned: true } : { client: connection, owned: false };
  }
  if (typeof connection === 'string') {
    return { client: new Redis(connection, overrides), owned: true };
  }
  const { url, ...options } = connection;
  if (url !== undefined) {
    return { client: new Redis(url, { ...options, ...overrides }), owned: true };
  }
  return { client: new Redis({ ...options, ...overrides }), owned: true };
}

/**
 * Tells a Cluster from a single-node client. `Cluster.duplicate()` takes startup nodes first and
 * per-node options under `redisOptions`, so passing options as for `Redis` would drop them
 * silently (ioredis 6.1).
 */
function isClusterClient(value: unknown): value is Cluster {
  return isRedisClient(value) && value.isCluster;
}

/**
 * Closes a client this package owns: `QUIT` when connected so pending replies arrive, otherwise
 * an immediate disconnect that also stops reconnect attempts. Borrowed clients are left open.
 */
export async function closeRedisConnection(opened: OpenedConnection): Promise<void> {
  if (!opened.owned) {
    return;
  }
  const { client } = opened;
  // A client still connecting may report errors after close; they are expected, and without a
  // listener ioredis prints them as unhandled.
  client.on('error', ignoreError);
  if (hasEnded(client)) {
    // A second disconnect() would arm ioredis's socket-destroy timer on a closed socket, and
    // that timer keeps the process alive for `disconnectTimeout` (2 s by default).
    return;
  }
  if (client.status === 'ready' && (await quitWithin(client, QUIT_TIMEOUT_MS))) {
    return;
  }
  // QUIT may have ended the connection late, after the timeout.
  if (!hasEnded(client)) {
    client.disconnect();
  }
}

function hasEnded(client: Redis): boolean {
  return client.status === 'end';
}

/** Maximum wait for the reply to QUIT, in milliseconds; a silent connection is then cut instead. */
const QUIT_TIMEOUT_MS = 2_000;

/** Sends QUIT and returns whether the reply arrived in time. */
async function quitWithin(client: Redis, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([
      client.quit().then(
        () => true,
        () => false,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function ignoreError(): void {}
