import { Redis } from 'ioredis';
import { EventConsumer, EventPublisher } from '../../lib/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';
import type { AdHocEvents } from '../support/ad-hoc-events.js';

describe('consumer shutdown', () => {
  let server: RedisServer;
  let logs: ReturnType<typeof captureLogs>;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeEach(async () => {
    logs = captureLogs();
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
    server = await startRedisServer();
  });

  afterEach(async () => {
    process.off('unhandledRejection', onUnhandled);
    await server.stop();
    logs.restore();
  });

  it('stops cleanly when Redis is already down', async () => {
    const consumer = new EventConsumer<AdHocEvents>('g', 'c', {
      strict: false,
      redis: server.url,
      stream: uniqueKey('shutdown'),
      blockMs: 60_000,
    });
    consumer.on('any.event', () => undefined);
    await consumer.start();
    await server.kill();
    await waitFor(() => logs.text().includes('lost its connection') || logs.text().includes('failed'), {
      message: 'the outage to be noticed',
    });

    await consumer.stop();
    expect(consumer.status).toBe('stopped');
    expect(logs.text()).toContain('Stopped consumer "c" of group "g"');
    expect(unhandled).toEqual([]);
  });

  it('stops when the connection went silent', async () => {
    const proxy = await startTcpProxy(server.port);
    try {
      const consumer = new EventConsumer<AdHocEvents>('g', 'c', {
        strict: false,
        redis: `redis://127.0.0.1:${proxy.port}`,
        stream: uniqueKey('shutdown'),
        blockMs: 60_000,
      });
      consumer.on('any.event', () => undefined);
      await consumer.start();
      proxy.pause();

      // Without a bound on QUIT, closing the acknowledgement connection would wait forever.
      await consumer.stop();
      expect(consumer.status).toBe('stopped');
      expect(unhandled).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('leaves unfinished events pending after shutdownTimeoutMs', async () => {
    const stream = uniqueKey('shutdown');
    const consumer = new EventConsumer<AdHocEvents>('g', 'c', {
      strict: false,
      redis: server.url,
      stream,
      blockMs: 100,
      shutdownTimeoutMs: 200,
    });
    let started = false;
    consumer.on('stuck.event', () => {
      started = true;
      return new Promise(() => undefined);
    });
    await consumer.start();
    const publisher = new EventPublisher<AdHocEvents>('svc', { strict: false, redis: server.url, stream });
    await publisher.publish('stuck.event', {});
    await waitFor(() => started, { message: 'the handler to start' });

    await consumer.stop();
    expect(logs.text()).toContain('1 handlers of consumer "c" still running after 200 ms');
    const inspector = new Redis(server.url);
    const [count] = (await inspector.xpending(stream, 'g')) as [number];
    await inspector.quit();
    await publisher.close();
    expect(count).toBe(1);
    expect(unhandled).toEqual([]);
  });
});
