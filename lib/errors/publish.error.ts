import { EventsError } from './events.error.js';

/** Thrown when an event could not be appended to the stream; `cause` contains the Redis error. */
export class PublishError extends EventsError {
  constructor(
    message: string,
    readonly eventType: string,
    readonly eventId: string,
    readonly stream: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Thrown when Redis rejects a write because it reached `maxmemory` with a no-eviction policy. */
export class RedisOutOfMemoryError extends PublishError {}

/** Thrown when Redis did not become reachable, or did not reply, within `publishTimeoutMs`. */
export class PublishTimeoutError extends PublishError {}
