import { Redis } from 'ioredis';
import { EventPublisher, PublishError, PublishTimeoutError, RedisOutOfMemoryError } from '../../lib/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';
import type { AdHocEvents } from '../support/ad-hoc-events.js';

describe('EventPublisher during outages', () => {
  let server: RedisServer;
  let logs: ReturnType<typeof captureLogs>;

  beforeEach(async () => {
    logs = captureLogs();
    server = await startRedisServer();
  });

  afterEach(async () => {
    await server.stop();
    logs.restore();
  });

  it('rejects within publishTimeoutMs while Redis is down and writes nothing later', async () => {
    const stream = uniqueKey('outage');
    const publisher = new EventPublisher<AdHocEvents>('svc', { strict: false, redis: server.url, stream, publishTimeoutMs: 300 });
    try {
      await publisher.publish('first.event', {});
      await server.kill();
      await waitFor(() => logs.text().includes('lost its connection') || logs.text().includes('failed'), {
        message: 'the outage to be noticed',
      });

      const failure = await publisher.publish('lost.event', {}).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(PublishTimeoutError);
      expect(String(failure)).toContain('within 300 ms');
      expect(String(failure)).toContain('nothing was written');

      await server.restart();
      await waitFor(
        async () =>
          await publisher.publish('after.restart', {}).then(
            () => true,
            () => false,
          ),
        {
          message: 'a publish to succeed after the restart',
        },
      );
      const inspector = new Redis(server.url);
      const types = ((await inspector.xrange(stream, '-', '+')) as Array<[string, string[]]>).map(([, fields]) => fields[1]);
      await inspector.quit();
      expect(types).not.toContain('lost.event');
    } finally {
      await publisher.close();
    }
  });

  it('completes a publish started during a short outage', async () => {
    const stream = uniqueKey('outage');
    const publisher = new EventPublisher<AdHocEvents>('svc', { strict: false, redis: server.url, stream, publishTimeoutMs: 20_000 });
    try {
      await publisher.publish('first.event', {});
      await server.kill();
      await waitFor(() => logs.text().includes('lost its connection') || logs.text().includes('failed'), {
        message: 'the outage to be noticed',
      });

      const pending = publisher.publish('during.outage', {});
      await server.restart();
      const result = await pending;
      expect(result.entryId).toMatch(/^\d+-\d+$/);
    } finally {
      await publisher.close();
    }
  });

  it('rejects at once beyond maxWaitingPublishes', async () => {
    const publisher = new EventPublisher<AdHocEvents>('svc', {
      strict: false,
      redis: server.url,
      stream: uniqueKey('outage'),
      publishTimeoutMs: 500,
      maxWaitingPublishes: 2,
    });
    try {
      await publisher.publish('first.event', {});
      await server.kill();
      await waitFor(() => logs.text().includes('lost its connection') || logs.text().includes('failed'), {
        message: 'the outage to be noticed',
      });

      const waiting = [publisher.publish('a.b', {}), publisher.publish('a.b', {})].map((promise) =>
        promise.catch((error: unknown) => error),
      );
      const third = await publisher.publish('a.b', {}).catch((error: unknown) => error);
      expect(third).toBeInstanceOf(PublishError);
      expect(String(third)).toContain('maxWaitingPublishes');
      for (const error of await Promise.all(waiting)) {
        expect(error).toBeInstanceOf(PublishTimeoutError);
      }
    } finally {
      await publisher.close();
    }
  });

  it('reports out-of-memory as RedisOutOfMemoryError', async () => {
    await server.stop();
    server = await startRedisServer({ args: ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction'] });
    const publisher = new EventPublisher<AdHocEvents>('svc', { strict: false, redis: server.url, stream: uniqueKey('oom') });
    try {
      const blob = 'x'.repeat(100_000);
      let failure: unknown;
      for (let index = 0; index < 200 && failure === undefined; index += 1) {
        failure = await publisher.publish('big.event', { blob }).then(
          () => undefined,
          (error: unknown) => error,
        );
      }
      expect(failure).toBeInstanceOf(RedisOutOfMemoryError);
      expect(String(failure)).toContain('maxLength');
    } finally {
      await publisher.close();
    }
  });
});
