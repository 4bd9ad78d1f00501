import { Logger } from '@nestjs/common';
import { createEnvelope, decodeEntry, encodeEnvelope, ENVELOPE_FIELDS, type EventEnvelope } from '../envelope/index.js';
import { EventsError, InvalidOptionError } from '../errors/index.js';
import { errorMessage } from '../logging/index.js';
import { EVENT_BUS_DEFAULTS } from '../options/defaults.js';
import { validateRedisConnection } from '../options/redis-option.js';
import { validateInteger, validateName } from '../options/validate.js';
import { openManagedConnection, type ManagedConnection, type RedisConnection } from '../redis/index.js';
import { decodeDeadLetter, defaultDeadLetterStream, type DeadLetter, type DeadLetterReason } from './dead-letter-entry.js';

/** Options of `DeadLetterStore`. */
export interface DeadLetterStoreOptions {
  /** Redis server that stores both streams. Default: `REDIS_URL`, else `redis://localhost:6379`. */
  redis?: RedisConnection;
  /** Key of the main stream, which redriven events are appended to. Default: `ai-pipeline:events`. */
  stream?: string;
  /** Key of the dead-letter stream. Default: the main stream's key with `:dead-letter` appended. */
  deadLetterStream?: string;
}

/** Criteria for selecting dead letters. A dead letter matches when it matches every field that is set. */
export interface DeadLetterFilter {
  /** Reason the event was dead-lettered. */
  reason?: DeadLetterReason;
  /** Event type, read from the original entry's `type` field. */
  type?: string;
  /** Consumer group that gave up on the event. */
  group?: string;
}

/** Options of `DeadLetterStore.list()`. */
export interface ListDeadLettersOptions extends DeadLetterFilter {
  /** Maximum number of dead letters to return, from 1 to 10000. Default: 100. */
  count?: number;
  /** Dead-letter id to continue after (exclusive), usually the last id of the previous page. */
  after?: string;
}

/** Options of `DeadLetterStore.redrive()` and `redriveAll()`. */
export interface RedriveOptions {
  /** Source stored in the redriven event. Default: the original event's source. */
  source?: string;
}

/** The event that a redrive appended to the main stream. */
export interface RedriveResult {
  /** Id (a UUID) of the new event. */
  readonly eventId: string;
  /** Stream entry id that Redis assigned to the new event, such as `1700000000000-0`. */
  readonly entryId: string;
}

/** Counts of one `redriveAll()` run. */
export interface RedriveAllResult {
  /** Dead letters appended to the main stream and removed from the dead-letter stream. */
  readonly redriven: number;
  /** Dead letters left in place because their original entry is not a valid event. */
  readonly skipped: number;
}

/** Options of `DeadLetterStore.purgeAll()`. */
export interface PurgeAllOptions {
  /** Removes only dead letters written before this time. Default: unset, which removes all of them. */
  before?: Date;
}

/** Range of `ListDeadLettersOptions.count`, and its default. */
export const DEAD_LETTER_LIST_COUNT = { min: 1, max: 10_000, default: 100 } as const;

/** Entry field that a redriven event carries: the stream entry id of the event it replaces. */
export const REDRIVEN_FROM_FIELD = 'redrivenFrom';

/** Thrown when no dead letter has the requested id. */
export class DeadLetterNotFoundError extends EventsError {
  constructor(
    readonly id: string,
    readonly deadLetterStream: string,
  ) {
    super(
      `Dead letter ${id} not found in stream "${deadLetterStream}". It may have been redriven or purged already; ` +
        'call list() to see the current ids.',
    );
  }
}

/** Thrown when a dead letter's original entry is not a valid event, so there is nothing to publish again. */
export class DeadLetterNotRedrivableError extends EventsError {
  constructor(
    readonly id: string,
    readonly deadLetterStream: string,
    readonly detail: string,
  ) {
    super(
      `Cannot redrive dead letter ${id} from stream "${deadLetterStream}": its original entry is not a valid event (${detail.replace(/\.$/, '')}). ` +
        'Inspect it with get(), then fix and republish the event yourself or remove it with purge().',
    );
  }
}

// Lists every reason once. The Record type makes the compiler flag a reason that is added to the
// union but missing here.
const KNOWN_REASONS: Record<DeadLetterReason, true> = {
  'max-attempts': true,
  'non-retryable': true,
  malformed: true,
  'invalid-payload': true,
  'unknown-type': true,
  'too-large': true,
};

/** Entries read per XRANGE while a filter skips entries, so sparse matches take few round trips. */
const FILTERED_PAGE_SIZE = 100;

