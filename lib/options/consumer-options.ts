import type { RedisConnection } from '../redis/index.js';
import { InvalidOptionError } from '../errors/index.js';
import { EVENT_BUS_DEFAULTS, OPTION_LIMITS } from './defaults.js';
import { isStreamEntryId, validateInteger, validateName } from './validate.js';
import { validateRedisConnection } from './redis-option.js';

/**
 * Where a consumer group that does not exist yet starts reading: `'new'` for events published
 * after its creation, `'all'` for the whole stream, or a stream entry id to start after.
 */
export type GroupStartPosition = 'new' | 'all' | (string & {});

/** Options shared by `EventConsumer` and `RedisStreamsTransport`. */
export interface ConsumerOptions {
  /** Redis to read from. Default: `REDIS_URL`, else `redis://localhost:6379`. */
  redis?: RedisConnection;
  /** Stream key. Default: `ai-pipeline:events`. */
  stream?: string;
  /**
   * Start position of a group created by this consumer; ignored when the group exists.
   * Default: `'new'`, so a service deployed for the first time does not replay (and repeat the
   * side effects of) every event in the stream's history.
   */
  startFrom?: GroupStartPosition;
  /** Maximum entries fetched by one read. Default: 10. Range: 1 to 1000. */
  batchSize?: number;
  /** How long one blocking read waits for new entries, in milliseconds. Default: 5000. */
  blockMs?: number;
  /** Maximum handlers running at once in this consumer. Default: 1. */
  concurrency?: number;
  /** How long `stop()` waits for running handlers, in milliseconds. Default: 10000. */
  shutdownTimeoutMs?: number;
}

/** Consumer options after validation, with every default applied. */
export interface ResolvedConsumerOptions {
  readonly group: string;
  readonly consumer: string;
  readonly redis: RedisConnection | undefined;
  readonly stream: string;
  readonly startFrom: GroupStartPosition;
  readonly batchSize: number;
  readonly blockMs: number;
  readonly concurrency: number;
  readonly shutdownTimeoutMs: number;
}

/** Validates consumer options and merges them with the defaults; throws `InvalidOptionError`. */
export function resolveConsumerOptions(group: unknown, consumer: unknown, options: ConsumerOptions = {}): ResolvedConsumerOptions {
  const defaults = EVENT_BUS_DEFAULTS;
  return {
    group: validateName('group', group),
    consumer: validateName('consumer', consumer),
    redis: validateRedisConnection(options.redis),
    stream: validateName('stream', options.stream ?? defaults.stream),
    startFrom: validateStartFrom(options.startFrom ?? defaults.startFrom),
    batchSize: validateInteger('batchSize', options.batchSize ?? defaults.batchSize, OPTION_LIMITS.batchSize),
    blockMs: validateInteger('blockMs', options.blockMs ?? defaults.blockMs, OPTION_LIMITS.blockMs),
    concurrency: validateInteger('concurrency', options.concurrency ?? defaults.concurrency, OPTION_LIMITS.concurrency),
    shutdownTimeoutMs: validateInteger(
      'shutdownTimeoutMs',
      options.shutdownTimeoutMs ?? defaults.shutdownTimeoutMs,
      OPTION_LIMITS.shutdownTimeoutMs,
    ),
  };
}

function validateStartFrom(value: unknown): GroupStartPosition {
  if (value === 'new' || value === 'all' || (typeof value === 'string' && isStreamEntryId(value))) {
    return value;
  }
  throw new InvalidOptionError('startFrom', value, `'new', 'all' or a stream entry id such as '1700000000000-0'`);
}
