/**
 * Regression tests for delivery faults that the fault suite found, each reduced to one
 * deterministic case.
 */
import { jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import { ENVELOPE_FIELDS, EventConsumer, type EventPublisher } from '../../lib/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { isRedisServerAvailable, startRedisServer, stopAllRedisServers, type RedisServer } from '../support/redis-server.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';
import {
  adminClient,
  faultPublisher,
  fieldValue,
  HandledLedger,
  pendingCount,
  recordingConsumer,
  type FaultCatalog,
} from './fault-harness.js';
import { ReplyDroppingProxy } from './reply-dropping-proxy.js';

jest.setTimeout(30_000);

const describeWithRedisServer = isRedisServerAvailable() ? describe : describe.skip;

describeWithRedisServer('delivery bugs', () => {
  let server: RedisServer;
  let admin: Redis;
  let logs: ReturnType<typeof captureLogs>;
  let proxy: ReplyDroppingProxy | undefined;
  const consumers: Array<EventConsumer<FaultCatalog>> = [];
  const publishers: Array<EventPublisher<FaultCatalog>> = [];

  beforeEach(async () => {
    logs = captureLogs();
    server = await startRedisServer();
    admin = adminClient(server.url);
  });

  afterEach(async () => {
    await Promise.allSettled(consumers.splice(0).map((consumer) => consumer.stop()));
    await Promise.allSettled(publishers.splice(0).map((publisher) => publisher.close()));
    await proxy?.close();
    proxy = undefined;
    admin.disconnect();
    await stopAllRedisServers();
    logs.restore();
  });

  // An entry that waits in a read batch for a free handler slot must not be taken for a failed
  // retry: the claimer once re-submitted such entries after the retry delay, and both runs went ahead.
  it('own claimer leaves waiting entries alone', async () => {
    const stream = uniqueKey('waiting-batch');
    const publisher = faultPublisher(server.url, stream);
    publishers.push(publisher);
    for (let sequence = 0; sequence < 10; sequence += 1) {
      await publisher.publish('slow.event', { sequence });
    }
    const runs: Array<{ sequence: number; deliveryCount: number }> = [];
    // One slot and 60 ms per event: the last entries of the batch wait about 500 ms, far past
    // the 100 ms retry delay.
    const consumer = new EventConsumer<FaultCatalog>('slow-group', 'c1', {
      redis: server.url,
      stream,
      strict: false,
      startFrom: 'all',
      blockMs: 100,
      batchSize: 10,
      concurrency: 1,
      claimIntervalMs: 20,
      retry: { initialDelayMs: 100, maxDelayMs: 100, jitter: 0 },
    }).on('slow.event', async (event, delivery) => {
      runs.push({ sequence: event.payload.sequence, deliveryCount: delivery.deliveryCount });
      await new Promise((resolve) => setTimeout(resolve, 60));
    });
    consumers.push(consumer);
    await consumer.start();

    await waitFor(async () => runs.length >= 10 && (await pendingCount(admin, stream, 'slow-group')) === 0, {
      message: 'the batch acknowledged',
    });
    expect(runs.map(({ sequence }) => sequence)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(runs.every(({ deliveryCount }) => deliveryCount === 1)).toBe(true);
    expect(consumer.stats().claimed).toBe(0);
  });

  // When the connection drops after Redis stored an XADD and before the reply arrived, ioredis
  // resends unfulfilled commands after reconnecting unless autoResendUnfulfilledCommands is off.
  // The publisher turns it off, so the event is stored once and publish() rejects.
  it('publish stores an event once when its reply is lost', async () => {
    const stream = uniqueKey('lost-reply');
    const activeProxy = new ReplyDroppingProxy(server.port);
    proxy = activeProxy;
    await activeProxy.listen();
    const publisher = faultPublisher(`redis://127.0.0.1:${activeProxy.port}`, stream);
    publishers.push(publisher);
    await publisher.publish('reply.lost', { sequence: 0 });

    activeProxy.arm();
    // Whether publish() resolves or rejects, Redis stored the event, and the stream must contain it once.
    await publisher.publish('reply.lost', { sequence: 1 }).catch(() => undefined);

    expect(activeProxy.droppedReplies).toBe(1);
    const entries = (await admin.xrange(stream, '-', '+')) as Array<[string, string[]]>;
    const sequences = entries.map(([, fields]) => fieldValue(fields, ENVELOPE_FIELDS.payload));
    expect(sequences).toEqual(['{"sequence":0}', '{"sequence":1}']);
  });

  // After a flush the new stream numbers entries from the current millisecond again, so an event
  // appended in the same millisecond as the last entry read gets an id no greater than it. The
  // group must then restart at the stream's beginning, not at that id. The raw XADD uses the id
  // such a publish gets, as would a publisher whose clock is behind.
  it('FLUSHALL keeps an event in the same millisecond', async () => {
    const stream = uniqueKey('flush-same-ms');
    const type = 'flush.same-ms';
    const group = 'flush-group';
    const ledger = new HandledLedger();
    const consumer = recordingConsumer(ledger, type, group, 'c1', { redis: server.url, stream });
    consumers.push(consumer);
    await consumer.start();
    const publisher = faultPublisher(server.url, stream);
    publishers.push(publisher);

    const beforeFlush = await publisher.publish(type, { sequence: 0 });
    await waitFor(() => ledger.has(beforeFlush.eventId), { message: 'the event before the flush handled' });
    await admin.flushall();
    const sameMillisecondId = 'same-millisecond-event';
    await admin.xadd(
      stream,
      beforeFlush.entryId,
      ENVELOPE_FIELDS.type,
      type,
      ENVELOPE_FIELDS.id,
      sameMillisecondId,
      ENVELOPE_FIELDS.source,
      'fault-test',
      ENVELOPE_FIELDS.occurredAt,
      new Date().toISOString(),
      ENVELOPE_FIELDS.payload,
      '{"sequence":1}',
    );
    const later = await publisher.publish(type, { sequence: 2 });
    await waitFor(() => ledger.has(later.eventId), { message: 'the later event handled' });

    // The skipped entry has the smaller id, so it would have been delivered before the later one.
    expect(ledger.has(sameMillisecondId)).toBe(true);
  });
});
