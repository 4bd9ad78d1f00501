import type { Redis } from 'ioredis';
import {
  DeadLetterNotFoundError,
  DeadLetterNotRedrivableError,
  DeadLetterStore,
  defaultDeadLetterStream,
  encodeDeadLetter,
  originalEnvelope,
  REDRIVEN_FROM_FIELD,
  type DeadLetterMetadata,
} from '../../lib/dead-letter/index.js';
import { createEnvelope, encodeEnvelope, type EventEnvelope } from '../../lib/envelope/index.js';
import { EventsError, InvalidOptionError } from '../../lib/errors/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { inspectorClient } from '../support/stream-helpers.js';
import { uniqueKey } from '../support/wait-for.js';

/** A valid event as it sat in the main stream, with its payload string kept for comparison. */
interface OriginalEvent {
  envelope: EventEnvelope;
  payloadText: string;
  fields: string[];
}

// Valid JSON in a form JSON.stringify would not produce, so a re-serialized payload would show.
const ODD_PAYLOAD_TEXT = '{ "topicId" : "42",\n  "tags": ["a", "b"] }';

// Every envelope field is present, but the payload is not JSON.
const MALFORMED_FIELDS = [
  'type',
  'topic.approved',
  'id',
  'e-bad',
  'source',
  'topic-engine',
  'occurredAt',
  '2024-05-01T12:00:00.000Z',
  'payload',
  '{not json',
];

