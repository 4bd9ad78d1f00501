/** One entry as XREADGROUP returns it: fields are null when the entry was deleted while pending. */
export type StreamEntry = readonly [entryId: string, fields: string[] | null];

/** Extracts the entries of the single stream read from an XREADGROUP reply (null on timeout). */
export function entriesOf(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) {
    return [];
  }
  const streamReply: unknown = reply[0];
  if (!Array.isArray(streamReply) || !Array.isArray(streamReply[1])) {
    return [];
  }
  return streamReply[1] as StreamEntry[];
}

/** Maps entry ids to delivery counts from an extended XPENDING reply. */
export function deliveryCountsOf(reply: unknown): Map<string, number> {
  const counts = new Map<string, number>();
  if (!Array.isArray(reply)) {
    return counts;
  }
  for (const row of reply) {
    if (Array.isArray(row) && typeof row[0] === 'string') {
      counts.set(row[0], Number(row[3]));
    }
  }
  return counts;
}
