import { ENVELOPE_FIELDS, type EventEnvelope } from './event-envelope.js';

/** Reason a stream entry could not be turned into an envelope. */
export type DecodeFailureReason = 'missing-field' | 'invalid-field' | 'invalid-json';

export type DecodeResult =
  | { readonly ok: true; readonly envelope: EventEnvelope }
  | { readonly ok: false; readonly reason: DecodeFailureReason; readonly message: string; readonly fields: ReadonlyMap<string, string> };

const REQUIRED_FIELDS = [
  ENVELOPE_FIELDS.id,
  ENVELOPE_FIELDS.type,
  ENVELOPE_FIELDS.source,
  ENVELOPE_FIELDS.occurredAt,
  ENVELOPE_FIELDS.payload,
] as const;

/**
 * Parses the field-value list of one stream entry. The fields go into a Map and the payload
 * through `JSON.parse`, which stores keys such as `__proto__` as plain own properties, so no
 * entry can change an object prototype here.
 */
export function decodeEntry(rawFields: readonly string[]): DecodeResult {
  const fields = new Map<string, string>();
  for (let index = 0; index + 1 < rawFields.length; index += 2) {
    fields.set(rawFields[index]!, rawFields[index + 1]!);
  }

  for (const name of REQUIRED_FIELDS) {
    if (!fields.get(name)) {
      return { ok: false, reason: 'missing-field', message: `Stream entry has no "${name}" field.`, fields };
    }
  }

  const versionText = fields.get(ENVELOPE_FIELDS.schemaVersion) ?? '1';
  const schemaVersion = Number(versionText);
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1) {
    return {
      ok: false,
      reason: 'invalid-field',
      message: `Stream entry field "schemaVersion" must be a positive integer, got ${JSON.stringify(versionText)}.`,
      fields,
    };
  }

  let payload: unknown;
  try {
    payload = JSON.parse(fields.get(ENVELOPE_FIELDS.payload)!);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: 'invalid-json', message: `Stream entry field "payload" is not valid JSON: ${detail}`, fields };
  }

  const id = fields.get(ENVELOPE_FIELDS.id)!;
  const causationId = fields.get(ENVELOPE_FIELDS.causationId);
  const envelope: EventEnvelope = {
    id,
    type: fields.get(ENVELOPE_FIELDS.type)!,
    source: fields.get(ENVELOPE_FIELDS.source)!,
    occurredAt: fields.get(ENVELOPE_FIELDS.occurredAt)!,
    schemaVersion,
    correlationId: fields.get(ENVELOPE_FIELDS.correlationId) || id,
    ...(causationId ? { causationId } : {}),
    payload,
  };
  return { ok: true, envelope };
}
