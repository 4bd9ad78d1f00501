/** The single stream that every service of the pipeline publishes to and reads from. */
export const DEFAULT_STREAM = 'ai-pipeline:events';

/**
 * Defaults for every consumer and publisher option, merged once at construction. Each option's
 * TSDoc in `consumer-options.ts` and `publisher-options.ts` names the same value.
 */
export const EVENT_BUS_DEFAULTS = {
  stream: DEFAULT_STREAM,
  startFrom: 'new',
  batchSize: 10,
  blockMs: 5_000,
  concurrency: 1,
  shutdownTimeoutMs: 10_000,
  claimIdleMs: 30_000,
  claimIntervalMs: 1_000,
  consumerIdleTimeoutMs: 3_600_000,
  publishTimeoutMs: 10_000,
  maxWaitingPublishes: 10_000,
  errorBackoffMinMs: 100,
  errorBackoffMaxMs: 5_000,
} as const;

/** Valid ranges, shared by validation and by the messages that name them. */
export const OPTION_LIMITS = {
  batchSize: { min: 1, max: 1_000 },
  blockMs: { min: 1, max: 600_000 },
  concurrency: { min: 1, max: 1_000 },
  shutdownTimeoutMs: { min: 0, max: 3_600_000 },
  claimIdleMs: { min: 100, max: 86_400_000 },
  claimIntervalMs: { min: 10, max: 3_600_000 },
  consumerIdleTimeoutMs: { min: 1_000, max: 2_592_000_000 },
  publishTimeoutMs: { min: 1, max: 3_600_000 },
  maxWaitingPublishes: { min: 0, max: 1_000_000 },
  maxLength: { min: 1, max: Number.MAX_SAFE_INTEGER },
  nameLength: { min: 1, max: 256 },
} as const;
