import { plainToInstance } from 'class-transformer';
import type { ClassTransformOptions } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { ValidatorOptions } from 'class-validator';

import type { BuiltInEventType, EventPayload, EventType, PayloadClass } from './event-catalog.js';
import {
  AnalyticsHookWeakPayload,
  AnalyticsNicheUnderperformingPayload,
  CommunityTopicExportedPayload,
  LocalizationCompletedPayload,
  MediaReadyPayload,
  ScriptApprovedPayload,
  ScriptHookFlaggedPayload,
  TopicApprovedPayload,
  TopicRejectedPayload,
  VoiceGeneratedPayload,
} from './payloads/index.js';
import { EventsError } from '../errors/index.js';
import { flattenValidationErrors } from './validation-errors.js';
import type { PayloadFieldError } from './validation-errors.js';

export type { PayloadFieldError } from './validation-errors.js';

/** Contract of one event: its name, payload class, producer and consumers. */
export interface EventDefinition<T extends EventType = EventType> {
  /** Event name, lower-case dot-separated segments such as `topic.approved`. */
  readonly type: T;
  /** Class whose class-validator decorators define the payload. */
  readonly payloadClass: PayloadClass<EventPayload<T>>;
  /** Service that publishes the event. */
  readonly source: string;
  /** Services that consume the event. Empty when nothing reacts to it yet. */
  readonly consumers: readonly string[];
  /** One-sentence summary of what the event means. */
  readonly description: string;
  /** Payload schema version, a positive integer raised on breaking payload changes. */
  readonly schemaVersion: number;
}

/** Result of `validatePayload`. */
export type PayloadValidationResult<P> =
  { readonly ok: true; readonly value: P } | { readonly ok: false; readonly errors: PayloadFieldError[] };

/** Error thrown by `EventRegistry.register` for an invalid or duplicate definition. */
export class EventRegistryError extends EventsError {
  override readonly name = 'EventRegistryError';
}

/**
 * Validator options for every payload.
 *
 * - `whitelist: true` strips properties that have no validation decorator, so a
 *   consumer receives only the fields its payload class declares.
 * - `forbidNonWhitelisted: false` lets a producer add a field before its consumers
 *   upgrade. Adding an optional field is therefore not a breaking change, and
 *   `schemaVersion` stays the same.
 * - `forbidUnknownValues: true` rejects nested values that are not instances of a
 *   decorated class, such as a nested object without `@Type`.
 * - `validationError` drops `target` and `value` from errors so that payload
 *   contents do not end up in logs.
 */
export const PAYLOAD_VALIDATOR_OPTIONS: Readonly<ValidatorOptions> = Object.freeze({
  whitelist: true,
  forbidNonWhitelisted: false,
  forbidUnknownValues: true,
  validationError: Object.freeze({ target: false, value: false }),
});

/**
 * Transform options for every payload. Implicit conversion is off, so the string
 * `"32"` fails a number field rather than becoming 32.
 */
export const PAYLOAD_TRANSFORM_OPTIONS: Readonly<ClassTransformOptions> = Object.freeze({
  enableImplicitConversion: false,
  exposeDefaultValues: false,
});

/**
 * Converts `plain` to an instance of `payloadClass` and validates it.
 *
 * On success `value` is a new instance that contains only the declared fields.
 * `plain` itself is never modified.
 *
 * Keys such as `__proto__` and `constructor` cannot change a prototype, for three
 * reasons:
 * - `JSON.parse` stores `"__proto__"` as an own data property, not as the prototype.
 * - class-transformer 0.5.1 skips the keys `__proto__` and `constructor` at every
 *   depth and writes only into new instances.
 * - The whitelist then deletes every other undeclared key.
 * The tests in `test/catalog` check this, so a dependency upgrade that changes it fails them.
 */
