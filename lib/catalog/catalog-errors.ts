import { EventsError } from '../errors/index.js';
import type { PayloadFieldError } from './validation-errors.js';

/** Thrown by `publish()` when the payload fails its class's validation; nothing is written. */
export class InvalidPayloadError extends EventsError {
  constructor(
    readonly eventType: string,
    readonly errors: readonly PayloadFieldError[],
  ) {
    super(`Invalid payload for "${eventType}": ${describeFieldErrors(errors)}.`);
  }
}

/** Thrown when an event type is not in the registry and strict mode is on. */
export class UnknownEventTypeError extends EventsError {
  constructor(readonly eventType: string) {
    super(
      `Unknown event type "${eventType}": it is not in the event catalog. Register it with registry.register({ type, payloadClass, ... }), or set strict: false to allow types outside the catalog.`,
    );
  }
}

/** Thrown by `publish()` when the serialized payload exceeds `maxEventBytes`; nothing is written. */
export class EventTooLargeError extends EventsError {
  constructor(
    readonly eventType: string,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(
      `Event "${eventType}" is ${bytes} bytes, over the limit of ${maxBytes} bytes (maxEventBytes). Store large data elsewhere and publish a reference, or raise maxEventBytes.`,
    );
  }
}

/** Renders field errors as `path: constraint, constraint; path: ...`, with `(payload)` for the root. */
export function describeFieldErrors(errors: readonly PayloadFieldError[]): string {
  return errors.map((error) => `${error.path || '(payload)'}: ${error.constraints.join(', ')}`).join('; ');
}
