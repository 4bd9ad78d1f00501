import { EventsError } from '../errors/index.js';

/**
 * Thrown by `IdempotencyGuard.runOnce` when another runner holds the lock on the same event in
 * the same group. The bus treats it as a failed attempt and retries the event: a later delivery
 * runs the work if the other runner failed, or skips it if that runner finished.
 */
export class IdempotencyLockedError extends EventsError {
  constructor(
    readonly group: string,
    readonly eventId: string,
    /** Remaining lock time in milliseconds when the claim failed. */
    readonly retryAfterMs: number,
  ) {
    super(
      `Event ${eventId} is already being handled in group "${group}" by another runner; ` +
        `it will be retried after the lock expires (in at most ${retryAfterMs} ms) unless that runner finishes it first.`,
    );
  }
}
