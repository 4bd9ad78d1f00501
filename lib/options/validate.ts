import { InvalidOptionError } from '../errors/index.js';

/** Names, keys and ids: non-empty, bounded, and printable so they read well in logs and RedisInsight. */
export function validateName(option: string, value: unknown, maxLength = 256): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength || /[\s\p{Cc}]/u.test(value)) {
    throw new InvalidOptionError(
      option,
      value,
      `a non-empty string of at most ${maxLength} characters without spaces or control characters`,
    );
  }
  return value;
}

/** Returns the value if it is an integer within the inclusive range; throws `InvalidOptionError` otherwise. */
export function validateInteger(option: string, value: unknown, range: { min: number; max: number }): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    throw new InvalidOptionError(option, value, `an integer from ${range.min} to ${range.max}`);
  }
  return value;
}

/** Returns whether the value is a stream entry id such as `1700000000000-0` or `1700000000000`. */
export function isStreamEntryId(value: string): boolean {
  return /^\d+(-\d+)?$/.test(value);
}
