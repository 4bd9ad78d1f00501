import type { Redis } from 'ioredis';
import {
  decodeDeadLetter,
  EventConsumer,
  EventPublisher,
  NonRetryableEventError,
  type ConsumerOptions,
  type EventEnvelope,
} from '../../lib/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { inspectorClient, pendingCount } from '../support/stream-helpers.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';
import type { AdHocEvents } from '../support/ad-hoc-events.js';

describe('retries, dead letters and claims', () => {
  let stream: string;
  let deadLetterStream: string;
  let redis: Redis;
  let publisher: EventPublisher<AdHocEvents>;
  let logs: ReturnType<typeof captureLogs>;
  const consumers: EventConsumer<AdHocEvents>[] = [];

  // Short delays and a fast claimer keep each case under a few seconds.
  function consumer(group: string, name: string, options: ConsumerOptions = {}): EventConsumer<AdHocEvents> {
    const created = new EventConsumer<AdHocEvents>(group, name, {
      strict: false,
      stream,
      blockMs: 100,
      claimIntervalMs: 20,
      retry: { initialDelayMs: 50, maxDelayMs: 200, jitter: 0 },
      ...options,
    });
    consumers.push(created);
    return created;
  }

  async function deadLetters() {
    const entries = (await redis.xrange(deadLetterStream, '-', '+')) as Array<[string, string[]]>;
    return entries.map(([id, fields]) => decodeDeadLetter(id, fields));
  }

  beforeAll(() => {
    redis = inspectorClient();
  });

  afterAll(async () => {
    await redis.quit();
  });

  beforeEach(() => {
    logs = captureLogs();
    stream = uniqueKey('retries');
    deadLetterStream = `${stream}:dead-letter`;
    publisher = new EventPublisher<AdHocEvents>('test-source', { strict: false, stream });
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((created) => created.stop()));
    await publisher.close();
    await redis.del(stream, deadLetterStream);
    logs.restore();
  });

  it('dead-letters an event after maxAttempts failures', async () => {
    const group = `${stream}:g`;
    const attempts: number[] = [];
    const subject = consumer(group, 'c1', { retry: { maxAttempts: 3, initialDelayMs: 50, jitter: 0 } }).on(
      'always.fails',
      (_event, delivery) => {
        attempts.push(delivery.deliveryCount);
        throw new Error(`failure ${delivery.deliveryCount}`);
      },
    );
    await subject.start();
    const published = await publisher.publish('always.fails', { n: 1 });

    await waitFor(async () => (await redis.xlen(deadLetterStream)) === 1, { message: 'the dead letter' });
    // The counter and the log line follow the dead-letter write.
    await waitFor(() => subject.stats().deadLettered === 1, { message: 'the dead letter to be counted' });
    expect(attempts).toEqual([1, 2, 3]);
    expect(await pendingCount(redis, stream, group)).toBe(0);
    const [letter] = await deadLetters();
    expect(letter!.reason).toBe('max-attempts');
    expect(letter!.attempts).toBe(3);
    expect(letter!.error).toBe('failure 3');
    expect(letter!.stack).toContain('failure 3');
    expect(letter!.originalEntryId).toBe(published.entryId);
    expect(letter!.group).toBe(group);
    expect(letter!.consumer).toBe('c1');
    expect(letter!.originalFields).toContain(published.eventId);
    expect(subject.stats().failed).toBe(2);
    expect(logs.text()).toContain(`Moved event ${published.eventId} of type "always.fails"`);
  });

  it('keeps the event pending when the dead-letter write fails', async () => {
    const group = `${stream}:g`;
    await redis.set(deadLetterStream, 'not a stream');
    const subject = consumer(group, 'c1').on('bad.reference', () => {
      throw new NonRetryableEventError('no such topic');
    });
    await subject.start();
    await publisher.publish('bad.reference', {});

    await waitFor(() => logs.text().includes(`Failed to move event`), { message: 'the failed move to be logged' });
    expect(logs.text()).toContain('WRONGTYPE');
    expect(await pendingCount(redis, stream, group)).toBe(1);
    expect(subject.stats().deadLettered).toBe(0);
  });

  it('waits out retryAfterMs without using up attempts', async () => {
    const group = `${stream}:g`;
    let calls = 0;
    const subject = consumer(group, 'c1', { retry: { maxAttempts: 1, initialDelayMs: 50, jitter: 0 } }).on('locked.event', () => {
      calls += 1;
      if (calls <= 3) {
        throw Object.assign(new Error('another consumer holds the event'), { retryAfterMs: 30 });
      }
    });
    await subject.start();
    await publisher.publish('locked.event', {});

    await waitFor(() => subject.stats().handled === 1, { message: 'the event after the lock' });
    expect(calls).toBe(4);
    expect(subject.stats().deadLettered).toBe(0);
    expect(await redis.exists(deadLetterStream)).toBe(0);
  });

  it('acks an event that succeeds on a retry', async () => {
    const group = `${stream}:g`;
    let calls = 0;
    const subject = consumer(group, 'c1').on('flaky.once', () => {
      calls += 1;
      if (calls === 1) {
        throw new Error('temporary failure');
      }
    });
    await subject.start();
    await publisher.publish('flaky.once', {});

    await waitFor(() => subject.stats().handled === 1, { message: 'the retry to succeed' });
    expect(calls).toBe(2);
    expect(await pendingCount(redis, stream, group)).toBe(0);
    expect(await redis.exists(deadLetterStream)).toBe(0);
  });

  it('dead-letters a NonRetryableEventError at once', async () => {
    const group = `${stream}:g`;
    let calls = 0;
    const subject = consumer(group, 'c1').on('bad.reference', () => {
      calls += 1;
      throw new NonRetryableEventError('topic 42 does not exist');
    });
    await subject.start();
    await publisher.publish('bad.reference', {});

    await waitFor(async () => (await redis.xlen(deadLetterStream)) === 1, { message: 'the dead letter' });
    const [letter] = await deadLetters();
    expect(letter!.reason).toBe('non-retryable');
    expect(letter!.attempts).toBe(1);
    expect(letter!.error).toBe('topic 42 does not exist');
    expect(calls).toBe(1);
  });

  it('dead-letters malformed entries without calling handlers', async () => {
    const group = `${stream}:g`;
    const handled: unknown[] = [];
    const subject = consumer(group, 'c1').on('topic.accepted', (event) => {
      handled.push(event.payload);
    });
    await subject.start();
    await redis.xadd(
      stream,
      '*',
      'type',
      'topic.accepted',
      'id',
      'e-1',
      'source',
      's',
      'occurredAt',
      '2026-01-01T00:00:00Z',
      'payload',
      '{not json',
    );
    await redis.xadd(stream, '*', 'type', 'topic.accepted', 'payload', '{}');
    await publisher.publish('topic.accepted', { valid: true });

    await waitFor(async () => (await redis.xlen(deadLetterStream)) === 2, { message: 'two dead letters' });
    await waitFor(() => handled.length === 1, { message: 'the valid event' });
    const letters = await deadLetters();
    expect(letters.map((letter) => letter.reason)).toEqual(['malformed', 'malformed']);
    expect(letters[0]!.error).toContain('not valid JSON');
    expect(letters[1]!.error).toContain('no "id" field');
    expect(letters[1]!.originalFields).toEqual(['type', 'topic.accepted', 'payload', '{}']);
    expect(handled).toEqual([{ valid: true }]);
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'nothing pending' });
  });

  it('honours per-type and per-handler retry policies', async () => {
    const group = `${stream}:g`;
    const calls: Record<string, number> = { 'type.override': 0, 'handler.override': 0 };
    const subject = consumer(group, 'c1', { retryByType: { 'type.override': { maxAttempts: 1 } } })
      .on('type.override', () => {
        calls['type.override']! += 1;
        throw new Error('fails');
      })
      .on(
        'handler.override',
        () => {
          calls['handler.override']! += 1;
          throw new Error('fails');
        },
        { retry: { maxAttempts: 2 } },
      );
    await subject.start();
    await publisher.publish('type.override', {});
    await publisher.publish('handler.override', {});

    await waitFor(async () => (await redis.xlen(deadLetterStream)) === 2, { message: 'both dead letters' });
    expect(calls).toEqual({ 'type.override': 1, 'handler.override': 2 });
  });

  it('claims entries of a consumer that died', async () => {
    const group = `${stream}:g`;
    await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    const published = await publisher.publish('orphan.event', {});
    // A consumer that reads and then dies: the entry stays pending under its name.
    await redis.xreadgroup('GROUP', group, 'dead-consumer', 'COUNT', 10, 'STREAMS', stream, '>');

    const deliveries: number[] = [];
    const survivor = consumer(group, 'survivor', { claimIdleMs: 200 }).on('orphan.event', (event, delivery) => {
      expect(event.id).toBe(published.eventId);
      deliveries.push(delivery.deliveryCount);
    });
    await survivor.start();

    await waitFor(() => deliveries.length === 1, { message: 'the orphan to be claimed and handled' });
    expect(deliveries).toEqual([2]);
    expect(survivor.stats().claimed).toBe(1);
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'the claimed entry to be acked' });
    expect(logs.text()).toContain('from consumer "dead-consumer"');
  });

  it('does not hand a long-running handler’s event to another consumer', async () => {
    const group = `${stream}:g`;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const handledBy: string[] = [];
    const handler = (name: string) => async () => {
      handledBy.push(name);
      if (name === 'slow') {
        await gate;
      }
    };
    const slow = consumer(group, 'slow', { claimIdleMs: 200 }).on('long.job', handler('slow'));
    await slow.start();
    await publisher.publish('long.job', {});
    await waitFor(() => handledBy.length === 1, { message: 'the slow consumer to start the job' });

    const other = consumer(group, 'other', { claimIdleMs: 200 }).on('long.job', handler('other'));
    await other.start();
    const started = Date.now();
    // Stay well past claimIdleMs while the handler runs: the slow consumer refreshes its entry.
    await waitFor(
      async () => {
        const [row] = (await redis.xpending(stream, group, '-', '+', 1)) as Array<[string, string, number, number]>;
        return row !== undefined && row[1] === 'slow' && other.stats().claimed === 0 && Date.now() - started > 1_000;
      },
      { message: 'one second past claimIdleMs without a claim' },
    );
    release();

    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'the job to finish' });
    expect(handledBy).toEqual(['slow']);
    expect(other.stats().claimed).toBe(0);
  });

  it('clears pending entries deleted from the stream', async () => {
    const group = `${stream}:g`;
    await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    const published = await publisher.publish('trimmed.event', {});
    await redis.xreadgroup('GROUP', group, 'dead-consumer', 'COUNT', 10, 'STREAMS', stream, '>');
    await redis.xdel(stream, published.entryId);

    let calls = 0;
    const survivor = consumer(group, 'survivor', { claimIdleMs: 100 }).on('trimmed.event', () => {
      calls += 1;
    });
    await survivor.start();

    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'the deleted entry to be cleared' });
    await waitFor(() => survivor.stats().deletedWhilePending === 1, { message: 'the deletion to be counted' });
    expect(calls).toBe(0);
  });

  it('clears its own pending entries deleted while it was down', async () => {
    const group = `${stream}:g`;
    const first = consumer(group, 'same-name', { retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 } }).on('gone.event', () => {
      throw new Error('fails once');
    });
    await first.start();
    const published = await publisher.publish('gone.event', {});
    await waitFor(() => first.stats().failed === 1, { message: 'the failure' });
    await first.stop();
    await redis.xdel(stream, published.entryId);

    const second = consumer(group, 'same-name').on('gone.event', () => undefined);
    await second.start();
    await waitFor(() => second.stats().deletedWhilePending === 1, { message: 'the deleted entry to be cleared' });
    expect(await pendingCount(redis, stream, group)).toBe(0);
  });

  it('deletes idle consumers only when nothing is pending', async () => {
    const group = `${stream}:g`;
    await redis.xgroup('CREATE', stream, group, '$', 'MKSTREAM');
    await redis.xgroup('CREATECONSUMER', stream, group, 'ghost-empty');
    await publisher.publish('held.event', {});
    await redis.xreadgroup('GROUP', group, 'ghost-holding', 'COUNT', 1, 'STREAMS', stream, '>');

    // claimIdleMs is long, so the holding ghost keeps its entry for the whole test.
    const live = consumer(group, 'live', { consumerIdleTimeoutMs: 1_000, claimIdleMs: 600_000 }).on('held.event', () => undefined);
    await live.start();

    await waitFor(() => live.stats().consumersRemoved === 1, { message: 'the empty ghost to be deleted', timeoutMs: 15_000 });
    const consumersLeft = ((await redis.xinfo('CONSUMERS', stream, group)) as unknown[][]).map((info) => info[1]);
    expect(consumersLeft.sort()).toEqual(['ghost-holding', 'live']);
  });

  it('handles an event whose orderingKey throws', async () => {
    const group = `${stream}:g`;
    const handled: number[] = [];
    const subject = consumer(group, 'c1', {
      concurrency: 2,
      orderingKey: (event: EventEnvelope) => {
        if ((event.payload as { index: number }).index === 1) {
          throw new Error('no key for index 1');
        }
        return 'same';
      },
    }).on('keyed.event', (event) => {
      handled.push(event.payload.index);
    });
    await subject.start();
    for (const index of [0, 1, 2]) {
      await publisher.publish('keyed.event', { index });
    }

    await waitFor(() => handled.length === 3, { message: 'all three events' });
    expect(handled.sort()).toEqual([0, 1, 2]);
    expect(logs.text()).toContain('orderingKey failed for entry');
    expect(subject.status).toBe('running');
  });

  it('keeps events of one ordering key in order with concurrency', async () => {
    const group = `${stream}:g`;
    const seen: Record<string, number[]> = {};
    let running = 0;
    let maxRunning = 0;
    const subject = consumer(group, 'c1', {
      concurrency: 8,
      batchSize: 50,
      startFrom: 'all',
      orderingKey: (event: EventEnvelope) => (event.payload as { topicId: string }).topicId,
    }).on('topic.step', async (event) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, (event.payload.step * 7) % 5));
      (seen[event.payload.topicId] ??= []).push(event.payload.step);
      running -= 1;
    });
    for (let step = 0; step < 20; step += 1) {
      for (const topicId of ['a', 'b', 'c', 'd']) {
        await publisher.publish('topic.step', { topicId, step });
      }
    }
    await subject.start();

    await waitFor(() => Object.values(seen).flat().length === 80, { message: 'all 80 events' });
    const inOrder = Array.from({ length: 20 }, (_, step) => step);
    for (const topicId of ['a', 'b', 'c', 'd']) {
      expect(seen[topicId]).toEqual(inOrder);
    }
    expect(maxRunning).toBeGreaterThan(1);
  });
});
