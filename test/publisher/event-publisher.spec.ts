import type { Redis } from 'ioredis';
import { EventPublisher, EventsError, InvalidOptionError, PublishError } from '../../lib/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { inspectorClient } from '../support/stream-helpers.js';
import { uniqueKey } from '../support/wait-for.js';
import type { AdHocEvents } from '../support/ad-hoc-events.js';

describe('EventPublisher', () => {
  let stream: string;
  let redis: Redis;
  let publisher: EventPublisher<AdHocEvents>;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(() => {
    redis = inspectorClient();
  });

  afterAll(async () => {
    await redis.quit();
  });

  beforeEach(() => {
    logs = captureLogs();
    stream = uniqueKey('publisher');
    publisher = new EventPublisher<AdHocEvents>('topic-engine', { strict: false, stream });
  });

  afterEach(async () => {
    await publisher.close();
    await redis.del(stream);
    logs.restore();
  });

  async function entryFields(entryId: string): Promise<Map<string, string>> {
    const [[, fields]] = (await redis.xrange(stream, entryId, entryId)) as [[string, string[]]];
    const map = new Map<string, string>();
    for (let index = 0; index < fields.length; index += 2) {
      map.set(fields[index]!, fields[index + 1]!);
    }
    return map;
  }

  it('stores type, id, source and time as their own fields', async () => {
    const before = Date.now();
    const { eventId, entryId } = await publisher.publish('topic.accepted', { topicId: '123' });

    const fields = await entryFields(entryId);
    expect(fields.get('type')).toBe('topic.accepted');
    expect(fields.get('id')).toBe(eventId);
    expect(fields.get('source')).toBe('topic-engine');
    expect(Date.parse(fields.get('occurredAt')!)).toBeGreaterThanOrEqual(before - 1000);
    expect(fields.get('schemaVersion')).toBe('1');
    expect(fields.get('correlationId')).toBe(eventId);
    expect(fields.has('causationId')).toBe(false);
    expect(JSON.parse(fields.get('payload')!)).toEqual({ topicId: '123' });
  });

  it('links an event to its cause', async () => {
    const root = await publisher.publish('topic.accepted', {});
    const rootFields = await entryFields(root.entryId);
    const child = await publisher.publish(
      'script.accepted',
      {},
      { causedBy: { id: root.eventId, correlationId: rootFields.get('correlationId')! } },
    );

    const fields = await entryFields(child.entryId);
    expect(fields.get('correlationId')).toBe(root.eventId);
    expect(fields.get('causationId')).toBe(root.eventId);
  });

  it('trims the stream when maxLength is set', async () => {
    const trimmed = new EventPublisher<AdHocEvents>('topic-engine', { strict: false, stream, maxLength: 10 });
    try {
      for (let index = 0; index < 500; index += 1) {
        await trimmed.publish('topic.accepted', { index });
      }
      // MAXLEN ~ trims whole macro nodes only, so the length stays near the limit, not at it.
      expect(await redis.xlen(stream)).toBeLessThan(500);
    } finally {
      await trimmed.close();
    }
  });

  it('rejects a payload that is not JSON and writes nothing', async () => {
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;

    await expect(publisher.publish('topic.accepted', circular)).rejects.toThrow(PublishError);
    await expect(publisher.publish('topic.accepted', undefined)).rejects.toThrow('the payload is undefined');
    await expect(publisher.publish('topic.accepted', { big: 1n })).rejects.toThrow('not serializable to JSON');
    expect(await redis.exists(stream)).toBe(0);
  });

  it('rejects publishing after close', async () => {
    await publisher.close();
    await expect(publisher.publish('topic.accepted', {})).rejects.toThrow(EventsError);
    await expect(publisher.publish('topic.accepted', {})).rejects.toThrow('is closed');
  });

  it('rejects invalid options with the option name', () => {
    expect(() => new EventPublisher<AdHocEvents>('')).toThrow(InvalidOptionError);
    expect(() => new EventPublisher<AdHocEvents>('svc', { strict: false, maxLength: -1 })).toThrow('Invalid option "maxLength"');
    expect(() => new EventPublisher<AdHocEvents>('svc', { strict: false, stream: '' })).toThrow('Invalid option "stream"');
  });

  it('uses a caller-owned ioredis instance without closing it', async () => {
    const shared = inspectorClient();
    const borrowing = new EventPublisher<AdHocEvents>('topic-engine', { strict: false, stream, redis: shared });
    await borrowing.publish('topic.accepted', {});
    await borrowing.close();
    expect(await shared.ping()).toBe('PONG');
    await shared.quit();
  });
});
