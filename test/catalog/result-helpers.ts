import type { PayloadFieldError, PayloadValidationResult } from '../../lib/catalog/index.js';

/** Returns the validated value, or throws with the reported errors so the test output shows them. */
export function expectValid<P>(result: PayloadValidationResult<P>): P {
  if (!result.ok) {
    throw new Error(`Expected a valid payload, but validation failed: ${JSON.stringify(result.errors)}`);
  }
  return result.value;
}

/** Returns the reported errors, or throws when the payload passed validation. */
export function expectInvalid<P>(result: PayloadValidationResult<P>): PayloadFieldError[] {
  if (result.ok) {
    throw new Error(`Expected validation errors, but the payload passed: ${JSON.stringify(result.value)}`);
  }
  return result.errors;
}

/** Returns the path of every error, in reported order. */
export function errorPaths(errors: readonly PayloadFieldError[]): string[] {
  return errors.map((error) => error.path);
}
