import { jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import type { EventConsumer, EventPublisher } from '../../lib/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { isRedisServerAvailable, startRedisServer, stopAllRedisServers, type RedisServer } from '../support/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';
import {
  adminClient,
  FAST_CONSUMER_OPTIONS,
  faultPublisher,
  type FaultCatalog,
  HandledLedger,
  pendingCount,
  PublishLoop,
  publishedIds,
  RACE_DUPLICATES_PER_CONSUMER,
  readDeadLetters,
  reconcile,
  recordingConsumer,
  reportNumbers,
  streamEntriesByEventId,
} from './fault-harness.js';

// The paused-proxy case waits out the reader's 5.1 s read timeout; the others take a few seconds.
jest.setTimeout(60_000);

const describeWithRedisServer = isRedisServerAvailable() ? describe : describe.skip;

/** Time StreamConsumer allows a blocking read beyond its BLOCK argument before it counts as silent. */
const READ_TIMEOUT_GRACE_MS = 5_000;

/**
 * Handler runs beyond one per stream entry that one fault may cause, for each of the two
 * consumers. Up to `concurrency` (4) entries may be handled but not acknowledged when the
 * connection drops. A read batch (20) left idle by a slow reconnect may be taken back and run again.
 */
const MAX_DUPLICATES_PER_FAULT = 2 * (FAST_CONSUMER_OPTIONS.concurrency + RACE_DUPLICATES_PER_CONSUMER);

/**
 * Extra stream entries one fault may leave: the publish loop has one XADD in flight, and ioredis
 * sends it again after reconnecting even when Redis already stored it.
 */
const MAX_RESENT_PUBLISHES_PER_FAULT = 1;

describeWithRedisServer('connection faults', () => {
  let server: RedisServer;
  let admin: Redis;
  let proxy: TcpProxy | undefined;
  let logs: ReturnType<typeof captureLogs>;
  const consumers: Array<EventConsumer<FaultCatalog>> = [];
  const publishers: Array<EventPublisher<FaultCatalog>> = [];
  const loops: PublishLoop[] = [];

  beforeEach(async () => {
    logs = captureLogs();
    server = await startRedisServer();
    admin = adminClient(server.url);
  });

  afterEach(async () => {
    proxy?.resume();
    await Promise.allSettled(loops.splice(0).map((loop) => loop.stop()));
    await Promise.allSettled(consumers.splice(0).map((consumer) => consumer.stop()));
    await Promise.allSettled(publishers.splice(0).map((publisher) => publisher.close()));
    await proxy?.close();
    proxy = undefined;
    admin.disconnect();
    await stopAllRedisServers();
    logs.restore();
  });

  /** Starts two consumers of one group and a publish loop, all on `url`. */
  async function startRun(url: string, stream: string, type: string, maxEvents: number) {
    const ledger = new HandledLedger();
    const group = 'fault-group';
    for (const name of ['c1', 'c2']) {
      const consumer = recordingConsumer(ledger, type, group, name, { redis: url, stream });
      consumers.push(consumer);
      await consumer.start();
    }
    const publisher = faultPublisher(url, stream);
    publishers.push(publisher);
    const loop = new PublishLoop(publisher, type, maxEvents);
    loops.push(loop);
    return { ledger, group, loop };
  }

  /** Waits until every event in the stream is handled and nothing is pending, then reconciles. */
  async function settle(stream: string, group: string, ledger: HandledLedger, loop: PublishLoop) {
    await loop.done();
    const entries = await streamEntriesByEventId(admin, stream);
    const { ids, rejectedButStored } = publishedIds(loop, entries);
    await waitFor(() => ids.every((id) => ledger.has(id)), {
      timeoutMs: 30_000,
      message: `all ${ids.length} published events handled`,
    });
    await waitFor(async () => (await pendingCount(admin, stream, group)) === 0, {
      message: 'nothing pending',
    });
    const deadLetters = await readDeadLetters(admin, `${stream}:dead-letter`);
    const result = reconcile({
      published: ids,
      handled: ledger.counts,
      deadLettered: deadLetters.map((letter) => letter.eventId),
      entriesByEventId: entries,
    });
    return { result, rejectedButStored, entries };
  }

  it('CLIENT KILL of every connection loses nothing', async () => {
    const started = Date.now();
    const stream = uniqueKey('client-kill');
    const type = 'client.kill';
    const kills = 5;
    const { ledger, group, loop } = await startRun(server.url, stream, type, 3_000);

    const killedPerRound: number[] = [];
    for (let round = 1; round <= kills; round += 1) {
      await waitFor(() => loop.attempts >= round * 500, { timeoutMs: 20_000, message: `${round * 500} publish calls` });
      // SKIPME keeps the admin connection, so it can go on counting and killing.
      killedPerRound.push(Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes')));
    }
    const { result, rejectedButStored } = await settle(stream, group, ledger, loop);
    reportNumbers('CLIENT KILL x5', {
      published: result.published,
      rejected: loop.rejected.length,
      rejectedButStored,
      lost: result.lost.length,
      deadLettered: result.deadLettered.length,
      duplicates: result.duplicates,
      streamDuplicates: result.streamDuplicates,
      killedConnections: killedPerRound.join('+'),
      runtimeMs: Date.now() - started,
    });

    // A connection still reconnecting from the previous round escapes a kill, so only the
    // first round is sure to find all five: the publisher and two per consumer.
    expect(killedPerRound[0]).toBe(5);
    expect(Math.min(...killedPerRound)).toBeGreaterThan(0);
    expect(result.lost).toEqual([]);
    expect(result.deadLettered).toEqual([]);
    expect(result.duplicates).toBeLessThanOrEqual(kills * MAX_DUPLICATES_PER_FAULT);
    expect(result.streamDuplicates).toBeLessThanOrEqual(kills * MAX_RESENT_PUBLISHES_PER_FAULT);
  });

  it('proxy dropping connections loses nothing', async () => {
    const started = Date.now();
    const stream = uniqueKey('proxy-drop');
    const type = 'proxy.drop';
    const drops = 3;
    const activeProxy = await startTcpProxy(server.port);
    proxy = activeProxy;
    const { ledger, group, loop } = await startRun(`redis://127.0.0.1:${activeProxy.port}`, stream, type, 2_000);

    const droppedPerRound: number[] = [];
    for (let round = 1; round <= drops; round += 1) {
      await waitFor(() => loop.attempts >= round * 500, { timeoutMs: 20_000, message: `${round * 500} publish calls` });
      droppedPerRound.push(activeProxy.connectionCount);
      activeProxy.dropConnections();
    }
    const { result, rejectedButStored } = await settle(stream, group, ledger, loop);
    reportNumbers('proxy dropConnections x3', {
      published: result.published,
      rejected: loop.rejected.length,
      rejectedButStored,
      lost: result.lost.length,
      deadLettered: result.deadLettered.length,
      duplicates: result.duplicates,
      streamDuplicates: result.streamDuplicates,
      droppedConnections: droppedPerRound.join('+'),
      runtimeMs: Date.now() - started,
    });

    expect(droppedPerRound[0]).toBe(5);
    expect(Math.min(...droppedPerRound)).toBeGreaterThan(0);
    expect(result.lost).toEqual([]);
    expect(result.deadLettered).toEqual([]);
    expect(result.duplicates).toBeLessThanOrEqual(drops * MAX_DUPLICATES_PER_FAULT);
    expect(result.streamDuplicates).toBeLessThanOrEqual(drops * MAX_RESENT_PUBLISHES_PER_FAULT);
  });

  it('paused proxy: reader times out and recovers', async () => {
    const started = Date.now();
    const stream = uniqueKey('proxy-pause');
    const type = 'proxy.pause';
    const activeProxy = await startTcpProxy(server.port);
    proxy = activeProxy;
    const ledger = new HandledLedger();
    const group = 'pause-group';
    const consumer = recordingConsumer(ledger, type, group, 'c1', { redis: `redis://127.0.0.1:${activeProxy.port}`, stream });
    consumers.push(consumer);
    await consumer.start();
    // The publisher goes straight to Redis, so events keep arriving while the consumer's link is silent.
    const publisher = faultPublisher(server.url, stream);
    publishers.push(publisher);
    const loop = new PublishLoop(publisher, type, 4_000);
    loops.push(loop);

    await waitFor(() => ledger.distinct >= 200, { message: '200 events handled before the pause' });
    activeProxy.pause();
    const pausedAt = Date.now();
    const publishedAtPause = loop.accepted.length;
    const handledAtPause = ledger.distinct;
    // The reader's command timeout is blockMs + 5000 ms; a read error shows that it fired.
    await waitFor(() => consumer.stats().readErrors > 0, { timeoutMs: 15_000, message: 'the blocked read to time out' });
    const pausedMs = Date.now() - pausedAt;
    const handledWhilePaused = ledger.distinct - handledAtPause;
    activeProxy.resume();
    await loop.done();

    const { result } = await settle(stream, group, ledger, loop);
    reportNumbers('proxy paused', {
      published: result.published,
      pausedMs,
      publishedAfterPause: loop.accepted.length - publishedAtPause,
      handledWhilePaused,
      lost: result.lost.length,
      deadLettered: result.deadLettered.length,
      duplicates: result.duplicates,
      readErrors: consumer.stats().readErrors,
      runtimeMs: Date.now() - started,
    });

    expect(loop.accepted.length).toBeGreaterThan(publishedAtPause);
    expect(pausedMs).toBeGreaterThanOrEqual(FAST_CONSUMER_OPTIONS.blockMs + READ_TIMEOUT_GRACE_MS);
    expect(result.lost).toEqual([]);
    expect(result.deadLettered).toEqual([]);
    expect(result.duplicates).toBeLessThanOrEqual(MAX_DUPLICATES_PER_FAULT);
    expect(logs.text()).toMatch(/Reading stream "[^"]+" works again after \d+ failed attempts/);
  });
});
