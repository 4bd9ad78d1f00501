import type { Redis } from 'ioredis';
import { encodeDeadLetter, MAX_DEAD_LETTER_STACK_LENGTH, type DeadLetterReason } from '../dead-letter/dead-letter-entry.js';
import type { ResolvedConsumerOptions } from '../options/index.js';

/** Record of an event that no attempt could handle. */
export interface DeadLetterInput {
  readonly entryId: string;
  readonly fields: readonly string[];
  readonly attempts: number;
  readonly reason: DeadLetterReason;
  readonly error: string;
  readonly stack?: string | undefined;
}

/**
 * Appends the dead letter, then acknowledges the entry. A script, unlike MULTI, stops at a failed
 * XADD (for example WRONGTYPE on the dead-letter key), so the entry is never acknowledged without
 * its copy. Redis also runs the script whole, so a crash of this process cannot split the steps.
 */
// NOTE: Lua's unpack() fails with "too many results to unpack" somewhere between 7,000 and 8,100
// values on Redis 7.0 (measured). An entry with that many fields stays pending, and the error is logged.
const DEAD_LETTER_SCRIPT = `
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
`;

/** Moves an entry to the dead-letter stream and acknowledges it in its group, atomically. */
export async function moveToDeadLetter(commands: Redis, options: ResolvedConsumerOptions, input: DeadLetterInput): Promise<void> {
  const fields = encodeDeadLetter(
    {
      originalEntryId: input.entryId,
      stream: options.stream,
      group: options.group,
      consumer: options.consumer,
      attempts: input.attempts,
      reason: input.reason,
      error: input.error,
      stack: (input.stack ?? '').slice(0, MAX_DEAD_LETTER_STACK_LENGTH),
      deadLetteredAt: new Date().toISOString(),
    },
    input.fields,
  );
  // NOTE: on Redis Cluster both keys must share a hash tag ({...}) in their names; otherwise the
  // script fails with CROSSSLOT and the entry stays pending.
  await commands.eval(DEAD_LETTER_SCRIPT, 2, options.stream, options.deadLetterStream, options.group, input.entryId, ...fields);
}