const FULL_ENTRY_ID = /^\d+-\d+$/;

/**
 * Appends the redriven event and deletes the dead letter in one atomic step, and only while the
 * dead letter exists, so two concurrent redrives cannot publish it twice. A script is used instead
 * of MULTI/EXEC because a transaction cannot skip the XADD for a missing dead letter, and it runs
 * XDEL even after XADD failed, which would lose the event. In the script, a failed XADD stops it
 * before XDEL. KEYS are the dead-letter stream and the main stream. ARGV is the dead-letter id,
 * then the new entry's fields.
 * NOTE: on Redis Cluster both keys must share a hash tag ({...}), or the script fails with CROSSSLOT.
 */
const REDRIVE_SCRIPT = `
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  return false
end
local entryId = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
redis.call('XDEL', KEYS[1], ARGV[1])
return entryId
`;

/** Counts and deletes a stream key atomically. XLEN fails on a key that is not a stream, so such a key is never deleted. */
const DELETE_STREAM_SCRIPT = `
local length = redis.call('XLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return length
`;

type StreamEntry = [id: string, fields: string[]];

/**
 * Lists, inspects, redrives and purges the dead letters of one stream, for operator tools and
 * admin endpoints. The store opens one connection, or uses the ioredis instance passed in.
 */
export class DeadLetterStore {
  private readonly logger = new Logger(DeadLetterStore.name);
  private readonly connection: ManagedConnection;
  private readonly address: string;
  private closing: Promise<void> | undefined;

  /** Key of the main stream, which redriven events are appended to. */
  readonly stream: string;
  /** Key of the dead-letter stream. */
  readonly deadLetterStream: string;

  /** Validates the options (throws `InvalidOptionError`) and opens the connection. */
  constructor(options: DeadLetterStoreOptions = {}) {
    const redisOption = validateRedisConnection(options.redis);
    this.stream = validateName('stream', options.stream ?? EVENT_BUS_DEFAULTS.stream);
    this.deadLetterStream = validateName('deadLetterStream', options.deadLetterStream ?? defaultDeadLetterStream(this.stream));
    if (this.deadLetterStream === this.stream) {
      // purgeAll() would otherwise delete the main stream.
      throw new InvalidOptionError('deadLetterStream', this.deadLetterStream, `a key other than the main stream "${this.stream}"`);
    }

    this.connection = openManagedConnection(redisOption, {
      dedicated: false,
      logger: this.logger,
      label: `Dead-letter store "${this.deadLetterStream}"`,
    });
    this.address = this.connection.address;
  }

  /** Returns the number of dead letters. */
  async count(): Promise<number> {
    this.assertOpen();
    return this.connection.client.xlen(this.deadLetterStream);
  }

  /**
   * Returns dead letters oldest first, at most `count` of them. To read the next page, pass the
   * last returned id as `after`. Throws `InvalidOptionError` for an invalid option.
   */
  async list(options: ListDeadLettersOptions = {}): Promise<DeadLetter[]> {
    this.assertOpen();
    const count = validateInteger('count', options.count ?? DEAD_LETTER_LIST_COUNT.default, DEAD_LETTER_LIST_COUNT);
    const filter = validateFilter(options);
    const start = options.after === undefined ? '-' : `(${validateEntryId('after', options.after)}`;
    const pageSize = hasCriteria(filter) ? Math.max(count, FILTERED_PAGE_SIZE) : count;

    const deadLetters: DeadLetter[] = [];
    for await (const deadLetter of this.scan(filter, start, '+', pageSize)) {
      deadLetters.push(deadLetter);
      if (deadLetters.length === count) {
        break;
      }
    }
    return deadLetters;
  }

  /** Returns the dead letter with this id, or undefined when there is none. */
  async get(id: string): Promise<DeadLetter | undefined> {
    this.assertOpen();
    validateEntryId('id', id);
    const entries = (await this.connection.client.xrange(this.deadLetterStream, id, id)) as StreamEntry[];
    const entry = entries[0];
    return entry === undefined ? undefined : decodeDeadLetter(entry[0], entry[1]);
  }

  /**
   * Publishes a dead-lettered event to the main stream again and removes the dead letter, both in
   * one atomic step. The new event gets a fresh id and time, keeps the type, payload, schema
   * version and correlation id, and has the original event as its cause. Its `redrivenFrom` field
   * contains the original stream entry id.
   *
   * Throws `DeadLetterNotFoundError` for an unknown id and `DeadLetterNotRedrivableError` when the
   * original entry is not a valid event.
   */
  async redrive(id: string, options: RedriveOptions = {}): Promise<RedriveResult> {
    this.assertOpen();
    validateEntryId('id', id);
    const source = options.source === undefined ? undefined : validateName('source', options.source);

    const deadLetter = await this.get(id);
    if (deadLetter === undefined) {
      throw new DeadLetterNotFoundError(id, this.deadLetterStream);
    }
    return this.redriveDeadLetter(deadLetter, source);
  }

