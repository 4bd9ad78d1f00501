import { validateRedisConnection } from '../options/redis-option.js';
import { validateInteger, validateName } from '../options/validate.js';
import type { RedisConnection } from '../redis/index.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** Options of `IdempotencyGuard`. */
export interface IdempotencyGuardOptions {
  /** Redis that stores the markers. Default: `REDIS_URL`, else `redis://localhost:6379`. */
  redis?: RedisConnection;
  /** Prefix of every marker key, which reads `<keyPrefix>:<group>:<eventId>`. Default: `ai-pipeline:idempotency`. */
  keyPrefix?: string;
  /**
   * How long the done marker of a finished event is kept, in milliseconds. A delivery of the same
   * event after this time runs the work again. Default: 7 days. Range: 1 ms to 366 days.
   */
  ttlMs?: number;
  /**
   * How long a claim lasts while the work runs, in milliseconds. A runner that crashed blocks the
   * event for this long. Work that runs longer can be started again by another runner, so set it
   * above the slowest expected run. Default: 5 minutes. Range: 1 ms to 24 hours.
   * The consumer retries an event that meets `IdempotencyLockedError` after the error's
   * `retryAfterMs` (the lock's remaining time), and such a retry does not use up `maxAttempts`.
   */
  lockMs?: number;
}

/** Guard options after validation, with every default applied. */
export interface ResolvedIdempotencyGuardOptions {
  readonly redis: RedisConnection | undefined;
  readonly keyPrefix: string;
  readonly ttlMs: number;
  readonly lockMs: number;
}

/** Defaults of `IdempotencyGuardOptions`, merged once at construction. */
export const IDEMPOTENCY_DEFAULTS = {
  keyPrefix: 'ai-pipeline:idempotency',
  ttlMs: 7 * DAY_MS,
  lockMs: 5 * MINUTE_MS,
} as const;

/** Valid ranges, shared by validation and by the messages that name them. */
export const IDEMPOTENCY_LIMITS = {
  ttlMs: { min: 1, max: 366 * DAY_MS },
  lockMs: { min: 1, max: DAY_MS },
} as const;

/** Validates guard options and merges them with the defaults; throws `InvalidOptionError`. */
export function resolveIdempotencyGuardOptions(options: IdempotencyGuardOptions = {}): ResolvedIdempotencyGuardOptions {
  return {
    redis: validateRedisConnection(options.redis),
    keyPrefix: validateName('keyPrefix', options.keyPrefix ?? IDEMPOTENCY_DEFAULTS.keyPrefix),
    ttlMs: validateInteger('ttlMs', options.ttlMs ?? IDEMPOTENCY_DEFAULTS.ttlMs, IDEMPOTENCY_LIMITS.ttlMs),
    lockMs: validateInteger('lockMs', options.lockMs ?? IDEMPOTENCY_DEFAULTS.lockMs, IDEMPOTENCY_LIMITS.lockMs),
  };
}
