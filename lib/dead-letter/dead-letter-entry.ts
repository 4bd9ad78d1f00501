/** Reason an event was moved to the dead-letter stream. */
export type DeadLetterReason =
  /** The handler failed on the last allowed attempt. */
  | 'max-attempts'
  /** The handler threw `NonRetryableEventError`, so no retry could help. */
  | 'non-retryable'
  /** The entry is not an event: missing fields or a payload that is not JSON. */
  | 'malformed'
  /** The payload failed validation against its catalog class. */
  | 'invalid-payload'
  /** The event type is not in the catalog and strict mode is on. */
  | 'unknown-type'
  /** The entry is larger than the configured size limit. */
  | 'too-large';

/** Dead-letter metadata, stored as `dlq.*` fields in front of the original entry's fields. */
export interface DeadLetterMetadata {
  /** Id of the entry in the original stream, such as `1700000000000-0`. */
  readonly originalEntryId: string;
  /** Key of the original stream. */
  readonly stream: string;
  /** Consumer group that gave up on the event. */
  readonly group: string;
  /** Consumer that moved it. */
  readonly consumer: string;
  /** Deliveries to the group, including the last one. */
  readonly attempts: number;
  readonly reason: DeadLetterReason;
  /** Message of the last error. */
  readonly error: string;
  /** Stack of the last error, cut to `MAX_DEAD_LETTER_STACK_LENGTH` characters. */
  readonly stack: string;
  /** Time of the move, ISO 8601 in UTC. */
  readonly deadLetteredAt: string;
}

/** Maximum length of the error stack kept in a dead letter, in characters. */
export const MAX_DEAD_LETTER_STACK_LENGTH = 4_000;

/** Prefix of the metadata fields, which come before the original fields. */
export const DEAD_LETTER_FIELD_PREFIX = 'dlq.';

const METADATA_KEYS = ['originalEntryId', 'stream', 'group', 'consumer', 'attempts', 'reason', 'error', 'stack', 'deadLetteredAt'] as const;

/** Flattens metadata and the original fields into XADD field-value pairs, metadata first. */
export function encodeDeadLetter(metadata: DeadLetterMetadata, originalFields: readonly string[]): string[] {
  const fields: string[] = [];
  for (const key of METADATA_KEYS) {
    fields.push(`${DEAD_LETTER_FIELD_PREFIX}${key}`, String(metadata[key]));
  }
  return [...fields, ...originalFields];
}

/** A dead letter read back from its stream. */
export interface DeadLetter extends DeadLetterMetadata {
  /** Id of the dead letter in the dead-letter stream. */
  readonly id: string;
  /** The original entry's field-value pairs, as they were in the original stream. */
  readonly originalFields: readonly string[];
  /** Event type from the original `type` field; absent when the entry had none. */
  readonly eventType?: string;
  /** Event id from the original `id` field; absent when the entry had none. */
  readonly eventId?: string;
}

/**
 * Splits a dead-letter entry into metadata and original fields. The metadata is the leading run
 * of `dlq.` fields, so an original field with that prefix later in the list stays an original.
 */
export function decodeDeadLetter(id: string, fields: readonly string[]): DeadLetter {
  const metadata = new Map<string, string>();
  let index = 0;
  while (index + 1 < fields.length && fields[index]!.startsWith(DEAD_LETTER_FIELD_PREFIX) && metadata.size < METADATA_KEYS.length) {
    metadata.set(fields[index]!.slice(DEAD_LETTER_FIELD_PREFIX.length), fields[index + 1]!);
    index += 2;
  }
  return {
    id,
    originalEntryId: metadata.get('originalEntryId') ?? '',
    stream: metadata.get('stream') ?? '',
    group: metadata.get('group') ?? '',
    consumer: metadata.get('consumer') ?? '',
    attempts: Number(metadata.get('attempts') ?? 0),
    reason: (metadata.get('reason') ?? 'malformed') as DeadLetterReason,
    error: metadata.get('error') ?? '',
    stack: metadata.get('stack') ?? '',
    deadLetteredAt: metadata.get('deadLetteredAt') ?? '',
    originalFields: fields.slice(index),
    ...originalIds(fields.slice(index)),
  };
}

/** Default key of the dead-letter stream: the main stream's key with `:dead-letter` appended. */
export function defaultDeadLetterStream(stream: string): string {
  return `${stream}:dead-letter`;
}

/** Returns the first `type` and `id` fields of an entry, which may be malformed. */
export function originalIds(fields: readonly string[]): { eventType?: string; eventId?: string } {
  const ids: { eventType?: string; eventId?: string } = {};
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] === 'type' && ids.eventType === undefined) {
      ids.eventType = fields[index + 1]!;
    } else if (fields[index] === 'id' && ids.eventId === undefined) {
      ids.eventId = fields[index + 1]!;
    }
  }
  return ids;
}