  /**
   * Redrives every dead letter that matches the filter, oldest first, and skips (and keeps) those
   * whose original entry is not a valid event. Dead letters written after the call started are
   * left for a later run, so an event that fails again cannot keep this loop going.
   */
  async redriveAll(filter: DeadLetterFilter = {}, options: RedriveOptions = {}): Promise<RedriveAllResult> {
    this.assertOpen();
    const criteria = validateFilter(filter);
    const source = options.source === undefined ? undefined : validateName('source', options.source);

    const newest = (await this.connection.client.xrevrange(this.deadLetterStream, '+', '-', 'COUNT', 1)) as StreamEntry[];
    const lastId = newest[0]?.[0];
    if (lastId === undefined) {
      return { redriven: 0, skipped: 0 };
    }

    let redriven = 0;
    let skipped = 0;
    for await (const deadLetter of this.scan(criteria, '-', lastId, FILTERED_PAGE_SIZE)) {
      const decoded = decodeEntry(deadLetter.originalFields);
      if (!decoded.ok) {
        skipped += 1;
        this.logger.debug(`Skipped dead letter ${deadLetter.id} in stream "${this.deadLetterStream}": ${decoded.message}`);
        continue;
      }
      try {
        await this.redriveDeadLetter(deadLetter, source);
        redriven += 1;
      } catch (error) {
        if (!(error instanceof DeadLetterNotFoundError)) {
          throw error;
        }
        // Another caller redrove or purged it after this scan read it, so there is nothing left to do.
      }
    }

    this.logger.log(
      `Redrove ${redriven} dead letters from "${this.deadLetterStream}" to "${this.stream}" on ${this.address} ` +
        `and skipped ${skipped} that are not valid events (filter ${JSON.stringify(criteria)}).`,
    );
    return { redriven, skipped };
  }

  /** Deletes one dead letter and returns whether it existed. */
  async purge(id: string): Promise<boolean> {
    this.assertOpen();
    validateEntryId('id', id);
    const removed = (await this.connection.client.xdel(this.deadLetterStream, id)) > 0;
    if (removed) {
      this.logger.log(`Purged dead letter ${id} from stream "${this.deadLetterStream}" on ${this.address}.`);
    }
    return removed;
  }

  /**
   * Deletes dead letters and returns how many were removed. Without `before`, the whole
   * dead-letter stream key is deleted, including any consumer groups on it. With `before`, only
   * entries whose id time is earlier than `before` are removed.
   */
  async purgeAll(options: PurgeAllOptions = {}): Promise<number> {
    this.assertOpen();
    const { before } = options;
    if (before !== undefined && (!(before instanceof Date) || !Number.isFinite(before.getTime()) || before.getTime() < 0)) {
      throw new InvalidOptionError('before', before, 'a valid Date at or after 1970-01-01T00:00:00Z');
    }

    let removed: number;
    if (before === undefined) {
      removed = Number(await this.connection.client.eval(DELETE_STREAM_SCRIPT, 1, this.deadLetterStream));
    } else {
      // Entry ids start with their creation time in ms, so the first id at `before` is `<ms>-0`.
      removed = await this.connection.client.xtrim(this.deadLetterStream, 'MINID', `${before.getTime()}-0`);
    }

    const scope = before === undefined ? 'all dead letters' : `dead letters written before ${before.toISOString()}`;
    this.logger.log(`Purged ${scope} from stream "${this.deadLetterStream}" on ${this.address}: ${removed} removed.`);
    return removed;
  }

  /** Closes the connection this store opened; a connection passed in by the caller stays open. */
  close(): Promise<void> {
    this.closing ??= this.connection.close();
    return this.closing;
  }

