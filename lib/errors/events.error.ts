/**
 * Base class of every error this package throws, so callers can tell bus failures from their
 * own with one `instanceof` check.
 */
export class EventsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
