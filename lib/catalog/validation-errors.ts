import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { ValidationArguments, ValidationError } from 'class-validator';

/** Failed constraint messages for one field of a payload. */
export interface PayloadFieldError {
  /**
   * Dotted path from the payload root, such as `targetMarkets.1` or
   * `localizations.0.videoUrl`. An empty string means the payload itself.
   */
  readonly path: string;
  /** Messages of the constraints that failed at this path. */
  readonly constraints: string[];
}

/**
 * Flattens class-validator errors into one entry per dotted path, in the order
 * class-validator reported them.
 *
 * `root` is the validated instance. It is needed because an `{ each: true }`
 * constraint on an array of primitives is reported on the array as a whole, and
 * this function re-checks the elements to report `targetMarkets.1` rather than
 * `targetMarkets`.
 */
export function flattenValidationErrors(errors: readonly ValidationError[], root: object): PayloadFieldError[] {
  const messagesByPath = new Map<string, string[]>();
  collectErrors(errors, root, '', messagesByPath);

  return Array.from(messagesByPath, ([path, constraints]) => ({ path, constraints }));
}

function collectErrors(errors: readonly ValidationError[], owner: object, prefix: string, messagesByPath: Map<string, string[]>): void {
  for (const error of errors) {
    const path = prefix === '' ? error.property : `${prefix}.${error.property}`;
    // Read the value from the instance, because the validator options drop
    // `value` and `target` from errors so that payload contents stay out of logs.
    const value: unknown = (owner as Record<string, unknown>)[error.property];

    for (const [constraintName, message] of Object.entries(error.constraints ?? {})) {
      const indexes = Array.isArray(value) ? findFailingElements(owner, error.property, constraintName, value) : [];
      if (indexes.length === 0) {
        addMessage(messagesByPath, path, message);
        continue;
      }
      for (const index of indexes) {
        addMessage(messagesByPath, `${path}.${index}`, message);
      }
    }

    if (error.children !== undefined && error.children.length > 0 && typeof value === 'object' && value !== null) {
      collectErrors(error.children, value, path, messagesByPath);
    }
  }
}

/**
 * Returns the indexes of the elements that fail the `{ each: true }` constraint
 * named `constraintName` on `owner[property]`. Returns an empty list when the
 * constraint is not an `each` constraint or when it is asynchronous, so that the
 * caller keeps the path of the whole array.
 */
function findFailingElements(owner: object, property: string, constraintName: string, items: readonly unknown[]): number[] {
  const storage = getMetadataStorage();
  // Same arguments that validateSync uses when no validation groups are given.
  const metadatas = storage
    .getTargetValidationMetadatas(owner.constructor, '', false, false)
    .filter((metadata) => metadata.propertyName === property && metadata.each && metadata.type === ValidationTypes.CUSTOM_VALIDATION);

  const failing = new Set<number>();
  for (const metadata of metadatas) {
    for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
      // Same rule as class-validator for the key of `ValidationError.constraints`.
      const name = constraint.name || metadata.type;
      if (constraint.async || name !== constraintName) {
        continue;
      }
      items.forEach((item, index) => {
        const args: ValidationArguments = {
          value: item,
          constraints: metadata.constraints,
          targetName: owner.constructor.name,
          object: owner,
          property,
        };
        if (constraint.instance.validate(item, args) === false) {
          failing.add(index);
        }
      });
    }
  }

  return Array.from(failing).sort((a, b) => a - b);
}

function addMessage(messagesByPath: Map<string, string[]>, path: string, message: string): void {
  const messages = messagesByPath.get(path);
  if (messages === undefined) {
    messagesByPath.set(path, [message]);
  } else {
    messages.push(message);
  }
}