export function validatePayload<P extends object>(payloadClass: PayloadClass<P>, plain: unknown): PayloadValidationResult<P> {
  // plainToInstance maps an array to an array of instances, and passes primitives
  // through, so anything but a non-array object is rejected here.
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    const received = plain === null ? 'null' : Array.isArray(plain) ? 'an array' : typeof plain;
    return {
      ok: false,
      errors: [{ path: '', constraints: [`payload must be an object, received ${received}`] }],
    };
  }

  const instance = plainToInstance(payloadClass, plain, PAYLOAD_TRANSFORM_OPTIONS);
  const errors = validateSync(instance, PAYLOAD_VALIDATOR_OPTIONS);
  if (errors.length > 0) {
    return { ok: false, errors: flattenValidationErrors(errors, instance) };
  }

  return { ok: true, value: instance };
}

/** Lower-case segments of letters, digits and underscores, each starting with a letter, joined by dots. */
const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$/;

/** Returns whether `type` is a valid event name, such as `topic.approved` or `analytics.hook_weak`. */
export function isValidEventType(type: string): boolean {
  return EVENT_TYPE_PATTERN.test(type);
}

/**
 * Event definitions by name. `register` rejects invalid and duplicate definitions,
 * and stores a frozen copy so that later changes to the argument have no effect.
 */
export class EventRegistry {
  private readonly definitions = new Map<string, EventDefinition>();

  /**
   * Adds `definition` and returns this registry.
   *
   * @throws EventRegistryError when the name is invalid or already registered, or
   *   when another field is invalid.
   */
  register<T extends EventType>(definition: EventDefinition<T>): this {
    assertValidDefinition(definition);

    const existing = this.definitions.get(definition.type);
    if (existing !== undefined) {
      throw new EventRegistryError(
        `Event type "${definition.type}" is already registered by source "${existing.source}". ` +
          'Choose a different name, or build a new registry instead of registering it twice.',
      );
    }

    const frozen: EventDefinition = Object.freeze({
      type: definition.type,
      payloadClass: definition.payloadClass,
      source: definition.source,
      consumers: Object.freeze([...definition.consumers]),
      description: definition.description,
      schemaVersion: definition.schemaVersion,
    });
    this.definitions.set(frozen.type, frozen);

    return this;
  }

  /** Returns the definition of `type`, or `undefined` when it is not registered. */
  get<T extends EventType>(type: T): EventDefinition<T> | undefined {
    // `register` stores each definition under its own `type`, so the entry for T is an EventDefinition<T>.
    return this.definitions.get(type) as EventDefinition<T> | undefined;
  }

  /** Returns whether `type` is registered. Accepts any string, such as a name read from a stream entry. */
  has(type: string): type is EventType {
    return this.definitions.has(type);
  }

  /** Returns all definitions in registration order. */
  list(): EventDefinition[] {
    return Array.from(this.definitions.values());
  }
}

/**
 * Throws EventRegistryError unless every field of `definition` is valid. The
 * checks repeat the static types because JavaScript callers and casts bypass them.
 */
function assertValidDefinition(definition: EventDefinition): void {
  const { type } = definition;
  const fail = (problem: string): never => {
    throw new EventRegistryError(`Invalid event definition "${String(type)}": ${problem}`);
  };

  if (typeof type !== 'string' || !isValidEventType(type)) {
    fail('the name must be lower-case segments of letters, digits and underscores separated by dots, ' + 'such as "topic.approved".');
  }
  if (typeof definition.payloadClass !== 'function') {
    fail('payloadClass must be a class.');
  }
  if (typeof definition.source !== 'string' || definition.source.trim() === '') {
    fail('source must be a non-empty string naming the publishing service.');
  }
  if (
    !Array.isArray(definition.consumers) ||
    !definition.consumers.every((consumer) => typeof consumer === 'string' && consumer.trim() !== '')
  ) {
    fail('consumers must be an array of non-empty service names (it may be empty).');
  }
  if (typeof definition.description !== 'string') {
    fail('description must be a string.');
  }
  if (!Number.isInteger(definition.schemaVersion) || definition.schemaVersion < 1) {
    fail(`schemaVersion must be a positive integer, received ${String(definition.schemaVersion)}.`);
  }
}

