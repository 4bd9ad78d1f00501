import type { RedisConnection } from '../redis/index.js';
import { InvalidOptionError } from '../errors/index.js';
import { EVENT_BUS_DEFAULTS, OPTION_LIMITS } from './defaults.js';
import { isStreamEntryId, validateInteger, validateName } from './validate.js';
import { validateRedisConnection } from './redis-option.js';
import { resolveRetryPolicy, type ResolvedRetryPolicy, type RetryPolicy } from './retry-policy.js';
import type { EventEnvelope } from '../envelope/index.js';
import { EventSchemas, type CatalogOptions } from '../catalog/event-schemas.js';
import type { Upcaster } from '../catalog/upcaster.js';

/**
 * Start position of a consumer group that does not exist yet: `'new'` for events published
 * after its creation, `'all'` for the whole stream, or a stream entry id to start after.
 */
export type GroupStartPosition = 'new' | 'all' | (string & {});

/** Options shared by `EventConsumer` and `RedisStreamsTransport`. */
export interface ConsumerOptions extends CatalogOptions {
  /** Upcasters that bring older payload versions to the catalog's current one before validation. */
  upcasters?: readonly Upcaster[];
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
  /** Attempts and backoff for failed events. Default: 5 attempts, 1 s doubling up to 60 s. */
  retry?: RetryPolicy;
  /** Retry policies by event type, merged over `retry`. */
  retryByType?: Readonly<Record<string, RetryPolicy>>;
  /** Stream that receives events no attempt could handle. Default: `<stream>:dead-letter`. */
  deadLetterStream?: string;
  /**
   * Idle time after which another consumer's pending entry counts as abandoned and is claimed,
   * in milliseconds. Running handlers keep their entries fresh, however long they take.
   * Default: 30000.
   */
  claimIdleMs?: number;
  /** How often pending entries are checked for retries and claims, in milliseconds. Default: 1000. */
  claimIntervalMs?: number;
  /**
   * Idle time after which a consumer of the group with nothing pending is deleted from the
   * group, in milliseconds. Default: 3600000 (one hour).
   */
  consumerIdleTimeoutMs?: number;
  /**
   * Returns the ordering key of an event. With `concurrency` above 1, events with the same key
   * run one after another in stream order; events without a key run in parallel. Default: none.
   */
  orderingKey?: (event: EventEnvelope) => string | undefined;
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
  readonly retry: ResolvedRetryPolicy;
  readonly retryByType: ReadonlyMap<string, ResolvedRetryPolicy>;
  readonly deadLetterStream: string;
  readonly claimIdleMs: number;
  readonly claimIntervalMs: number;
  readonly consumerIdleTimeoutMs: number;
  readonly orderingKey: ((event: EventEnvelope) => string | undefined) | undefined;
  readonly schemas: EventSchemas;
}

/** Validates consumer options and merges them with the defaults; throws `InvalidOptionError`. */
export function resolveConsumerOptions(group: unknown, consumer: unknown, options: ConsumerOptions = {}): ResolvedConsumerOptions {
  const defaults = EVENT_BUS_DEFAULTS;
  const stream = validateName('stream', options.stream ?? defaults.stream);
  const retry = resolveRetryPolicy('retry', options.retry);
  if (options.orderingKey !== undefined && typeof options.orderingKey !== 'function') {
    throw new InvalidOptionError('orderingKey', options.orderingKey, 'a function (event) => string | undefined');
  }
  return {
    group: validateName('group', group),
    consumer: validateName('consumer', consumer),
    redis: validateRedisConnection(options.redis),
    stream,
    startFrom: validateStartFrom(options.startFrom ?? defaults.startFrom),
    batchSize: validateInteger('batchSize', options.batchSize ?? defaults.batchSize, OPTION_LIMITS.batchSize),
    blockMs: validateInteger('blockMs', options.blockMs ?? defaults.blockMs, OPTION_LIMITS.blockMs),
    concurrency: validateInteger('concurrency', options.concurrency ?? defaults.concurrency, OPTION_LIMITS.concurrency),
    shutdownTimeoutMs: validateInteger(
      'shutdownTimeoutMs',
      options.shutdownTimeoutMs ?? defaults.shutdownTimeoutMs,
      OPTION_LIMITS.shutdownTimeoutMs,
    ),
    retry,
    retryByType: resolveRetryByType(options.retryByType, retry),
    deadLetterStream: validateName('deadLetterStream', options.deadLetterStream ?? `${stream}:dead-letter`),
    claimIdleMs: validateInteger('claimIdleMs', options.claimIdleMs ?? defaults.claimIdleMs, OPTION_LIMITS.claimIdleMs),
    claimIntervalMs: validateInteger('claimIntervalMs', options.claimIntervalMs ?? defaults.claimIntervalMs, OPTION_LIMITS.claimIntervalMs),
    consumerIdleTimeoutMs: validateInteger(
      'consumerIdleTimeoutMs',
      options.consumerIdleTimeoutMs ?? defaults.consumerIdleTimeoutMs,
      OPTION_LIMITS.consumerIdleTimeoutMs,
    ),
    orderingKey: options.orderingKey,
    schemas: new EventSchemas(options, options.upcasters ?? []),
  };
}

function resolveRetryByType(
  byType: Readonly<Record<string, RetryPolicy>> | undefined,
  base: ResolvedRetryPolicy,
): ReadonlyMap<string, ResolvedRetryPolicy> {
  const policies = new Map<string, ResolvedRetryPolicy>();
  if (byType === undefined) {
    return policies;
  }
  if (typeof byType !== 'object' || byType === null) {
    throw new InvalidOptionError(
      'retryByType',
      byType,
      "an object of policies by event type, such as { 'media.ready': { maxAttempts: 10 } }",
    );
  }
  for (const [type, policy] of Object.entries(byType)) {
    policies.set(type, resolveRetryPolicy(`retryByType["${type}"]`, policy, base));
  }
  return policies;
}

function validateStartFrom(value: unknown): GroupStartPosition {
  if (value === 'new' || value === 'all' || (typeof value === 'string' && isStreamEntryId(value))) {
    return value;
  }
  throw new InvalidOptionError('startFrom', value, `'new', 'all' or a stream entry id such as '1700000000000-0'`);
}
