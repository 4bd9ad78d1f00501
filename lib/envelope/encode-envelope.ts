import { randomUUID } from 'node:crypto';
import { ENVELOPE_FIELDS, type EventEnvelope, type EventLineage } from './event-envelope.js';

/** Input for a new envelope; the id and time are generated unless a caller sets them. */
export interface NewEnvelope<TPayload> extends EventLineage {
  type: string;
  source: string;
  payload: TPayload;
  schemaVersion?: number;
  id?: string;
  occurredAt?: Date;
}

/** Builds an envelope with a fresh id and time, and the lineage taken from its cause. */
export function createEnvelope<TPayload>(input: NewEnvelope<TPayload>): EventEnvelope<TPayload> {
  const id = input.id ?? randomUUID();
  const causationId = input.causationId ?? input.causedBy?.id;
  return {
    id,
    type: input.type,
    source: input.source,
    occurredAt: (input.occurredAt ?? new Date()).toISOString(),
    schemaVersion: input.schemaVersion ?? 1,
    correlationId: input.correlationId ?? input.causedBy?.correlationId ?? id,
    ...(causationId === undefined ? {} : { causationId }),
    payload: input.payload,
  };
}

/**
 * Flattens an envelope into XADD field-value pairs. `serializedPayload` is the payload as JSON,
 * produced once by the caller so its size can be checked before writing.
 */
export function encodeEnvelope(envelope: EventEnvelope, serializedPayload: string): string[] {
  const fields = [
    ENVELOPE_FIELDS.type,
    envelope.type,
    ENVELOPE_FIELDS.id,
    envelope.id,
    ENVELOPE_FIELDS.source,
    envelope.source,
    ENVELOPE_FIELDS.occurredAt,
    envelope.occurredAt,
    ENVELOPE_FIELDS.schemaVersion,
    String(envelope.schemaVersion),
    ENVELOPE_FIELDS.correlationId,
    envelope.correlationId,
  ];
  if (envelope.causationId !== undefined) {
    fields.push(ENVELOPE_FIELDS.causationId, envelope.causationId);
  }
  fields.push(ENVELOPE_FIELDS.payload, serializedPayload);
  return fields;
}