/** Returns `definition` checked against the built-in catalog, so type and payload class match. */
function defineBuiltIn<T extends BuiltInEventType>(definition: EventDefinition<T>): EventDefinition<T> {
  return Object.freeze({ ...definition, consumers: Object.freeze([...definition.consumers]) });
}

/** Definitions of the events that ship with this package, in pipeline order. */
export const BUILT_IN_EVENT_DEFINITIONS: readonly EventDefinition<BuiltInEventType>[] = Object.freeze([
  defineBuiltIn({
    type: 'topic.approved',
    payloadClass: TopicApprovedPayload,
    source: 'Topic Engine',
    consumers: ['Script Engine'],
    description: 'A topic was approved, and the Script Engine generates its script automatically.',
    schemaVersion: 1,
  }),
  defineBuiltIn({
    type: 'topic.rejected',
    payloadClass: TopicRejectedPayload,
    source: 'Topic Engine',
    consumers: [],
    description: 'A topic was rejected and will not be produced.',
    schemaVersion: 1,
  }),
  defineBuiltIn({
    type: 'script.approved',
    payloadClass: ScriptApprovedPayload,
    source: 'Script Engine',
    consumers: ['Voice Engine', 'Media Engine'],
    description: 'A script was approved, and voice-over and media production start in parallel.',
    schemaVersion: 1,
  }),
  defineBuiltIn({
    type: 'script.hook_flagged',
    payloadClass: ScriptHookFlaggedPayload,
    source: 'Analytics',
    consumers: ['Script Engine'],
    description: 'Analytics flagged the hook of a script, and the Script Engine revises it.',
    schemaVersion: 1,
  }),
  defineBuiltIn({
    type: 'voice.generated',
    payloadClass: VoiceGeneratedPayload,
    source: 'Voice Engine',
    consumers: ['Media Engine'],
    description: 'The voice-over of a script is ready for the Media Engine.',
    schemaVersion: 1,
  }),
  defineBuiltIn({
    type: 'media.ready',
    payloadClass: MediaReadyPayload,
    source: 'Media Engine',
    consumers: ['Localization'],
    description: 'A rendered video is ready, and Localization starts Stage 1 automatically.',
    schemaVersion: 1,
  }),
  defineBuiltIn({
    type: 'analytics.hook_weak',
    payloadClass: AnalyticsHookWeakPayload,
    source: 'Analytics',
    consumers: ['Script Engine'],
    description: 'Viewers of a published video leave during the hook more often than the threshold allows.',
    schemaVersion: 1,
  }),
  defineBuiltIn({
    type: 'analytics.niche_underperforming',
    payloadClass: AnalyticsNicheUnderperformingPayload,
    source: 'Analytics',
    consumers: ['Topic Engine'],
    description: 'A niche performs below the baseline, and the Topic Engine lowers its niche score.',
    schemaVersion: 1,
  }),
  defineBuiltIn({
    type: 'community.topic_exported',
    payloadClass: CommunityTopicExportedPayload,
    source: 'Community',
    consumers: ['Topic Engine'],
    description: 'A community topic suggestion was exported to the Topic Engine.',
    schemaVersion: 1,
  }),
  defineBuiltIn({
    type: 'localization.completed',
    payloadClass: LocalizationCompletedPayload,
    source: 'Localization',
    consumers: ['Admin UI'],
    description: 'Localized videos are ready, and the Admin UI shows a notification.',
    schemaVersion: 1,
  }),
]);

/** Creates a new registry that contains the ten built-in events. Each call returns an independent registry. */
export function defaultEventRegistry(): EventRegistry {
  const registry = new EventRegistry();
  for (const definition of BUILT_IN_EVENT_DEFINITIONS) {
    registry.register(definition);
  }
  return registry;
}