describe('DeadLetterStore', () => {
  let redis: Redis;
  let stream: string;
  let deadLetterStream: string;
  let store: DeadLetterStore;
  let logs: ReturnType<typeof captureLogs>;
  let nextOriginalSequence: number;

  beforeAll(() => {
    redis = inspectorClient();
  });

  afterAll(async () => {
    await redis.quit();
  });

  beforeEach(() => {
    logs = captureLogs();
    stream = uniqueKey('dead-letter');
    deadLetterStream = defaultDeadLetterStream(stream);
    store = new DeadLetterStore({ stream });
    nextOriginalSequence = 0;
  });

  afterEach(async () => {
    await store.close();
    await redis.del(stream, deadLetterStream);
    logs.restore();
  });

  function originalEvent(type = 'topic.approved', payloadText = ODD_PAYLOAD_TEXT): OriginalEvent {
    const envelope = createEnvelope({
      type,
      source: 'topic-engine',
      payload: JSON.parse(payloadText) as unknown,
      schemaVersion: 2,
      correlationId: 'chain-1',
      causationId: 'cause-1',
    });
    return { envelope, payloadText, fields: encodeEnvelope(envelope, payloadText) };
  }

  /** Writes a dead letter the way the consumer engine does and returns its id. */
  async function writeDeadLetter(fields: readonly string[], overrides: Partial<DeadLetterMetadata> = {}): Promise<string> {
    nextOriginalSequence += 1;
    const metadata: DeadLetterMetadata = {
      originalEntryId: `1700000000000-${nextOriginalSequence}`,
      stream,
      group: 'script-writer',
      consumer: 'script-writer-1',
      attempts: 5,
      reason: 'max-attempts',
      error: 'Topic 42 not found',
      stack: 'Error: Topic 42 not found\n    at handle (handler.ts:10:5)',
      deadLetteredAt: new Date().toISOString(),
      ...overrides,
    };
    const id = await redis.xadd(deadLetterStream, '*', ...encodeDeadLetter(metadata, fields));
    return id!;
  }

  async function mainStreamEntries(): Promise<Array<{ id: string; fields: Map<string, string> }>> {
    const entries = (await redis.xrange(stream, '-', '+')) as Array<[string, string[]]>;
    return entries.map(([id, fields]) => {
      const map = new Map<string, string>();
      for (let index = 0; index + 1 < fields.length; index += 2) {
        map.set(fields[index]!, fields[index + 1]!);
      }
      return { id, fields: map };
    });
  }

  describe('count', () => {
    it('returns 0 without a dead-letter stream', async () => {
      expect(await store.count()).toBe(0);
    });

    it('counts dead letters', async () => {
      await writeDeadLetter(originalEvent().fields);
      await writeDeadLetter(MALFORMED_FIELDS, { reason: 'malformed' });

      expect(await store.count()).toBe(2);
    });
  });

  describe('list', () => {
    it('returns dead letters oldest first', async () => {
      const event = originalEvent();
      const first = await writeDeadLetter(event.fields, { attempts: 3 });
      const second = await writeDeadLetter(MALFORMED_FIELDS, { reason: 'malformed' });

      const deadLetters = await store.list();

      expect(deadLetters.map((deadLetter) => deadLetter.id)).toEqual([first, second]);
      expect(deadLetters[0]!.originalFields).toEqual(event.fields);
      expect(deadLetters[0]!.attempts).toBe(3);
      expect(deadLetters[0]!.originalEntryId).toBe('1700000000000-1');
      expect(deadLetters[0]!.stream).toBe(stream);
      expect(deadLetters[1]!.reason).toBe('malformed');
    });

    it('returns an empty list without a dead-letter stream', async () => {
      expect(await store.list()).toEqual([]);
    });

    it('filters by reason, type and group', async () => {
      const topic = await writeDeadLetter(originalEvent('topic.approved').fields, { reason: 'max-attempts', group: 'script-writer' });
      const script = await writeDeadLetter(originalEvent('script.approved').fields, { reason: 'non-retryable', group: 'voice' });
      const malformed = await writeDeadLetter(MALFORMED_FIELDS, { reason: 'malformed', group: 'voice' });
      const untyped = await writeDeadLetter(['payload', '{}'], { reason: 'malformed', group: 'script-writer' });

      const cases = [
        { filter: { reason: 'malformed' as const }, expected: [malformed, untyped] },
        { filter: { reason: 'non-retryable' as const }, expected: [script] },
        { filter: { reason: 'too-large' as const }, expected: [] },
        { filter: { type: 'topic.approved' }, expected: [topic, malformed] },
        { filter: { type: 'script.approved' }, expected: [script] },
        { filter: { group: 'voice' }, expected: [script, malformed] },
        { filter: { group: 'script-writer', reason: 'malformed' as const }, expected: [untyped] },
        { filter: { type: 'topic.approved', group: 'voice' }, expected: [malformed] },
      ];
      for (const { filter, expected } of cases) {
        const ids = (await store.list(filter)).map((deadLetter) => deadLetter.id);
        expect({ filter, ids }).toEqual({ filter, ids: expected });
      }
    });

    it('pages with count and after', async () => {
      const ids: string[] = [];
      for (let index = 0; index < 5; index += 1) {
        ids.push(await writeDeadLetter(originalEvent().fields));
      }

      const firstPage = await store.list({ count: 2 });
      const secondPage = await store.list({ count: 2, after: firstPage.at(-1)!.id });
      const lastPage = await store.list({ count: 2, after: secondPage.at(-1)!.id });
      const afterLast = await store.list({ count: 2, after: lastPage.at(-1)!.id });

      expect(firstPage.map((deadLetter) => deadLetter.id)).toEqual(ids.slice(0, 2));
      expect(secondPage.map((deadLetter) => deadLetter.id)).toEqual(ids.slice(2, 4));
      expect(lastPage.map((deadLetter) => deadLetter.id)).toEqual(ids.slice(4));
      expect(afterLast).toEqual([]);
    });

    it('reads past pages without matches', async () => {
      // More non-matching entries than one XRANGE page holds, so the filter must fetch further pages.
      const pipeline = redis.pipeline();
      const filler = encodeDeadLetter(
        {
          originalEntryId: '1700000000000-0',
          stream,
          group: 'other-group',
          consumer: 'c',
          attempts: 1,
          reason: 'max-attempts',
          error: 'e',
          stack: '',
          deadLetteredAt: new Date().toISOString(),
        },
        originalEvent().fields,
      );
      for (let index = 0; index < 250; index += 1) {
        pipeline.xadd(deadLetterStream, '*', ...filler);
      }
      await pipeline.exec();
      const matching: string[] = [];
      for (let index = 0; index < 3; index += 1) {
        matching.push(await writeDeadLetter(originalEvent().fields, { group: 'voice' }));
      }

      const firstPage = await store.list({ group: 'voice', count: 2 });
      const secondPage = await store.list({ group: 'voice', count: 2, after: firstPage.at(-1)!.id });
      const all = await store.list({ count: 10_000 });

      expect(firstPage.map((deadLetter) => deadLetter.id)).toEqual(matching.slice(0, 2));
      expect(secondPage.map((deadLetter) => deadLetter.id)).toEqual(matching.slice(2));
      expect(all).toHaveLength(253);
    });
  });

  describe('get and originalEnvelope', () => {
    it('returns one dead letter by id', async () => {
      const event = originalEvent();
      await writeDeadLetter(MALFORMED_FIELDS);
      const id = await writeDeadLetter(event.fields, { reason: 'non-retryable', error: 'bad topic' });

      const deadLetter = await store.get(id);

      expect(deadLetter?.id).toBe(id);
      expect(deadLetter?.reason).toBe('non-retryable');
      expect(deadLetter?.error).toBe('bad topic');
      expect(deadLetter?.originalFields).toEqual(event.fields);
    });

    it('returns undefined for an unknown id', async () => {
      await writeDeadLetter(originalEvent().fields);

      expect(await store.get('1-0')).toBeUndefined();
    });

    it('decodes the original envelope', async () => {
      const event = originalEvent();
      const deadLetter = await store.get(await writeDeadLetter(event.fields));

      expect(originalEnvelope(deadLetter!)).toEqual(event.envelope);
    });

    it('returns no envelope for a malformed original', async () => {
      const deadLetter = await store.get(await writeDeadLetter(MALFORMED_FIELDS, { reason: 'malformed' }));

      expect(deadLetter).toBeDefined();
      expect(originalEnvelope(deadLetter!)).toBeUndefined();
    });
  });

  describe('redrive', () => {
    it('publishes a new event and removes the dead letter', async () => {
      const event = originalEvent();
      const id = await writeDeadLetter(event.fields, { originalEntryId: '1700000000000-7' });
      const before = Date.now();

      const result = await store.redrive(id);

      const entries = await mainStreamEntries();
      expect(entries).toHaveLength(1);
      const [{ id: entryId, fields }] = entries as [(typeof entries)[number]];
      expect(result.entryId).toBe(entryId);
      expect(fields.get('id')).toBe(result.eventId);
      expect(result.eventId).not.toBe(event.envelope.id);
      expect(result.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(fields.get('type')).toBe('topic.approved');
      expect(fields.get('source')).toBe('topic-engine');
      expect(fields.get('schemaVersion')).toBe('2');
      expect(fields.get('correlationId')).toBe('chain-1');
      expect(fields.get('causationId')).toBe(event.envelope.id);
      expect(fields.get('payload')).toBe(ODD_PAYLOAD_TEXT);
      expect(fields.get(REDRIVEN_FROM_FIELD)).toBe('1700000000000-7');
      expect(Date.parse(fields.get('occurredAt')!)).toBeGreaterThanOrEqual(before - 1_000);
      expect(await store.get(id)).toBeUndefined();
      expect(await store.count()).toBe(0);
      expect(logs.text()).toContain(`Redrove dead letter ${id}`);
    });

    it('warns when the dead letter names another stream', async () => {
      const id = await writeDeadLetter(originalEvent().fields, { stream: 'other-stream' });

      await store.redrive(id);

      expect(await redis.xlen(stream)).toBe(1);
      expect(logs.lines.filter((line) => line.level === 'warn').map((line) => line.text)).toEqual([
        `Dead letter ${id} came from stream "other-stream" but is redriven to "${stream}", the stream this store was created for. DeadLetterStore`,
      ]);
    });

    it('sets the source when given', async () => {
      const id = await writeDeadLetter(originalEvent().fields);

      await store.redrive(id, { source: 'ops-console' });

      const [entry] = await mainStreamEntries();
      expect(entry?.fields.get('source')).toBe('ops-console');
    });

    it('rejects a malformed original and keeps it', async () => {
      const id = await writeDeadLetter(MALFORMED_FIELDS, { reason: 'malformed' });

      const failure = store.redrive(id);

      await expect(failure).rejects.toBeInstanceOf(DeadLetterNotRedrivableError);
      await expect(failure).rejects.toThrow(
        /not a valid event \(Stream entry field "payload" is not valid JSON: .*\)\. Inspect it with get\(\)/,
      );
      expect(await store.get(id)).toBeDefined();
      expect(await redis.exists(stream)).toBe(0);
    });

    it('rejects an unknown id', async () => {
      const failure = store.redrive('1-0');

      await expect(failure).rejects.toBeInstanceOf(DeadLetterNotFoundError);
      await expect(failure).rejects.toThrow(`Dead letter 1-0 not found in stream "${deadLetterStream}"`);
    });

    it('keeps the dead letter when the write fails', async () => {
      const id = await writeDeadLetter(originalEvent().fields);
      // XADD to a string key fails with WRONGTYPE inside the redrive step.
      await redis.set(stream, 'not a stream');

      const failure = store.redrive(id);

      await expect(failure).rejects.toBeInstanceOf(EventsError);
      await expect(failure).rejects.toThrow(/WRONGTYPE/);
      expect(await store.get(id)).toBeDefined();
      expect(await redis.get(stream)).toBe('not a stream');
    });

    it('publishes once for concurrent redrives', async () => {
      const id = await writeDeadLetter(originalEvent().fields);

      const results = await Promise.allSettled([store.redrive(id), store.redrive(id), store.redrive(id)]);

      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      const rejections = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
      expect(rejections).toHaveLength(2);
      for (const rejection of rejections) {
        expect(rejection.reason).toBeInstanceOf(DeadLetterNotFoundError);
      }
      expect(await redis.xlen(stream)).toBe(1);
    });
  });

  describe('redriveAll', () => {
    it('redrives matches and skips malformed ones', async () => {
      const matchingIds = [
        await writeDeadLetter(originalEvent('topic.approved').fields, { group: 'voice' }),
        await writeDeadLetter(originalEvent('script.approved').fields, { group: 'voice' }),
      ];
      const malformed = await writeDeadLetter(MALFORMED_FIELDS, { reason: 'malformed', group: 'voice' });
      const otherGroup = await writeDeadLetter(originalEvent().fields, { group: 'script-writer' });

      const result = await store.redriveAll({ group: 'voice' });

      expect(result).toEqual({ redriven: 2, skipped: 1 });
      const entries = await mainStreamEntries();
      expect(entries.map((entry) => entry.fields.get('type'))).toEqual(['topic.approved', 'script.approved']);
      const remaining = (await store.list()).map((deadLetter) => deadLetter.id);
      expect(remaining).toEqual([malformed, otherGroup]);
      for (const id of matchingIds) {
        expect(await store.get(id)).toBeUndefined();
      }
    });

    it('redrives everything without a filter', async () => {
      for (let index = 0; index < 120; index += 1) {
        await writeDeadLetter(originalEvent().fields);
      }

      const result = await store.redriveAll({}, { source: 'ops-console' });

      expect(result).toEqual({ redriven: 120, skipped: 0 });
      expect(await redis.xlen(stream)).toBe(120);
      expect(await store.count()).toBe(0);
      const [first] = await mainStreamEntries();
      expect(first?.fields.get('source')).toBe('ops-console');
    });

    it('returns zero counts when empty', async () => {
      expect(await store.redriveAll()).toEqual({ redriven: 0, skipped: 0 });
    });
  });

  describe('purge', () => {
    it('deletes one dead letter', async () => {
      const keptId = await writeDeadLetter(originalEvent().fields);
      const purged = await writeDeadLetter(MALFORMED_FIELDS);

      expect(await store.purge(purged)).toBe(true);
      expect(await store.purge(purged)).toBe(false);
      expect((await store.list()).map((deadLetter) => deadLetter.id)).toEqual([keptId]);
      expect(logs.text()).toContain(`Purged dead letter ${purged}`);
    });

    it('purgeAll deletes the stream key', async () => {
      await writeDeadLetter(originalEvent().fields);
      await writeDeadLetter(MALFORMED_FIELDS);

      expect(await store.purgeAll()).toBe(2);
      expect(await redis.exists(deadLetterStream)).toBe(0);
      expect(await store.purgeAll()).toBe(0);
    });

    it('purgeAll leaves a non-stream key alone', async () => {
      await redis.set(deadLetterStream, 'not a stream');

      await expect(store.purgeAll()).rejects.toThrow(/WRONGTYPE/);
      expect(await redis.get(deadLetterStream)).toBe('not a stream');
    });

    it('purgeAll with before removes older entries', async () => {
      const fields = encodeDeadLetter(
        {
          originalEntryId: '1-0',
          stream,
          group: 'g',
          consumer: 'c',
          attempts: 1,
          reason: 'max-attempts',
          error: 'e',
          stack: '',
          deadLetteredAt: new Date(0).toISOString(),
        },
        originalEvent().fields,
      );
      for (const id of ['1000-0', '2000-0', '2000-1', '3000-0']) {
        await redis.xadd(deadLetterStream, id, ...fields);
      }

      expect(await store.purgeAll({ before: new Date(2000) })).toBe(1);
      expect((await store.list()).map((deadLetter) => deadLetter.id)).toEqual(['2000-0', '2000-1', '3000-0']);
      expect(await store.purgeAll({ before: new Date(2500) })).toBe(2);
      expect((await store.list()).map((deadLetter) => deadLetter.id)).toEqual(['3000-0']);
      expect(logs.text()).toContain('dead letters written before 1970-01-01T00:00:02.500Z');
    });
  });

  describe('options', () => {
    it('rejects invalid constructor options', () => {
      const cases = [
        { stream: '' },
        { stream: 'has space' },
        { deadLetterStream: '' },
        { stream: 'same-key', deadLetterStream: 'same-key' },
        { redis: 'http://127.0.0.1:6379' },
      ];
      for (const options of cases) {
        expect({ options, error: captureError(() => new DeadLetterStore(options)) }).toEqual({
          options,
          error: expect.any(InvalidOptionError),
        });
      }
    });

    it('rejects invalid list options', async () => {
      const cases: Array<Parameters<DeadLetterStore['list']>[0]> = [
        { count: 0 },
        { count: 10_001 },
        { count: 1.5 },
        { after: 'abc' },
        { after: '1700000000000' },
        { reason: 'bogus' as never },
        { type: '' },
        { group: 'two words' },
      ];
      for (const options of cases) {
        await expect(store.list(options)).rejects.toBeInstanceOf(InvalidOptionError);
      }
      await expect(store.list({ count: 0 })).rejects.toThrow('Invalid option "count": expected an integer from 1 to 10000, got 0.');
    });

    it('rejects invalid ids and dates', async () => {
      await expect(store.get('1700000000000')).rejects.toBeInstanceOf(InvalidOptionError);
      await expect(store.redrive('latest')).rejects.toBeInstanceOf(InvalidOptionError);
      await expect(store.redrive('1-0', { source: '' })).rejects.toBeInstanceOf(InvalidOptionError);
      await expect(store.purge('')).rejects.toBeInstanceOf(InvalidOptionError);
      await expect(store.purgeAll({ before: new Date(Number.NaN) })).rejects.toBeInstanceOf(InvalidOptionError);
      await expect(store.redriveAll({ reason: 'bogus' as never })).rejects.toBeInstanceOf(InvalidOptionError);
    });
  });

  describe('connection', () => {
    it('leaves a caller-owned client open', async () => {
      const client = inspectorClient();
      try {
        const borrowing = new DeadLetterStore({ redis: client, stream });
        await writeDeadLetter(originalEvent().fields);

        expect(await borrowing.count()).toBe(1);
        await borrowing.close();

        expect(await client.ping()).toBe('PONG');
        await expect(borrowing.count()).rejects.toThrow(/is closed/);
      } finally {
        await client.quit();
      }
    });

    it('never logs the password', async () => {
      const url = new URL(process.env['REDIS_URL']!);
      url.password = 's3cret-value';
      const withPassword = new DeadLetterStore({ redis: url.href, stream });
      try {
        const id = await writeDeadLetter(originalEvent().fields);
        await withPassword.redrive(await writeDeadLetter(originalEvent().fields));
        await withPassword.purge(id);
        await withPassword.purgeAll();
      } finally {
        await withPassword.close();
      }

      expect(logs.text()).toContain('Purged dead letter');
      expect(logs.text()).toContain(':***@');
      expect(logs.text()).not.toContain('s3cret-value');
    });

    it('uses a custom dead-letter stream', async () => {
      const custom = uniqueKey('custom-dead-letter');
      const customStore = new DeadLetterStore({ stream, deadLetterStream: custom });
      try {
        await redis.xadd(
          custom,
          '*',
          ...encodeDeadLetter(
            {
              originalEntryId: '1-0',
              stream,
              group: 'g',
              consumer: 'c',
              attempts: 1,
              reason: 'max-attempts',
              error: 'e',
              stack: '',
              deadLetteredAt: new Date().toISOString(),
            },
            originalEvent().fields,
          ),
        );

        expect(customStore.deadLetterStream).toBe(custom);
        expect(await customStore.count()).toBe(1);
        expect(await store.count()).toBe(0);
      } finally {
        await customStore.close();
        await redis.del(custom);
      }
    });
  });
});

function captureError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}
