import { IsNotEmpty, IsString } from 'class-validator';
import type { Redis } from 'ioredis';
import {
  decodeDeadLetter,
  defaultEventRegistry,
  EventConsumer,
  EventPublisher,
  EventRegistry,
  EventTooLargeError,
  InvalidPayloadError,
  TopicApprovedPayload,
  UnknownEventTypeError,
  type EventDefinition,
  type EventEnvelope,
  type Upcaster,
} from '../../lib/index.js';
import type { AdHocEvents } from '../support/ad-hoc-events.js';
import { captureLogs } from '../support/capture-logs.js';
import { inspectorClient, pendingCount } from '../support/stream-helpers.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';
import { SPEC_TOPIC_APPROVED } from './payload-fixtures.js';

describe('catalog enforcement', () => {
  let stream: string;
  let redis: Redis;
  let logs: ReturnType<typeof captureLogs>;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(() => {
    redis = inspectorClient();
  });

  afterAll(async () => {
    await redis.quit();
  });

  beforeEach(() => {
    logs = captureLogs();
    stream = uniqueKey('catalog');
  });

  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
    await redis.del(stream, `${stream}:dead-letter`);
    logs.restore();
  });

  function publisher(options: { strict?: boolean; maxEventBytes?: number } = {}): EventPublisher {
    const created = new EventPublisher('topic-engine', { stream, ...options });
    closers.push(() => created.close());
    return created;
  }

  function consumer(options: { upcasters?: Upcaster[]; maxEventBytes?: number } = {}): EventConsumer {
    const created = new EventConsumer(`${stream}:g`, 'c1', { stream, blockMs: 100, startFrom: 'all', ...options });
    closers.push(() => created.stop());
    return created;
  }

  async function rawEvent(type: string, payload: string, schemaVersion = '1'): Promise<string> {
    return (await redis.xadd(
      stream,
      '*',
      'type',
      type,
      'id',
      `raw-${Math.random()}`,
      'source',
      'raw-test',
      'occurredAt',
      new Date().toISOString(),
      'schemaVersion',
      schemaVersion,
      'payload',
      payload,
    ))!;
  }

  async function deadLetters() {
    const entries = (await redis.xrange(`${stream}:dead-letter`, '-', '+')) as Array<[string, string[]]>;
    return entries.map(([id, fields]) => decodeDeadLetter(id, fields));
  }

  it('rejects an invalid payload with every failed path and writes nothing', async () => {
    const invalid = { ...SPEC_TOPIC_APPROVED, topicId: '', targetMarkets: ['US', 'usa'], estimatedCPM: -1 };
    const failure = await publisher()
      .publish('topic.approved', invalid)
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(InvalidPayloadError);
    const paths = (failure as InvalidPayloadError).errors.map((error) => error.path).sort();
    expect(paths).toEqual(['estimatedCPM', 'targetMarkets.1', 'topicId']);
    expect(String(failure)).toContain('targetMarkets.1');
    expect(await redis.exists(stream)).toBe(0);
  });

  it('rejects an unknown type unless strict mode is off', async () => {
    const strict = publisher() as unknown as EventPublisher<AdHocEvents>;
    await expect(strict.publish('topic.archived', {})).rejects.toThrow(UnknownEventTypeError);
    expect(await redis.exists(stream)).toBe(0);

    const lenient = publisher({ strict: false }) as unknown as EventPublisher<AdHocEvents>;
    await expect(lenient.publish('topic.archived', { any: 'thing' })).resolves.toHaveProperty('entryId');
  });

  it('validates a registered application event', async () => {
    class ThumbnailReadyPayload {
      @IsString()
      @IsNotEmpty()
      mediaId!: string;
    }
    const registry = defaultEventRegistry().register({
      type: 'catalog_example.thumbnail_ready',
      payloadClass: ThumbnailReadyPayload as never, // the merged catalog type lives in catalog.types.ts
      source: 'Media Engine',
      consumers: [],
      description: 'A thumbnail was rendered.',
      schemaVersion: 1,
    });
    const created = new EventPublisher<AdHocEvents>('media-engine', { stream, registry });
    closers.push(() => created.close());
    await expect(created.publish('catalog_example.thumbnail_ready', { mediaId: 'm-1' })).resolves.toHaveProperty('entryId');
    await expect(created.publish('catalog_example.thumbnail_ready', { mediaId: '' })).rejects.toThrow('mediaId');
  });

  it('rejects an event over maxEventBytes before writing', async () => {
    const failure = await publisher({ maxEventBytes: 200 })
      .publish('topic.approved', { ...SPEC_TOPIC_APPROVED, title: 'x'.repeat(300) })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EventTooLargeError);
    expect(String(failure)).toContain('over the limit of 200 bytes');
    expect(await redis.exists(stream)).toBe(0);
  });

  it('hands handlers a validated class instance without unknown keys', async () => {
    const received: EventEnvelope<TopicApprovedPayload>[] = [];
    const subject = consumer().on('topic.approved', (event) => {
      received.push(event);
    });
    await subject.start();
    await rawEvent('topic.approved', JSON.stringify({ ...SPEC_TOPIC_APPROVED, internalNote: 'dropped' }));

    await waitFor(() => received.length === 1, { message: 'the event' });
    expect(received[0]!.payload).toBeInstanceOf(TopicApprovedPayload);
    expect(received[0]!.payload).toEqual({ ...SPEC_TOPIC_APPROVED });
    expect(Object.keys(received[0]!.payload)).not.toContain('internalNote');
  });

  it('dead-letters an invalid payload on the first attempt', async () => {
    let calls = 0;
    const subject = consumer().on('topic.approved', () => {
      calls += 1;
    });
    await subject.start();
    const entryId = await rawEvent('topic.approved', JSON.stringify({ ...SPEC_TOPIC_APPROVED, estimatedCPM: 'thirty' }));

    await waitFor(async () => (await redis.exists(`${stream}:dead-letter`)) === 1, { message: 'the dead letter' });
    const [letter] = await deadLetters();
    expect(letter!.reason).toBe('invalid-payload');
    expect(letter!.attempts).toBe(1);
    expect(letter!.originalEntryId).toBe(entryId);
    expect(letter!.error).toContain('estimatedCPM');
    expect(calls).toBe(0);
    expect(await pendingCount(redis, stream, `${stream}:g`)).toBe(0);
  });

  it('dead-letters an entry over maxEventBytes', async () => {
    const subject = consumer({ maxEventBytes: 1_000 }).on('topic.approved', () => undefined);
    await subject.start();
    await rawEvent('topic.approved', JSON.stringify({ ...SPEC_TOPIC_APPROVED, title: 'y'.repeat(2_000) }));

    await waitFor(async () => (await redis.exists(`${stream}:dead-letter`)) === 1, { message: 'the dead letter' });
    const [letter] = await deadLetters();
    expect(letter!.reason).toBe('too-large');
  });

  it('never lets __proto__ or constructor keys pollute prototypes', async () => {
    const received: EventEnvelope<TopicApprovedPayload>[] = [];
    const subject = consumer().on('topic.approved', (event) => {
      received.push(event);
    });
    await subject.start();
    const body = JSON.stringify(SPEC_TOPIC_APPROVED).slice(1, -1);
    await rawEvent('topic.approved', `{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},${body}}`);
    await redis.xadd(stream, '*', '__proto__', 'x', 'constructor', 'y', 'type', 'topic.approved', 'payload', '{}');

    await waitFor(() => received.length === 1, { message: 'the event' });
    await waitFor(async () => (await redis.xlen(`${stream}:dead-letter`).catch(() => 0)) === 1, {
      message: 'the malformed entry dead-lettered',
    });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect((received[0]!.payload as unknown as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(received[0]!.payload)).toBe(TopicApprovedPayload.prototype);
  });

  it('upcasts an older schema version before validation', async () => {
    const current = defaultEventRegistry().get('topic.approved')!;
    const bumped = defaultEventRegistryWith({ ...current, schemaVersion: 2 });
    const received: EventEnvelope<TopicApprovedPayload>[] = [];
    const upcasters: Upcaster[] = [
      {
        type: 'topic.approved',
        fromVersion: 1,
        upcast: ({ cpm, ...rest }) => ({ ...rest, estimatedCPM: cpm }),
      },
    ];
    const subject = new EventConsumer(`${stream}:g`, 'c1', { stream, blockMs: 100, startFrom: 'all', registry: bumped, upcasters });
    closers.push(() => subject.stop());
    subject.on('topic.approved', (event) => {
      received.push(event);
    });
    await subject.start();
    const { estimatedCPM, ...withoutCpm } = SPEC_TOPIC_APPROVED;
    await rawEvent('topic.approved', JSON.stringify({ ...withoutCpm, cpm: estimatedCPM }), '1');
    await rawEvent('topic.approved', JSON.stringify(SPEC_TOPIC_APPROVED), '3');

    await waitFor(() => received.length === 1, { message: 'the upcast event' });
    expect(received[0]!.schemaVersion).toBe(2);
    expect(received[0]!.payload.estimatedCPM).toBe(32);
    await waitFor(() => logs.text().includes('schema version 3, newer than version 2'), { message: 'the newer version to be reported' });
  });

  it('rejects handlers for unknown types in strict mode', () => {
    const subject = consumer() as unknown as EventConsumer<AdHocEvents>;
    expect(() => subject.on('topic.archived', () => undefined)).toThrow(UnknownEventTypeError);
  });
});

/** Returns the default registry with one built-in definition replaced. */
function defaultEventRegistryWith(replacement: EventDefinition): EventRegistry {
  const registry = new EventRegistry();
  for (const definition of defaultEventRegistry().list()) {
    registry.register(definition.type === replacement.type ? replacement : definition);
  }
  return registry;
}
