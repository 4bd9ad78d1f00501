import { jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import { DEFAULT_MAX_EVENT_BYTES, ENVELOPE_FIELDS, type EventConsumer, type EventPublisher } from '../../lib/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { isRedisServerAvailable, startRedisServer, stopAllRedisServers, type RedisServer } from '../support/redis-server.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';
import {
  adminClient,
  faultPublisher,
  HandledLedger,
  pendingCount,
  readDeadLetters,
  reconcile,
  recordingConsumer,
  reportNumbers,
  type FaultCatalog,
} from './fault-harness.js';

jest.setTimeout(30_000);

const describeWithRedisServer = isRedisServerAvailable() ? describe : describe.skip;

describeWithRedisServer('poison and vanished entries', () => {
  let server: RedisServer;
  let admin: Redis;
  let publisher: EventPublisher<FaultCatalog>;
  let logs: ReturnType<typeof captureLogs>;
  const consumers: Array<EventConsumer<FaultCatalog>> = [];

  beforeEach(async () => {
    logs = captureLogs();
    server = await startRedisServer();
    admin = adminClient(server.url);
  });

  afterEach(async () => {
    await Promise.allSettled(consumers.splice(0).map((consumer) => consumer.stop()));
    await publisher?.close();
    admin.disconnect();
    await stopAllRedisServers();
    logs.restore();
  });

  /** Publishes `count` valid events and returns their event ids. */
  async function publishValid(type: string, count: number, first: number): Promise<string[]> {
    const ids: string[] = [];
    for (let sequence = first; sequence < first + count; sequence += 1) {
      ids.push((await publisher.publish(type, { sequence })).eventId);
    }
    return ids;
  }

  /** Returns the envelope fields of a hand-written event with `payload` as its payload field. */
  function rawEnvelope(type: string, eventId: string, payload: string): string[] {
    return [
      ENVELOPE_FIELDS.type,
      type,
      ENVELOPE_FIELDS.id,
      eventId,
      ENVELOPE_FIELDS.source,
      'raw-writer',
      ENVELOPE_FIELDS.occurredAt,
      new Date().toISOString(),
      ENVELOPE_FIELDS.schemaVersion,
      '1',
      ENVELOPE_FIELDS.payload,
      payload,
    ];
  }

  it('dead-letters malformed and oversized entries', async () => {
    const started = Date.now();
    const stream = uniqueKey('poison');
    const type = 'poison.test';
    const group = 'poison-group';
    publisher = faultPublisher(server.url, stream);
    const ledger = new HandledLedger();
    const consumer = recordingConsumer(ledger, type, group, 'c1', { redis: server.url, stream });
    consumers.push(consumer);
    await consumer.start();

    // A 3 MB string is valid JSON, three times the default maxEventBytes (1 MiB).
    const largePayload = JSON.stringify({ sequence: -1, blob: 'x'.repeat(3 * 1024 * 1024) });
    const valid = await publishValid(type, 50, 0);
    const notJson = await admin.xadd(stream, '*', ...rawEnvelope(type, 'poison-not-json', '{"sequence": 1,'));
    valid.push(...(await publishValid(type, 50, 50)));
    const missingFields = await admin.xadd(stream, '*', ENVELOPE_FIELDS.type, type, ENVELOPE_FIELDS.payload, '{}');
    valid.push(...(await publishValid(type, 50, 100)));
    const large = await admin.xadd(stream, '*', ...rawEnvelope(type, 'poison-large', largePayload));
    valid.push(...(await publishValid(type, 50, 150)));

    await waitFor(() => valid.every((id) => ledger.has(id)), { message: 'all 200 valid events handled' });
    await waitFor(async () => (await pendingCount(admin, stream, group)) === 0, { message: 'nothing pending' });
    const deadLetters = await readDeadLetters(admin, `${stream}:dead-letter`);
    const result = reconcile({ published: valid, handled: ledger.counts, deadLettered: deadLetters.map((letter) => letter.eventId) });
    reportNumbers('poison entries', {
      valid: valid.length,
      lost: result.lost.length,
      deadLettered: deadLetters.length,
      reasons: deadLetters.map((letter) => letter.reason).join(','),
      duplicates: result.duplicates,
      largePayloadBytes: largePayload.length,
      runtimeMs: Date.now() - started,
    });

    expect(result.lost).toEqual([]);
    expect(result.duplicates).toBe(0);
    expect(ledger.distinct).toBe(valid.length);
    expect(deadLetters.map(({ originalEntryId, reason }) => ({ originalEntryId, reason }))).toEqual([
      { originalEntryId: notJson, reason: 'malformed' },
      { originalEntryId: missingFields, reason: 'malformed' },
      { originalEntryId: large, reason: 'too-large' },
    ]);
    expect(deadLetters[0]!.error).toContain('not valid JSON');
    expect(deadLetters[1]!.error).toContain('no "id" field');
    expect(deadLetters[2]!.error).toContain(`over the limit of ${DEFAULT_MAX_EVENT_BYTES} bytes`);
    expect(consumer.stats().deadLettered).toBe(3);
  });

  it('clears entries trimmed while pending', async () => {
    const started = Date.now();
    const stream = uniqueKey('trimmed');
    const type = 'trimmed.test';
    const group = 'trim-group';
    publisher = faultPublisher(server.url, stream);
    await admin.xgroup('CREATE', stream, group, '0', 'MKSTREAM');

    // Two consumers read 15 events each and die without acknowledging any of them.
    const firstRound = await publishValid(type, 30, 0);
    await admin.xreadgroup('GROUP', group, 'crashed-1', 'COUNT', 15, 'STREAMS', stream, '>');
    await admin.xreadgroup('GROUP', group, 'crashed-2', 'COUNT', 15, 'STREAMS', stream, '>');
    const entryIds = ((await admin.xrange(stream, '-', '+')) as Array<[string, string[]]>).map(([id]) => id);
    // XDEL removes five entries of each. XTRIM MAXLEN then drops the five oldest left, of crashed-1.
    await admin.xdel(stream, ...entryIds.slice(0, 5), ...entryIds.slice(15, 20));
    expect(await admin.xtrim(stream, 'MAXLEN', 15)).toBe(5);
    const removed = new Set([...firstRound.slice(0, 10), ...firstRound.slice(15, 20)]);
    const survivingFirstRound = firstRound.filter((id) => !removed.has(id));

    // crashed-2 comes back under its name, so it reads its own vanished entries. It claims
    // crashed-1's entries after claimIdleMs.
    const ledger = new HandledLedger();
    const consumer = recordingConsumer(ledger, type, group, 'crashed-2', { redis: server.url, stream, claimIdleMs: 200 });
    consumers.push(consumer);
    await consumer.start();
    const secondRound = await publishValid(type, 10, 30);
    await waitFor(() => [...survivingFirstRound, ...secondRound].every((id) => ledger.has(id)), {
      message: 'every surviving event handled',
    });
    await waitFor(async () => (await pendingCount(admin, stream, group)) === 0, { message: 'nothing pending' });

    // With the live consumer stopped, a third one reads ten more and dies. XTRIM MAXLEN 0 then
    // empties the stream, so a new consumer finds only deleted entries in the dead one's list.
    await consumer.stop();
    const thirdRound = await publishValid(type, 10, 40);
    const crashedRead = await admin.xreadgroup('GROUP', group, 'crashed-3', 'COUNT', 10, 'STREAMS', stream, '>');
    expect(crashedRead).not.toBeNull();
    expect(await admin.xtrim(stream, 'MAXLEN', 0)).toBeGreaterThanOrEqual(10);
    for (const id of thirdRound) {
      removed.add(id);
    }
    const survivor = recordingConsumer(ledger, type, group, 'survivor', { redis: server.url, stream, claimIdleMs: 200 });
    consumers.push(survivor);
    await survivor.start();
    await waitFor(async () => (await pendingCount(admin, stream, group)) === 0, { message: 'the trimmed entries cleared' });
    const lastRound = await publishValid(type, 10, 50);
    await waitFor(() => lastRound.every((id) => ledger.has(id)), { message: 'events after the trim handled' });

    const handledRemoved = [...ledger.counts.keys()].filter((id) => removed.has(id));
    const published = [...survivingFirstRound, ...secondRound, ...lastRound];
    const result = reconcile({ published, handled: ledger.counts, deadLettered: [] });
    const deletedWhilePending = consumer.stats().deletedWhilePending + survivor.stats().deletedWhilePending;
    reportNumbers('trimmed while pending', {
      published: published.length,
      removedWhilePending: removed.size,
      deletedWhilePending,
      handedToHandlers: handledRemoved.length,
      lost: result.lost.length,
      duplicates: result.duplicates,
      runtimeMs: Date.now() - started,
    });

    expect(handledRemoved).toEqual([]);
    expect(consumer.stats().deletedWhilePending).toBe(15);
    expect(survivor.stats().deletedWhilePending).toBe(10);
    expect(deletedWhilePending).toBe(removed.size);
    expect(result.lost).toEqual([]);
    expect(result.duplicates).toBe(0);
    expect(await admin.exists(`${stream}:dead-letter`)).toBe(0);
  });
});
