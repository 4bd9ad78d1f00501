/** Result of `publish()`, available once Redis has stored the event. */
export interface PublishResult {
  /** The event's own id (a UUID), carried in the `id` entry field. */
  readonly eventId: string;
  /** The stream entry id that Redis assigned, such as `1700000000000-0`. */
  readonly entryId: string;
}
