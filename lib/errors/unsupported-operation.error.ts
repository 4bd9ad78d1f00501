import { EventsError } from './events.error.js';

/** Thrown when a caller uses a Nest transport feature that this bus does not offer. */
export class UnsupportedOperationError extends EventsError {}
