import type { Redis } from 'ioredis';

/** Marker value of an event whose work finished. */
export const DONE_MARKER = 'done';

/** Prefix of the marker value of an event whose work is running, followed by a random token. */
export const RUNNING_MARKER_PREFIX = 'running:';

/** Current marker of an event that another runner claimed or finished. */
export interface ExistingMarker {
  readonly value: string;
  /** Remaining time to live in milliseconds, or -1 when the key has no expiry. */
  readonly ttlMs: number;
}

// Reading the existing marker in the same script as SET NX means it cannot expire or be deleted
// between a failed claim and the read.
const CLAIM_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return nil
end
return { redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1]) }
`;

// Both scripts compare the token first, so a runner whose lock expired and was taken by another
// runner leaves the new holder's marker alone.
const COMPLETE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`;

const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/** Sets `key` to `running` with `SET NX PX`; returns undefined when claimed, else the existing marker. */
export async function claimMarker(client: Redis, key: string, runningValue: string, lockMs: number): Promise<ExistingMarker | undefined> {
  const reply = (await client.eval(CLAIM_SCRIPT, 1, key, runningValue, lockMs)) as [string, number] | null;
  if (reply === null) {
    return undefined;
  }
  return { value: reply[0], ttlMs: reply[1] };
}

/** Replaces our running marker with the done marker; returns false when the key no longer contains it. */
export async function completeMarker(client: Redis, key: string, runningValue: string, ttlMs: number): Promise<boolean> {
  return (await client.eval(COMPLETE_SCRIPT, 1, key, runningValue, DONE_MARKER, ttlMs)) === 1;
}

/** Deletes our running marker; returns false when the key no longer contains it. */
export async function releaseMarker(client: Redis, key: string, runningValue: string): Promise<boolean> {
  return (await client.eval(RELEASE_SCRIPT, 1, key, runningValue)) === 1;
}
