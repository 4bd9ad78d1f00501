import { InvalidOptionError } from '../errors/index.js';
import type { EventEnvelope } from '../envelope/index.js';
import { defaultEventRegistry, validatePayload, type EventRegistry } from './catalog-registry.js';
import { describeFieldErrors, InvalidPayloadError, UnknownEventTypeError } from './catalog-errors.js';
import type { Upcaster } from './upcaster.js';

/** Largest event payload accepted by default, in bytes of its JSON. */
export const DEFAULT_MAX_EVENT_BYTES = 1_048_576;

/** Catalog settings shared by publishers and consumers. */
export interface CatalogOptions {
  /** Event definitions to validate against. Default: a registry with the ten built-in events. */
  registry?: EventRegistry;
  /** Reject event types that the registry does not define. Default: true. */
  strict?: boolean;
  /** Largest payload, in bytes of its JSON; larger events are rejected or dead-lettered. Default: 1 MiB. */
  maxEventBytes?: number;
}

/** Reason why a consumed event cannot reach its handlers. */
export type SchemaFailure =
  | { readonly kind: 'invalid-payload' | 'unknown-type'; readonly message: string }
  /** The event's schema version is newer than this consumer's catalog; a later deployment may handle it, so it is retried. */
  | { readonly kind: 'newer-version'; readonly message: string };

export type ConsumeCheck = { readonly ok: true; readonly envelope: EventEnvelope } | ({ readonly ok: false } & SchemaFailure);

/**
 * Applies the catalog to events: checks types and payloads before publishing, and upcasts,
 * validates and transforms payloads to class instances before handlers run.
 */
export class EventSchemas {
  readonly registry: EventRegistry;
  readonly strict: boolean;
  readonly maxEventBytes: number;
  private readonly upcasters = new Map<string, Upcaster['upcast']>();

  constructor(options: CatalogOptions = {}, upcasters: readonly Upcaster[] = []) {
    this.registry = options.registry ?? defaultEventRegistry();
    if (typeof this.registry?.has !== 'function') {
      throw new InvalidOptionError('registry', options.registry, 'an EventRegistry, such as defaultEventRegistry()');
    }
    if (options.strict !== undefined && typeof options.strict !== 'boolean') {
      throw new InvalidOptionError('strict', options.strict, 'true or false');
    }
    this.strict = options.strict ?? true;
    this.maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    if (!Number.isInteger(this.maxEventBytes) || this.maxEventBytes < 1 || this.maxEventBytes > 512 * 1_048_576) {
      throw new InvalidOptionError(
        'maxEventBytes',
        options.maxEventBytes,
        'an integer from 1 to 536870912 (512 MiB, the Redis string limit)',
      );
    }
    for (const upcaster of upcasters) {
      this.addUpcaster(upcaster);
    }
  }

  /** Schema version that publishers stamp on events of this type. */
  versionOf(type: string): number {
    return this.registry.has(type) ? this.registry.get(type)!.schemaVersion : 1;
  }

  /** Throws `UnknownEventTypeError` for a type outside the catalog in strict mode. */
  assertKnownType(type: string): void {
    if (this.strict && !this.registry.has(type)) {
      throw new UnknownEventTypeError(type);
    }
  }

  /** Validates a payload before publishing and returns the instance to serialize (unknown keys stripped). */
  checkForPublish(type: string, payload: unknown): unknown {
    this.assertKnownType(type);
    if (!this.registry.has(type)) {
      return payload;
    }
    const result = validatePayload(this.registry.get(type)!.payloadClass, payload);
    if (!result.ok) {
      throw new InvalidPayloadError(type, result.errors);
    }
    return result.value;
  }

  /** Upcasts and validates a consumed event; on success the payload is an instance of its class. */
  checkForConsume(envelope: EventEnvelope): ConsumeCheck {
    const { type } = envelope;
    if (!this.registry.has(type)) {
      return this.strict ? { ok: false, kind: 'unknown-type', message: new UnknownEventTypeError(type).message } : { ok: true, envelope };
    }
    const definition = this.registry.get(type)!;
    let payload = envelope.payload;
    let version = envelope.schemaVersion;
    if (version > definition.schemaVersion) {
      return {
        ok: false,
        kind: 'newer-version',
        message: `Event ${envelope.id} of type "${type}" has schema version ${version}, newer than version ${definition.schemaVersion} that this consumer knows; deploy its new version, then the retry or a redrive handles it.`,
      };
    }
    while (version < definition.schemaVersion) {
      const upcast = this.upcasters.get(`${type}@${version}`);
      if (!upcast) {
        return {
          ok: false,
          kind: 'invalid-payload',
          message: `Event ${envelope.id} of type "${type}" has schema version ${version}, but no upcaster turns version ${version} into ${version + 1}; register one with the upcasters option.`,
        };
      }
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
        return {
          ok: false,
          kind: 'invalid-payload',
          message: `Event ${envelope.id} of type "${type}" has a payload that is not an object.`,
        };
      }
      try {
        payload = upcast(payload as Record<string, unknown>);
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        return { ok: false, kind: 'invalid-payload', message: `Upcasting "${type}" from version ${version} failed: ${detail}` };
      }
      version += 1;
    }
    const result = validatePayload(definition.payloadClass, payload);
    if (!result.ok) {
      return { ok: false, kind: 'invalid-payload', message: `Invalid payload for "${type}": ${describeFieldErrors(result.errors)}.` };
    }
    return { ok: true, envelope: { ...envelope, schemaVersion: version, payload: result.value } };
  }

  private addUpcaster(upcaster: Upcaster): void {
    const valid =
      typeof upcaster === 'object' &&
      upcaster !== null &&
      typeof upcaster.type === 'string' &&
      Number.isInteger(upcaster.fromVersion) &&
      upcaster.fromVersion >= 1 &&
      typeof upcaster.upcast === 'function';
    if (!valid) {
      throw new InvalidOptionError(
        'upcasters',
        upcaster,
        "objects like { type: 'topic.approved', fromVersion: 1, upcast: (payload) => nextPayload }",
      );
    }
    const key = `${upcaster.type}@${upcaster.fromVersion}`;
    if (this.upcasters.has(key)) {
      throw new InvalidOptionError(
        'upcasters',
        key,
        `at most one upcaster per type and version; "${upcaster.type}" from version ${upcaster.fromVersion} appears twice`,
      );
    }
    this.upcasters.set(key, upcaster.upcast);
  }
}
