/**
 * Bookkeeping for the fault tests: which events were published, handled and dead-lettered,
 * and a reconciliation that turns those sets into the numbers each test asserts.
 */
import { Redis, type RedisOptions } from 'ioredis';
import {
  decodeDeadLetter,
  ENVELOPE_FIELDS,
  EventConsumer,
  EventPublisher,
  PublishError,
  type ConsumerOptions,
  type DeadLetterReason,
} from '../../lib/index.js';

/** Payload of the fault tests' events, whose types are outside the event catalog. */
export interface FaultPayload {
  readonly sequence: number;
  /** Makes the random-failure handler fail on every attempt. */
  readonly alwaysFail?: boolean;
}

/** Maps any event type to `FaultPayload`. Publishers and consumers turn strict catalog checks off. */
export type FaultCatalog = Record<string, FaultPayload>;

/** Opens a publisher for fault-test events on `url`. */
export function faultPublisher(url: string, stream: string): EventPublisher<FaultCatalog> {
  return new EventPublisher<FaultCatalog>('fault-test', { redis: url, stream, strict: false });
}

/** Consumer options shared by the in-process fault tests: short reads and fast claims. */
export const FAST_CONSUMER_OPTIONS = {
  strict: false,
  startFrom: 'all',
  blockMs: 100,
  batchSize: 20,
  concurrency: 4,
  claimIntervalMs: 50,
  claimIdleMs: 500,
  shutdownTimeoutMs: 5_000,
  // A handler that never throws reaches maxAttempts only when deliveries are counted without
  // attempts, so a dead letter in a test whose handler cannot fail shows that bug.
  retry: { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: 20 },
} as const satisfies ConsumerOptions;

/**
 * Second successful runs of one consumer's events that the race reproduced in
 * delivery-bugs.spec.ts may add: entries that wait in a read batch for a handler slot longer than
 * the retry delay are taken back and run twice. The bound assumes one such batch per consumer. It
 * is an estimate, not a guarantee: three runs of this folder at once on a 2-core machine stayed below it.
 */
export const RACE_DUPLICATES_PER_CONSUMER = FAST_CONSUMER_OPTIONS.batchSize;

/** Opens a plain client for inspecting or disturbing a throwaway server, outside the code under test. */
export function adminClient(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, options);
  // Restarts and killed connections are the point of these tests, and ioredis reconnects by itself.
  client.on('error', () => undefined);
  return client;
}

/** Returns the number of entries of a group that were delivered and not acknowledged. */
export async function pendingCount(client: Redis, stream: string, group: string): Promise<number> {
  const summary = await client.xpending(stream, group);
  return Number(summary[0]);
}

/** Successful handler runs per event id, recorded by in-process handlers. */
export class HandledLedger {
  readonly counts = new Map<string, number>();

  record(eventId: string): void {
    this.counts.set(eventId, (this.counts.get(eventId) ?? 0) + 1);
  }

  get distinct(): number {
    return this.counts.size;
  }

  has(eventId: string): boolean {
    return this.counts.has(eventId);
  }
}

/** Creates an EventConsumer whose handler of `type` yields once, then records the event id. */
export function recordingConsumer(
  ledger: HandledLedger,
  type: string,
  group: string,
  name: string,
  options: ConsumerOptions,
): EventConsumer<FaultCatalog> {
  return new EventConsumer<FaultCatalog>(group, name, { ...FAST_CONSUMER_OPTIONS, ...options }).on(type, async (event) => {
    // Yielding once keeps acknowledgements in flight while the connections are disturbed.
    await new Promise((resolve) => setImmediate(resolve));
    ledger.record(event.id);
  });
}

/**
 * Publishes events one after another, awaiting each, until stopped or `maxEvents` calls were
 * made. A rejected publish is recorded with its event id, and the loop goes on with a new event
 * as a service would. Whether the rejected one reached Redis anyway is decided at the end by
 * reading the stream.
 */
export class PublishLoop {
  readonly accepted: string[] = [];
  readonly rejected: Array<{ eventId: string; message: string }> = [];
  private stopRequested = false;
  private readonly finished: Promise<void>;

  constructor(
    private readonly publisher: EventPublisher<FaultCatalog>,
    private readonly type: string,
    private readonly maxEvents: number,
  ) {
    this.finished = this.run();
  }

  /** Number of publish calls that settled, accepted or rejected. */
  get attempts(): number {
    return this.accepted.length + this.rejected.length;
  }

  /** Stops after the publish in progress and resolves once it settled. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    await this.finished;
  }

  /** Resolves when the loop ended by itself after `maxEvents` calls. */
  done(): Promise<void> {
    return this.finished;
  }

  private async run(): Promise<void> {
    for (let sequence = 0; sequence < this.maxEvents && !this.stopRequested; sequence += 1) {
      try {
        const { eventId } = await this.publisher.publish(this.type, { sequence });
        this.accepted.push(eventId);
      } catch (error) {
        if (!(error instanceof PublishError)) {
          throw error;
        }
        this.rejected.push({ eventId: error.eventId, message: error.message });
      }
    }
  }
}

