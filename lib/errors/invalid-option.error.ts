import { EventsError } from './events.error.js';

/** Thrown at construction when an option is missing or out of range. */
export class InvalidOptionError extends EventsError {
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`Invalid option "${option}": expected ${expected}, got ${describeValue(value)}.`);
  }
}

/** Renders a value for an error message without dumping large objects or secrets. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === null || value === undefined) {
    return String(value);
  }
  if (Array.isArray(value)) {
    return `an array of length ${value.length}`;
  }
  return `a value of type ${typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value}`;
}
