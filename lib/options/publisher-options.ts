import type { CatalogOptions } from '../catalog/event-schemas.js';
import type { RedisConnection } from '../redis/index.js';
import { EVENT_BUS_DEFAULTS, OPTION_LIMITS } from './defaults.js';
import { validateInteger, validateName } from './validate.js';
import { validateRedisConnection } from './redis-option.js';

/** Options of `EventPublisher`. */
export interface PublisherOptions extends CatalogOptions {
  /** Redis to write to. Default: `REDIS_URL`, else `redis://localhost:6379`. */
  redis?: RedisConnection;
  /** Stream key. Default: `ai-pipeline:events`. */
  stream?: string;
  /**
   * Approximate maximum stream length, applied with `XADD MAXLEN ~`. Default: unset, so the
   * stream keeps every event for replay until trimmed by an operator.
   */
  maxLength?: number;
  /**
   * Maximum time one `publish()` waits for Redis to be reachable and to reply, in milliseconds.
   * Default: 10000.
   */
  publishTimeoutMs?: number;
  /**
   * Publishes allowed to wait for a connection at once; more are rejected at once, so an outage
   * cannot grow memory without bound. Default: 10000.
   */
  maxWaitingPublishes?: number;
}

/** Publisher options after validation, with every default applied. */
export interface ResolvedPublisherOptions {
  readonly source: string;
  readonly redis: RedisConnection | undefined;
  readonly stream: string;
  readonly maxLength: number | undefined;
  readonly publishTimeoutMs: number;
  readonly maxWaitingPublishes: number;
}

/** Validates publisher options and merges them with the defaults; throws `InvalidOptionError`. */
export function resolvePublisherOptions(source: unknown, options: PublisherOptions = {}): ResolvedPublisherOptions {
  return {
    source: validateName('source', source),
    redis: validateRedisConnection(options.redis),
    stream: validateName('stream', options.stream ?? EVENT_BUS_DEFAULTS.stream),
    maxLength: options.maxLength === undefined ? undefined : validateInteger('maxLength', options.maxLength, OPTION_LIMITS.maxLength),
    publishTimeoutMs: validateInteger(
      'publishTimeoutMs',
      options.publishTimeoutMs ?? EVENT_BUS_DEFAULTS.publishTimeoutMs,
      OPTION_LIMITS.publishTimeoutMs,
    ),
    maxWaitingPublishes: validateInteger(
      'maxWaitingPublishes',
      options.maxWaitingPublishes ?? EVENT_BUS_DEFAULTS.maxWaitingPublishes,
      OPTION_LIMITS.maxWaitingPublishes,
    ),
  };
}
