/**
 * One event as handlers see it: the payload plus the metadata that travels beside it as separate
 * stream entry fields.
 */
export interface EventEnvelope<TPayload = unknown> {
  /** Unique event id (a UUID), the key for deduplication and for tracing one event. */
  readonly id: string;
  /** Event type from the catalog, such as `topic.approved`. */
  readonly type: string;
  /** Name of the service that published the event. */
  readonly source: string;
  /** Time of publishing, as an ISO 8601 string in UTC. */
  readonly occurredAt: string;
  /** Schema version of the payload, starting at 1. */
  readonly schemaVersion: number;
  /** Id shared by every event of one chain; a root event uses its own id. */
  readonly correlationId: string;
  /** Id of the event whose handling published this one, absent for a root event. */
  readonly causationId?: string;
  /** The event data, parsed from JSON. */
  readonly payload: TPayload;
}

/** Names of the stream entry fields, as RedisInsight shows them in its columns. */
export const ENVELOPE_FIELDS = {
  type: 'type',
  id: 'id',
  source: 'source',
  occurredAt: 'occurredAt',
  schemaVersion: 'schemaVersion',
  correlationId: 'correlationId',
  causationId: 'causationId',
  payload: 'payload',
} as const;

/** Links of a published event to earlier ones. */
export interface EventLineage {
  /** Correlation id to carry; defaults to the cause's, or to the new event's own id. */
  correlationId?: string;
  /** Id of the event that caused this one; defaults to the cause's id. */
  causationId?: string;
  /** The event being handled when this one is published: links both ids in one step. */
  causedBy?: Pick<EventEnvelope, 'id' | 'correlationId'>;
}
