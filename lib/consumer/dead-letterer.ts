import type { Redis } from 'ioredis';
import { encodeDeadLetter, MAX_DEAD_LETTER_STACK_LENGTH, type DeadLetterReason } from '../dead-letter/dead-letter-entry.js';
import type { ResolvedConsumerOptions } from '../options/index.js';

/** What to record about an event that is given up on. */
export interface DeadLetterInput {
  readonly entryId: string;
  readonly fields: readonly string[];
  readonly attempts: number;
  readonly reason: DeadLetterReason;
  readonly error: string;
  readonly stack?: string | undefined;
}

/**
 * Moves an entry to the dead-letter stream and acknowledges it in its group in one MULTI/EXEC,
 * so a crash between the two steps cannot lose the event or leave it in both places.
 */
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
  // NOTE: on Redis Cluster the two keys sit in different slots unless the stream names share a
  // hash tag ({...}); MULTI then fails with CROSSSLOT and the entry stays pending.
  const results = await commands.multi().xadd(options.deadLetterStream, '*', ...fields).xack(options.stream, options.group, input.entryId).exec();
  const failure = results?.find(([error]) => error !== null)?.[0];
  if (results === null || failure) {
    throw failure ?? new Error('MULTI was aborted');
  }
}
