import type { RedisConnection } from '../redis/index.js';
import { EVENT_BUS_DEFAULTS, OPTION_LIMITS } from './defaults.js';
import { validateInteger, validateName } from './validate.js';
import { validateRedisConnection } from './redis-option.js';

/** Options of `EventPublisher`. */
export interface PublisherOptions {
  /** Redis to write to. Default: `REDIS_URL`, else `redis://localhost:6379`. */
  redis?: RedisConnection;
  /** Stream key. Default: `ai-pipeline:events`. */
  stream?: string;
  /**
   * Approximate maximum stream length, applied with `XADD MAXLEN ~`. Default: unset, so the
   * stream keeps every event for replay until trimmed by an operator.
   */
  maxLength?: number;
}

/** Publisher options after validation, with every default applied. */
export interface ResolvedPublisherOptions {
  readonly source: string;
  readonly redis: RedisConnection | undefined;
  readonly stream: string;
  readonly maxLength: number | undefined;
}

/** Validates publisher options and merges them with the defaults; throws `InvalidOptionError`. */
export function resolvePublisherOptions(source: unknown, options: PublisherOptions = {}): ResolvedPublisherOptions {
  return {
    source: validateName('source', source),
    redis: validateRedisConnection(options.redis),
    stream: validateName('stream', options.stream ?? EVENT_BUS_DEFAULTS.stream),
    maxLength: options.maxLength === undefined ? undefined : validateInteger('maxLength', options.maxLength, OPTION_LIMITS.maxLength),
  };
}
