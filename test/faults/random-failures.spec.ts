import { jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import { EventConsumer, type EventPublisher } from '../../lib/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { isRedisServerAvailable, startRedisServer, stopAllRedisServers } from '../support/redis-server.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';
import {
  adminClient,
  FAST_CONSUMER_OPTIONS,
  faultPublisher,
  pendingCount,
  RACE_DUPLICATES_PER_CONSUMER,
  readDeadLetters,
  reconcile,
  reportNumbers,
  type FaultCatalog,
} from './fault-harness.js';

jest.setTimeout(60_000);

const describeWithRedisServer = isRedisServerAvailable() ? describe : describe.skip;

const TOTAL_EVENTS = 10_000;
/** Events whose handler fails on every attempt, so the run always dead-letters some. */
const ALWAYS_FAILING_EVENTS = 5;
const FAIL_RATE = 0.2;
const MAX_ATTEMPTS = 5;

/** Attempts of one event as its handlers saw them. */
interface EventAttempts {
  successes: number;
  failures: number;
  deliveryCounts: number[];
}

describeWithRedisServer('random handler failures', () => {
  let admin: Redis | undefined;
  let publisher: EventPublisher<FaultCatalog> | undefined;
  let logs: ReturnType<typeof captureLogs>;
  const consumers: Array<EventConsumer<FaultCatalog>> = [];

  beforeEach(() => {
    logs = captureLogs();
  });

  afterEach(async () => {
    await Promise.allSettled(consumers.splice(0).map((consumer) => consumer.stop()));
    await publisher?.close();
    admin?.disconnect();
    await stopAllRedisServers();
    logs.restore();
  });

  it('retries, then dead-letters after 5 failures', async () => {
    const started = Date.now();
    const server = await startRedisServer();
    const inspector = adminClient(server.url);
    admin = inspector;
    const stream = uniqueKey('random-failures');
    const type = 'random.failure';
    const group = 'random-group';
    const attempts = new Map<string, EventAttempts>();

    for (const name of ['c1', 'c2', 'c3']) {
      const consumer = new EventConsumer<FaultCatalog>(group, name, {
        ...FAST_CONSUMER_OPTIONS,
        redis: server.url,
        stream,
        concurrency: 8,
        retry: { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: MAX_ATTEMPTS },
      }).on(type, async (event, delivery) => {
        await new Promise((resolve) => setImmediate(resolve));
        let record = attempts.get(event.id);
        if (record === undefined) {
          record = { successes: 0, failures: 0, deliveryCounts: [] };
          attempts.set(event.id, record);
        }
        record.deliveryCounts.push(delivery.deliveryCount);
        if (event.payload.alwaysFail === true || Math.random() < FAIL_RATE) {
          record.failures += 1;
          throw new Error(`Injected failure of event ${event.id}`);
        }
        record.successes += 1;
      });
      consumers.push(consumer);
      await consumer.start();
    }

    const activePublisher = faultPublisher(server.url, stream);
    publisher = activePublisher;
    const published: string[] = [];
    const chunkSize = 200;
    for (let first = 0; first < TOTAL_EVENTS; first += chunkSize) {
      const sequences = Array.from({ length: chunkSize }, (_, index) => first + index);
      const results = await Promise.all(
        sequences.map((sequence) =>
          activePublisher.publish(type, { sequence, alwaysFail: sequence % (TOTAL_EVENTS / ALWAYS_FAILING_EVENTS) === 0 }),
        ),
      );
      published.push(...results.map(({ eventId }) => eventId));
    }

    const deadLetterStream = `${stream}:dead-letter`;
    const finished = (id: string): boolean => {
      const record = attempts.get(id);
      return record !== undefined && (record.successes > 0 || record.failures >= MAX_ATTEMPTS);
    };
    await waitFor(() => published.every(finished), {
      timeoutMs: 45_000,
      intervalMs: 100,
      message: `all ${TOTAL_EVENTS} events handled or failed ${MAX_ATTEMPTS} times`,
    });
    await waitFor(async () => (await pendingCount(inspector, stream, group)) === 0, { message: 'nothing pending' });

    const deadLetters = await readDeadLetters(inspector, deadLetterStream);
    const succeeded = new Map([...attempts].filter(([, record]) => record.successes > 0).map(([id, record]) => [id, record.successes]));
    const result = reconcile({ published, handled: succeeded, deadLettered: deadLetters.map((letter) => letter.eventId) });
    const failedEveryAttempt = published.filter((id) => (attempts.get(id)?.failures ?? 0) >= MAX_ATTEMPTS).sort();
    const overFailed = published.filter((id) => (attempts.get(id)?.failures ?? 0) > MAX_ATTEMPTS);
    const handlerRuns = [...attempts.values()].reduce((sum, record) => sum + record.deliveryCounts.length, 0);
    const stats = consumers.map((consumer) => consumer.stats());
    reportNumbers('random failures', {
      published: result.published,
      handlerRuns,
      lost: result.lost.length,
      deadLettered: result.deadLettered.length,
      failedEveryAttempt: failedEveryAttempt.length,
      duplicates: result.duplicates,
      claimed: stats.map((entry) => entry.claimed).join('+'),
      runtimeMs: Date.now() - started,
    });

    expect(result.lost).toEqual([]);
    expect(overFailed).toEqual([]);
    expect([...result.deadLettered].sort()).toEqual(failedEveryAttempt);
    expect(deadLetters).toHaveLength(failedEveryAttempt.length);
    expect(failedEveryAttempt.length).toBeGreaterThanOrEqual(ALWAYS_FAILING_EVENTS);
    for (const letter of deadLetters) {
      expect(letter).toMatchObject({ reason: 'max-attempts', attempts: MAX_ATTEMPTS });
      expect(attempts.get(letter.eventId!)?.successes).toBe(0);
    }
    // No consumer crashes and running handlers keep their entries fresh, so only the race in
    // delivery-bugs.spec.ts can make an event succeed twice.
    expect(result.duplicates).toBeLessThanOrEqual(consumers.length * RACE_DUPLICATES_PER_CONSUMER);
  });
});
