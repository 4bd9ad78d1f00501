import { EventsError } from './events.error.js';

/**
 * Thrown by a handler to say that retrying cannot help (for example, the referenced record does
 * not exist). The event goes to the dead-letter stream on this attempt.
 */
export class NonRetryableEventError extends EventsError {
  /** Marks errors of this kind across copies of the package, where `instanceof` fails. */
  readonly nonRetryable = true;
}

/** Returns whether an error is marked as not retryable. */
export function isNonRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { nonRetryable?: unknown }).nonRetryable === true;
}
