import type { Redis } from 'ioredis';
import { EventConsumer, EventPublisher, InvalidOptionError, type EventEnvelope } from '../../lib/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { inspectorClient, pendingCount } from '../support/stream-helpers.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';
import type { AdHocEvents } from '../support/ad-hoc-events.js';

describe('EventConsumer', () => {
  let stream: string;
  let redis: Redis;
  let publisher: EventPublisher<AdHocEvents>;
  let logs: ReturnType<typeof captureLogs>;
  const consumers: EventConsumer<AdHocEvents>[] = [];

  // Retries wait a minute here, so a failed event stays pending for the whole test.
  function consumer(group: string, name: string, options: { blockMs?: number; concurrency?: number } = {}): EventConsumer<AdHocEvents> {
    const created = new EventConsumer<AdHocEvents>(group, name, {
      strict: false,
      stream,
      blockMs: 200,
      retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
      ...options,
    });
    consumers.push(created);
    return created;
  }

  beforeAll(() => {
    redis = inspectorClient();
  });

  afterAll(async () => {
    await redis.quit();
  });

  beforeEach(() => {
    logs = captureLogs();
    stream = uniqueKey('consumer');
    publisher = new EventPublisher<AdHocEvents>('test-source', { strict: false, stream });
  });

  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((created) => created.stop()));
    await publisher.close();
    await redis.del(stream);
    logs.restore();
  });

  it('delivers every event to each of two groups', async () => {
    const seen: Record<string, string[]> = { a: [], b: [] };
    const first = consumer(`${stream}:a`, 'a-1').on('item.created', (event) => {
      seen['a']!.push(event.id);
    });
    const second = consumer(`${stream}:b`, 'b-1').on('item.created', (event) => {
      seen['b']!.push(event.id);
    });
    await Promise.all([first.start(), second.start()]);

    const ids: string[] = [];
    for (let index = 0; index < 20; index += 1) {
      ids.push((await publisher.publish('item.created', { index })).eventId);
    }

    await waitFor(() => seen['a']!.length === 20 && seen['b']!.length === 20, { message: 'both groups to see 20 events' });
    expect(seen['a']).toEqual(ids);
    expect(seen['b']).toEqual(ids);
  });

  it('splits one group between two consumers without duplicates', async () => {
    const group = `${stream}:shared`;
    const handledBy = new Map<string, string[]>();
    const record = (name: string) => async (event: EventEnvelope) => {
      handledBy.set(event.id, [...(handledBy.get(event.id) ?? []), name]);
      await new Promise((resolve) => setImmediate(resolve));
    };
    const first = consumer(group, 'worker-1').on('job.queued', record('worker-1'));
    const second = consumer(group, 'worker-2').on('job.queued', record('worker-2'));
    await Promise.all([first.start(), second.start()]);

    const published = await Promise.all(Array.from({ length: 200 }, (_, index) => publisher.publish('job.queued', { index })));

    await waitFor(() => handledBy.size === 200, { message: '200 events to be handled' });
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'no pending entries' });
    const duplicates = [...handledBy.values()].filter((names) => names.length > 1);
    expect(duplicates).toEqual([]);
    expect(new Set(handledBy.keys())).toEqual(new Set(published.map((result) => result.eventId)));
    const workers = new Set([...handledBy.values()].map((names) => names[0]));
    expect(workers).toEqual(new Set(['worker-1', 'worker-2']));
  });

  it('leaves a failed event pending while later events flow', async () => {
    const group = `${stream}:failing`;
    const handled: number[] = [];
    const subject = consumer(group, 'only').on('step.done', (event) => {
      if (event.payload.index === 0) {
        throw new Error('step 0 cannot be processed');
      }
      handled.push(event.payload.index);
    });
    await subject.start();

    const failed = await publisher.publish('step.done', { index: 0 });
    await publisher.publish('step.done', { index: 1 });
    await publisher.publish('step.done', { index: 2 });

    await waitFor(() => handled.length === 2, { message: 'the later events to be handled' });
    expect(handled).toEqual([1, 2]);
    const pending = (await redis.xpending(stream, group, '-', '+', 10)) as Array<[string, string, number, number]>;
    expect(pending.map((row) => row[0])).toEqual([failed.entryId]);
    expect(logs.text()).toContain(`Handler failed for event ${failed.eventId} of type "step.done"`);
    expect(logs.text()).toContain('step 0 cannot be processed');
    expect(subject.status).toBe('running');
  });

  it('acknowledges event types it has no handler for', async () => {
    const group = `${stream}:partial`;
    const handled: string[] = [];
    const subject = consumer(group, 'only').on('wanted.type', (event) => {
      handled.push(event.type);
    });
    await subject.start();

    await publisher.publish('other.type', { ignored: true });
    await publisher.publish('wanted.type', {});

    await waitFor(() => handled.length === 1, { message: 'the wanted event' });
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'the unhandled event to be acked' });
    expect(handled).toEqual(['wanted.type']);
  });

  it('runs every handler of a type and acks only when all succeed', async () => {
    const group = `${stream}:multi`;
    const calls: string[] = [];
    let secondFails = true;
    const subject = consumer(group, 'only')
      .on('order.paid', () => {
        calls.push('first');
      })
      .on('order.paid', async () => {
        calls.push('second');
        if (secondFails) {
          throw new Error('second handler failed');
        }
      });
    await subject.start();

    await publisher.publish('order.paid', {});
    await waitFor(() => calls.length === 2, { message: 'both handlers to run' });
    expect(calls.sort()).toEqual(['first', 'second']);
    await waitFor(() => logs.text().includes('second handler failed'), { message: 'the failure to be logged' });
    expect(await pendingCount(redis, stream, group)).toBe(1);

    secondFails = false;
    await publisher.publish('order.paid', {});
    await waitFor(() => calls.length === 4, { message: 'the second event to reach both handlers' });
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 1, { message: 'only the failed event to stay pending' });
  });

  it('handles its own pending entries first after a restart', async () => {
    const group = `${stream}:restart`;
    let fail = true;
    const handled: number[] = [];
    const handler = (event: EventEnvelope<{ index: number }>) => {
      if (fail) {
        throw new Error('not yet');
      }
      handled.push(event.payload.index);
    };
    const before = consumer(group, 'replica-1').on('task.created', handler);
    await before.start();
    await publisher.publish('task.created', { index: 1 });
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 1, { message: 'the failed entry to be pending' });
    await before.stop();

    fail = false;
    const deliveryCounts: number[] = [];
    const after = consumer(group, 'replica-1').on('task.created', (event, delivery) => {
      deliveryCounts.push(delivery.deliveryCount);
      handler(event);
    });
    await after.start();
    await publisher.publish('task.created', { index: 2 });

    await waitFor(() => handled.length === 2, { message: 'the pending and the new event' });
    expect(handled).toEqual([1, 2]);
    expect(deliveryCounts).toEqual([2, 1]);
    expect(await pendingCount(redis, stream, group)).toBe(0);
  });

  it('creates the group again when the stream is deleted', async () => {
    const group = `${stream}:recreate`;
    const handled: number[] = [];
    const subject = consumer(group, 'only').on('thing.happened', (event) => {
      handled.push(event.payload.index);
    });
    await subject.start();
    await publisher.publish('thing.happened', { index: 1 });
    await waitFor(() => handled.length === 1, { message: 'the first event' });

    await redis.del(stream);
    // Published before the consumer notices: the recreated group must still deliver it.
    await publisher.publish('thing.happened', { index: 2 });
    await waitFor(() => logs.text().includes(`Consumer group "${group}" or stream "${stream}" disappeared`), {
      message: 'the missing group to be detected',
    });
    await waitFor(() => handled.length === 2, { message: 'the event after the deletion' });
    expect(handled).toEqual([1, 2]);
  });

  it('stops promptly during a blocking read', async () => {
    const subject = consumer(`${stream}:stop`, 'only', { blockMs: 60_000 }).on('never.published', () => undefined);
    await subject.start();
    // Let the loop move past its pending-entry read into the blocking read.
    await waitFor(
      async () => {
        const clients = await redis.client('LIST');
        return String(clients).includes(`${stream}:stop:only:reader`) && String(clients).includes('cmd=xreadgroup');
      },
      { message: 'the reader to block' },
    );

    const startedAt = Date.now();
    await subject.stop();
    expect(subject.status).toBe('stopped');
    expect(Date.now() - startedAt).toBeLessThan(60_000);
  });

  it('acks while a long blocking read is open', async () => {
    const group = `${stream}:acks`;
    const handled: number[] = [];
    const subject = consumer(group, 'only', { blockMs: 60_000 }).on('ack.checked', (event) => {
      handled.push(event.payload.index);
    });
    await subject.start();

    // Each ack is sent while the next XREADGROUP BLOCK 60000 is already waiting. On a shared
    // connection the ack would queue behind that read for a minute.
    for (let index = 0; index < 3; index += 1) {
      await publisher.publish('ack.checked', { index });
      await waitFor(() => handled.length === index + 1, { message: `event ${index} to be handled` });
      await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: `event ${index} to be acked` });
    }
    expect(handled).toEqual([0, 1, 2]);
  });

  it('reads with a commandTimeout shorter than blockMs', async () => {
    const group = `${stream}:timeout`;
    const url = new URL(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
    const handled: number[] = [];
    const subject = new EventConsumer<AdHocEvents>(group, 'only', {
      strict: false,
      stream,
      blockMs: 500,
      redis: { host: url.hostname, port: Number(url.port || 6379), commandTimeout: 50 },
    });
    consumers.push(subject);
    subject.on('slow.read', (event) => {
      handled.push(event.payload.index);
    });
    const startedAt = Date.now();
    await subject.start();

    // Three blocking reads of 500 ms each outlast the 50 ms command timeout several times over.
    await waitFor(() => Date.now() - startedAt > 1_600, { message: 'three block periods', timeoutMs: 5_000 });
    await publisher.publish('slow.read', { index: 1 });
    await waitFor(() => handled.length === 1, { message: 'the event' });
    expect(subject.stats().readErrors).toBe(0);
    expect(logs.text()).not.toContain('timed out');
  });

  it('waits for a running handler before stop resolves', async () => {
    const group = `${stream}:drain`;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished = false;
    const subject = consumer(group, 'only').on('slow.job', async () => {
      await gate;
      finished = true;
    });
    await subject.start();
    await publisher.publish('slow.job', {});
    await waitFor(async () => (await pendingCount(redis, stream, group)) === 1, { message: 'the job to start' });

    const stopping = subject.stop();
    release();
    await stopping;
    expect(finished).toBe(true);
    expect(await pendingCount(redis, stream, group)).toBe(0);
  });

  it('rejects invalid options with the option name', () => {
    expect(() => new EventConsumer<AdHocEvents>('', 'c')).toThrow(InvalidOptionError);
    expect(() => new EventConsumer<AdHocEvents>('g', 'c', { strict: false, batchSize: 0 })).toThrow(
      'Invalid option "batchSize": expected an integer from 1 to 1000, got 0.',
    );
    expect(() => new EventConsumer<AdHocEvents>('g', 'c', { strict: false, blockMs: 1.5 })).toThrow('Invalid option "blockMs"');
    expect(() => new EventConsumer<AdHocEvents>('g', 'c', { strict: false, startFrom: 'yesterday' })).toThrow('Invalid option "startFrom"');
    expect(() => new EventConsumer<AdHocEvents>('g', 'c', { strict: false, redis: 'http://127.0.0.1:6379' })).toThrow(
      'Invalid option "redis"',
    );
    expect(() => new EventConsumer<AdHocEvents>('g', 'has space')).toThrow('Invalid option "consumer"');
  });

  it('rejects handlers added after start', async () => {
    const subject = consumer(`${stream}:late`, 'only').on('a.b', () => undefined);
    await subject.start();
    expect(() => subject.on('c.d', () => undefined)).toThrow('after start()');
  });
});
