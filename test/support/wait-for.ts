import { randomBytes } from 'node:crypto';

export interface WaitForOptions {
  /** Maximum time in ms to wait for the condition. Default 10000. */
  timeoutMs?: number;
  /** Delay in ms between checks. Default 20. */
  intervalMs?: number;
  /** What the caller waits for, used in the timeout error, e.g. 'consumer group to exist'. */
  message?: string;
}

/**
 * Polls `condition` until it returns true, and throws when `timeoutMs` passes first.
 *
 * A condition that throws counts as false, so a test can poll a command that fails
 * while Redis reconnects. The timeout error then includes the last thrown message.
 * A check that never settles is abandoned at the deadline.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, intervalMs = 20, message = 'condition to become true' }: WaitForOptions = {},
): Promise<void> {
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`waitFor timeoutMs must be a positive number of ms, got ${timeoutMs}`);
  }
  if (!Number.isFinite(intervalMs) || intervalMs < 0) {
    throw new RangeError(`waitFor intervalMs must be zero or a positive number of ms, got ${intervalMs}`);
  }

  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;

  for (;;) {
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${message}${describeLastError(lastError)}`);
    }

    try {
      if (await settleWithin(condition, remainingMs)) {
        return;
      }
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }

    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/** Returns a per-test Redis key or group name such as `test:orders:3f9a0c1d2e4b`. */
export function uniqueKey(prefix: string): string {
  return `test:${prefix}:${randomBytes(6).toString('hex')}`;
}

const CHECK_TIMED_OUT = Symbol('check timed out');

/** Runs one check and returns false if it is still pending after `timeoutMs`. */
async function settleWithin(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<typeof CHECK_TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(CHECK_TIMED_OUT), timeoutMs);
  });
  try {
    const result = await Promise.race([Promise.resolve().then(condition), timedOut]);
    return result === true;
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeLastError(error: unknown): string {
  if (error === undefined) {
    return '';
  }
  const text = error instanceof Error ? error.message : JSON.stringify(error);
  return ` (last check threw: ${text})`;
}