/** Reads the value of one field from a flat field-value list, as stream entries store them. */
export function fieldValue(fields: readonly string[], name: string): string | undefined {
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] === name) {
      return fields[index + 1];
    }
  }
  return undefined;
}

/** Counts the entries of a stream by event id. A count above 1 means one event was appended twice. */
export async function streamEntriesByEventId(client: Redis, stream: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const pageSize = 1_000;
  let start = '-';
  // Bounded: every page moves `start` past its last entry, and a short page ends the scan.
  for (;;) {
    const page = (await client.xrange(stream, start, '+', 'COUNT', pageSize)) as Array<[string, string[]]>;
    for (const [, fields] of page) {
      const eventId = fieldValue(fields, ENVELOPE_FIELDS.id);
      if (eventId !== undefined) {
        counts.set(eventId, (counts.get(eventId) ?? 0) + 1);
      }
    }
    if (page.length < pageSize) {
      return counts;
    }
    start = `(${page[page.length - 1]![0]}`;
  }
}

/** One dead letter reduced to what the fault tests compare. */
export interface DeadLetterSummary {
  readonly eventId: string | undefined;
  readonly originalEntryId: string;
  readonly group: string;
  readonly reason: DeadLetterReason;
  readonly attempts: number;
  readonly error: string;
}

/** Reads every dead letter of a stream, oldest first. */
export async function readDeadLetters(client: Redis, deadLetterStream: string): Promise<DeadLetterSummary[]> {
  const entries = (await client.xrange(deadLetterStream, '-', '+')) as Array<[string, string[]]>;
  return entries.map(([id, fields]) => {
    const letter = decodeDeadLetter(id, fields);
    return {
      eventId: fieldValue(letter.originalFields, ENVELOPE_FIELDS.id),
      originalEntryId: letter.originalEntryId,
      group: letter.group,
      reason: letter.reason,
      attempts: letter.attempts,
      error: letter.error,
    };
  });
}

/** Numbers that one fault test reports and asserts. */
export interface Reconciliation {
  /** Events that count as published: accepted, or rejected but found in the stream. */
  readonly published: number;
  /** Published events neither handled nor dead-lettered. */
  readonly lost: string[];
  /** Published events found in the dead-letter stream. */
  readonly deadLettered: string[];
  /** Successful handler runs beyond one per stream entry of the event. */
  readonly duplicates: number;
  /** Events whose handler succeeded more often than the stream contains entries of them. */
  readonly duplicatedEvents: string[];
  /** Extra stream entries of one event, left by a publish that Redis stored twice. */
  readonly streamDuplicates: number;
}

export interface ReconcileInput {
  readonly published: Iterable<string>;
  readonly handled: ReadonlyMap<string, number>;
  readonly deadLettered: Iterable<string | undefined>;
  /** Entries per event id. An event stored twice may be handled twice without a bus duplicate. */
  readonly entriesByEventId?: ReadonlyMap<string, number>;
}

/** Compares published, handled and dead-lettered event ids. */
export function reconcile({ published, handled, deadLettered, entriesByEventId }: ReconcileInput): Reconciliation {
  const publishedIds = new Set(published);
  const deadIds = new Set([...deadLettered].filter((id): id is string => id !== undefined && publishedIds.has(id)));
  const lost = [...publishedIds].filter((id) => !handled.has(id) && !deadIds.has(id));
  let duplicates = 0;
  const duplicatedEvents: string[] = [];
  for (const [eventId, count] of handled) {
    const allowed = Math.max(1, entriesByEventId?.get(eventId) ?? 1);
    if (count > allowed) {
      duplicates += count - allowed;
      duplicatedEvents.push(eventId);
    }
  }
  let streamDuplicates = 0;
  for (const count of entriesByEventId?.values() ?? []) {
    streamDuplicates += Math.max(0, count - 1);
  }
  return { published: publishedIds.size, lost, deadLettered: [...deadIds], duplicates, duplicatedEvents, streamDuplicates };
}

/**
 * Returns the ids that count as published: every accepted publish, and every rejected one that
 * Redis stored anyway (its reply was lost), which consumers then see like any other event.
 */
export function publishedIds(
  loop: PublishLoop,
  entriesByEventId: ReadonlyMap<string, number>,
): { ids: string[]; rejectedButStored: number } {
  const storedRejected = loop.rejected.filter(({ eventId }) => entriesByEventId.has(eventId)).map(({ eventId }) => eventId);
  return { ids: [...loop.accepted, ...storedRejected], rejectedButStored: storedRejected.length };
}

/** Writes one line with a test's measured numbers, so a run shows them next to the verdict. */
export function reportNumbers(testName: string, numbers: Record<string, number | string>): void {
  const text = Object.entries(numbers)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
  process.stdout.write(`[fault] ${testName}: ${text}\n`);
}
