import { Cluster } from 'ioredis';
import { decodeDeadLetter, EventConsumer, EventPublisher, NonRetryableEventError, type EventEnvelope } from '../../lib/index.js';
import type { AdHocEvents } from '../support/ad-hoc-events.js';
import { captureLogs } from '../support/capture-logs.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';

type ConsumerOptions = ConstructorParameters<typeof EventConsumer<AdHocEvents>>[2];

describe('Redis Cluster', () => {
  let cluster: RedisCluster | undefined;
  // The client the bus borrows, as an application passes it, and a second one for the checks.
  let busCluster: Cluster | undefined;
  let busRedis: Cluster | undefined;
  let inspector: Cluster | undefined;
  let stream: string;
  let publisher: EventPublisher<AdHocEvents>;
  let logs: ReturnType<typeof captureLogs>;
  const consumers: EventConsumer<AdHocEvents>[] = [];

  function consumer(group: string, name: string, options: ConsumerOptions = {}): EventConsumer<AdHocEvents> {
    const created = new EventConsumer<AdHocEvents>(group, name, {
      strict: false,
      redis: busRedis,
      stream,
      blockMs: 200,
      claimIntervalMs: 50,
      retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
      ...options,
    });
    consumers.push(created);
    return created;
  }

  async function pendingCount(key: string, group: string): Promise<number> {
    const summary = (await inspector!.xpending(key, group)) as [number, ...unknown[]];
    return Number(summary[0]);
  }

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const startupNodes = [{ host: '127.0.0.1', port: cluster.nodes[0]!.port }];
    busCluster = new Cluster(startupNodes);
    busRedis = busCluster;
    inspector = new Cluster(startupNodes);
    await waitFor(async () => (await inspector!.ping()) === 'PONG', { message: 'the inspector to reach the cluster' });
  }, 30_000);

  afterAll(async () => {
    await Promise.allSettled([busCluster?.quit(), inspector?.quit()]);
    await cluster?.stop();
  });

  beforeEach(() => {
    logs = captureLogs();
    // The hash tag puts the stream and its default dead-letter stream in one slot.
    stream = `{${uniqueKey('cluster')}}:events`;
    publisher = new EventPublisher<AdHocEvents>('cluster-test', { strict: false, redis: busRedis, stream });
  });

  afterEach(async () => {
    await Promise.allSettled(consumers.splice(0).map((created) => created.stop()));
    await publisher.close();
    logs.restore();
  });

  /** Waits until CLIENT LIST on some master shows the named connection blocked in XREADGROUP. */
  async function waitForBlockedReader(connectionName: string): Promise<void> {
    await waitFor(
      async () => {
        const lists = await Promise.all(inspector!.nodes('master').map((node) => node.client('LIST')));
        const lines = lists.flatMap((list) => String(list).split('\n'));
        return lines.some((line) => line.includes(`name=${connectionName} `) && line.includes('cmd=xreadgroup'));
      },
      { message: `connection "${connectionName}" to block in XREADGROUP` },
    );
  }

  it('puts tagged stream keys in one slot', async () => {
    const masters = inspector!.nodes('master');

    expect(masters).toHaveLength(3);
    expect(await inspector!.cluster('KEYSLOT', stream)).toBe(await inspector!.cluster('KEYSLOT', `${stream}:dead-letter`));
  });

  it('publishes and consumes 300 events', async () => {
    const seen: string[] = [];
    const worker = consumer(`${stream}:group`, 'worker-1').on('item.created', (event) => {
      seen.push(event.id);
    });
    await worker.start();

    const published: string[] = [];
    for (let index = 0; index < 300; index += 1) {
      published.push((await publisher.publish('item.created', { index })).eventId);
    }

    await waitFor(() => seen.length >= 300, { message: '300 handled events' });
    expect(seen).toEqual(published);
    await waitFor(async () => (await pendingCount(stream, `${stream}:group`)) === 0, { message: 'no pending entries' });
    expect(worker.stats().handled).toBe(300);
  });

  it('dead-letters a non-retryable failure', async () => {
    const group = `${stream}:group`;
    const worker = consumer(group, 'worker-1').on('order.placed', () => {
      throw new NonRetryableEventError('order does not exist');
    });
    await worker.start();

    const { eventId } = await publisher.publish('order.placed', { orderId: 'o-1' });

    const deadLetterStream = `${stream}:dead-letter`;
    await waitFor(async () => (await inspector!.xlen(deadLetterStream)) === 1, { message: 'one dead letter' });
    const [[id, fields]] = (await inspector!.xrange(deadLetterStream, '-', '+')) as [[string, string[]]];
    const letter = decodeDeadLetter(id, fields);
    expect(letter.reason).toBe('non-retryable');
    expect(letter.eventId).toBe(eventId);
    expect(letter.error).toBe('order does not exist');
    expect(await pendingCount(stream, group)).toBe(0);
    expect(worker.stats().deadLettered).toBe(1);
  });

  it('retries a failed handler until it succeeds', async () => {
    const group = `${stream}:group`;
    const deliveries: number[] = [];
    const worker = consumer(group, 'worker-1', { retry: { initialDelayMs: 100, maxDelayMs: 100, jitter: 0 } }).on(
      'job.queued',
      (_event, delivery) => {
        deliveries.push(delivery.deliveryCount);
        if (delivery.deliveryCount === 1) {
          throw new Error('temporary failure');
        }
      },
    );
    await worker.start();

    await publisher.publish('job.queued', { index: 1 });

    await waitFor(() => worker.stats().handled === 1, { message: 'the retried event to be handled' });
    expect(deliveries).toEqual([1, 2]);
    expect(worker.stats().failed).toBe(1);
    await waitFor(async () => (await pendingCount(stream, group)) === 0, { message: 'no pending entries' });
  });

  it('splits one group between two consumers', async () => {
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

    await waitFor(() => handledBy.size === 200, { message: '200 distinct handled events' });
    await waitFor(async () => (await pendingCount(stream, group)) === 0, { message: 'no pending entries' });
    const duplicates = [...handledBy].filter(([, names]) => names.length > 1);
    expect(duplicates).toEqual([]);
    expect(new Set(handledBy.keys())).toEqual(new Set(published.map((result) => result.eventId)));
    expect(first.stats().handled).toBeGreaterThan(0);
    expect(second.stats().handled).toBeGreaterThan(0);
  });

  it('stops a consumer blocked in a read promptly', async () => {
    const group = `${stream}:group`;
    const worker = consumer(group, 'worker-1', { blockMs: 10_000 }).on('item.created', () => undefined);
    await worker.start();
    await waitForBlockedReader(`${group}:worker-1:reader`);

    const startedAt = Date.now();
    await worker.stop();

    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(worker.status).toBe('stopped');
  });

  it('replaces a silent reader connection', async () => {
    const group = `${stream}:group`;
    const handled: string[] = [];
    const worker = consumer(group, 'worker-1').on('item.created', (event) => {
      handled.push(event.id);
    });
    await worker.start();
    const masters = inspector!.nodes('master');

    // Paused writes hold XREADGROUP without a reply, as a silent link would. The reader must
    // give up after blockMs + 5 s (5.2 s here) and replace its socket.
    await Promise.all(masters.map((node) => node.client('PAUSE', 20_000, 'WRITE')));
    try {
      await waitFor(() => logs.text().includes('Command timed out'), { timeoutMs: 10_000, message: 'the reader to time out' });
    } finally {
      await Promise.all(masters.map((node) => node.client('UNPAUSE')));
    }
    const { eventId } = await publisher.publish('item.created', { index: 1 });

    await waitFor(() => handled.includes(eventId), { message: 'an event handled after the timeout' });
    expect(worker.stats().readErrors).toBeGreaterThan(0);
  }, 20_000);

  it('keeps the entry pending on CROSSSLOT without a hash tag', async () => {
    // Without braces the stream and its dead-letter stream hash to different slots.
    const untagged = `${uniqueKey('cluster-untagged')}:events`;
    const deadLetterStream = `${untagged}:dead-letter`;
    expect(await inspector!.cluster('KEYSLOT', untagged)).not.toBe(await inspector!.cluster('KEYSLOT', deadLetterStream));
    const untaggedPublisher = new EventPublisher<AdHocEvents>('cluster-test', { strict: false, redis: busRedis, stream: untagged });
    const group = `${untagged}:group`;
    const worker = consumer(group, 'worker-1', { stream: untagged }).on('order.placed', () => {
      throw new NonRetryableEventError('order does not exist');
    });
    await worker.start();

    try {
      await untaggedPublisher.publish('order.placed', { orderId: 'o-1' });

      await waitFor(() => logs.text().includes('Failed to move event'), { message: 'the failed dead-letter move to be logged' });
    } finally {
      await untaggedPublisher.close();
    }
    const failures = logs.lines.filter((line) => line.level === 'error' && line.text.includes('Failed to move event'));
    expect(failures).toHaveLength(1);
    expect(failures[0]!.text).toContain('CROSSSLOT');
    expect(await pendingCount(untagged, group)).toBe(1);
    expect(await inspector!.exists(deadLetterStream)).toBe(0);
    expect(worker.stats().deadLettered).toBe(0);
  });
});
