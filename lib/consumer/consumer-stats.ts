/** Counters of what one consumer did since it started; read them with `stats()`. */
export interface ConsumerStats {
  /** Events whose handlers all succeeded (acknowledged). */
  handled: number;
  /** Events acknowledged without work because the group has no handler for their type. */
  skipped: number;
  /** Handler failures that left the event pending for another attempt. */
  failed: number;
  /** Events moved to the dead-letter stream. */
  deadLettered: number;
  /** Pending entries taken back by this consumer: its own failed entries for a retry, and abandoned entries of other consumers. */
  claimed: number;
  /** Pending entries found deleted or trimmed from the stream, and cleared. */
  deletedWhilePending: number;
  /** Failed reads and recoveries of the read loop. */
  readErrors: number;
  /** Idle consumers deleted from the group. */
  consumersRemoved: number;
}

export function emptyStats(): ConsumerStats {
  return { handled: 0, skipped: 0, failed: 0, deadLettered: 0, claimed: 0, deletedWhilePending: 0, readErrors: 0, consumersRemoved: 0 };
}
