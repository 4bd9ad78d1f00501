import { InvalidOptionError } from '../errors/index.js';
import { validateInteger } from './validate.js';

/** How often and how late a failed event is handled again before it is dead-lettered. */
export interface RetryPolicy {
  /** Deliveries before the event goes to the dead-letter stream, including the first. Default: 5. */
  maxAttempts?: number;
  /** Wait before the second attempt, in milliseconds. Default: 1000. */
  initialDelayMs?: number;
  /** Upper bound of the wait between attempts, in milliseconds. Default: 60000. */
  maxDelayMs?: number;
  /** Factor by which the wait grows after each attempt. Default: 2. */
  multiplier?: number;
  /** Random share, from 0 to 1, taken off each wait so replicas do not retry in step. Default: 0.2. */
  jitter?: number;
}

export type ResolvedRetryPolicy = Required<RetryPolicy>;

export const DEFAULT_RETRY_POLICY: ResolvedRetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 1_000,
  maxDelayMs: 60_000,
  multiplier: 2,
  jitter: 0.2,
};

/** Merges a partial policy over a base and validates the result; `option` names it in errors. */
export function resolveRetryPolicy(
  option: string,
  policy: RetryPolicy | undefined,
  base: ResolvedRetryPolicy = DEFAULT_RETRY_POLICY,
): ResolvedRetryPolicy {
  if (policy === undefined) {
    return base;
  }
  if (typeof policy !== 'object' || policy === null) {
    throw new InvalidOptionError(option, policy, 'an object such as { maxAttempts: 5, initialDelayMs: 1000 }');
  }
  const merged = { ...base, ...definedOnly(policy) };
  validateInteger(`${option}.maxAttempts`, merged.maxAttempts, { min: 1, max: 1_000 });
  validateInteger(`${option}.initialDelayMs`, merged.initialDelayMs, { min: 0, max: 86_400_000 });
  validateInteger(`${option}.maxDelayMs`, merged.maxDelayMs, { min: merged.initialDelayMs, max: 86_400_000 });
  if (typeof merged.multiplier !== 'number' || !(merged.multiplier >= 1 && merged.multiplier <= 100)) {
    throw new InvalidOptionError(`${option}.multiplier`, merged.multiplier, 'a number from 1 to 100');
  }
  if (typeof merged.jitter !== 'number' || !(merged.jitter >= 0 && merged.jitter <= 1)) {
    throw new InvalidOptionError(`${option}.jitter`, merged.jitter, 'a number from 0 to 1');
  }
  return merged;
}

/**
 * Returns the wait before the next attempt after `attempts` deliveries: exponential, capped at
 * `maxDelayMs`, with up to `jitter` of it taken off at random.
 */
export function retryDelayMs(policy: ResolvedRetryPolicy, attempts: number, random: () => number = Math.random): number {
  const exponential = policy.initialDelayMs * policy.multiplier ** Math.max(0, attempts - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  return Math.round(capped * (1 - policy.jitter * random()));
}

function definedOnly(policy: RetryPolicy): RetryPolicy {
  return Object.fromEntries(Object.entries(policy).filter(([, value]) => value !== undefined));
}