  private async redriveDeadLetter(deadLetter: DeadLetter, source: string | undefined): Promise<RedriveResult> {
    const decoded = decodeEntry(deadLetter.originalFields);
    if (!decoded.ok) {
      throw new DeadLetterNotRedrivableError(deadLetter.id, this.deadLetterStream, decoded.message);
    }
    const original = decoded.envelope;
    if (deadLetter.stream !== '' && deadLetter.stream !== this.stream) {
      this.logger.warn(
        `Dead letter ${deadLetter.id} came from stream "${deadLetter.stream}" but is redriven to "${this.stream}", ` +
          'the stream this store was created for.',
      );
    }

    const envelope = createEnvelope({
      type: original.type,
      source: source ?? original.source,
      payload: original.payload,
      schemaVersion: original.schemaVersion,
      correlationId: original.correlationId,
      causationId: original.id,
    });
    // The payload string is copied as stored, so a redrive never changes its bytes.
    const fields = encodeEnvelope(envelope, lastFieldValue(deadLetter.originalFields, ENVELOPE_FIELDS.payload)!);
    if (deadLetter.originalEntryId !== '') {
      fields.push(REDRIVEN_FROM_FIELD, deadLetter.originalEntryId);
    }

    let entryId: unknown;
    try {
      entryId = await this.connection.client.eval(REDRIVE_SCRIPT, 2, this.deadLetterStream, this.stream, deadLetter.id, ...fields);
    } catch (error) {
      throw new EventsError(
        `Failed to redrive dead letter ${deadLetter.id} from "${this.deadLetterStream}" to "${this.stream}": ${errorMessage(error)}. ` +
          'Nothing was written and the dead letter is still there.',
        { cause: error },
      );
    }
    if (typeof entryId !== 'string') {
      throw new DeadLetterNotFoundError(deadLetter.id, this.deadLetterStream);
    }

    this.logger.log(
      `Redrove dead letter ${deadLetter.id} (event ${original.id}, type "${original.type}") from "${this.deadLetterStream}" ` +
        `to "${this.stream}" on ${this.address} as event ${envelope.id}, entry ${entryId}.`,
    );
    return { eventId: envelope.id, entryId };
  }

  /** Yields the dead letters from `start` to `end` that match `filter`, reading `pageSize` entries per XRANGE. */
  private async *scan(filter: DeadLetterFilter, start: string, end: string, pageSize: number): AsyncGenerator<DeadLetter> {
    let from = start;
    for (;;) {
      const entries = (await this.connection.client.xrange(this.deadLetterStream, from, end, 'COUNT', pageSize)) as StreamEntry[];
      for (const [id, fields] of entries) {
        const deadLetter = decodeDeadLetter(id, fields);
        if (matches(deadLetter, filter)) {
          yield deadLetter;
        }
      }
      const last = entries.at(-1);
      if (last === undefined || entries.length < pageSize) {
        return;
      }
      from = `(${last[0]}`;
    }
  }

  private assertOpen(): void {
    if (this.closing) {
      throw new EventsError(`Dead-letter store for "${this.deadLetterStream}" is closed. Create a new DeadLetterStore.`);
    }
  }
}

/** Decodes the original entry of a dead letter, or returns undefined when it is not a valid event. */
export function originalEnvelope(deadLetter: DeadLetter): EventEnvelope | undefined {
  const decoded = decodeEntry(deadLetter.originalFields);
  return decoded.ok ? decoded.envelope : undefined;
}

function validateFilter(filter: DeadLetterFilter): DeadLetterFilter {
  const { reason, type, group } = filter;
  if (reason !== undefined && !Object.hasOwn(KNOWN_REASONS, reason)) {
    throw new InvalidOptionError('reason', reason, `one of ${Object.keys(KNOWN_REASONS).join(', ')}`);
  }
  return {
    ...(reason === undefined ? {} : { reason }),
    ...(type === undefined ? {} : { type: validateName('type', type) }),
    ...(group === undefined ? {} : { group: validateName('group', group) }),
  };
}

function hasCriteria(filter: DeadLetterFilter): boolean {
  return filter.reason !== undefined || filter.type !== undefined || filter.group !== undefined;
}

function matches(deadLetter: DeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.reason !== undefined && deadLetter.reason !== filter.reason) {
    return false;
  }
  if (filter.group !== undefined && deadLetter.group !== filter.group) {
    return false;
  }
  return filter.type === undefined || lastFieldValue(deadLetter.originalFields, ENVELOPE_FIELDS.type) === filter.type;
}

/**
 * Returns a field's value from a field-value list. The last occurrence wins, as in `decodeEntry`,
 * so the value matches what a consumer decodes.
 */
function lastFieldValue(fields: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] === name) {
      value = fields[index + 1];
    }
  }
  return value;
}

/** Requires a complete id, because XRANGE and XDEL read `1700000000000` as a range or as `-0`. */
function validateEntryId(option: string, value: unknown): string {
  if (typeof value !== 'string' || !FULL_ENTRY_ID.test(value)) {
    throw new InvalidOptionError(option, value, 'a stream entry id such as 1700000000000-0, as returned by list()');
  }
  return value;
}
