import { EventConsumer, EventPublisher, maskRedisUrl } from '../../lib/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';
import type { AdHocEvents } from '../support/ad-hoc-events.js';

const PASSWORD = 'pw-9f2c-never-logged';

describe('password masking', () => {
  let server: RedisServer;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(async () => {
    server = await startRedisServer({ args: ['--requirepass', PASSWORD] });
  });

  afterAll(async () => {
    await server.stop();
  });

  beforeEach(() => {
    logs = captureLogs();
  });

  afterEach(() => logs.restore());

  it('masks the password of an invalid URL option', () => {
    expect(() => new EventConsumer('g', 'c', { redis: `http://user:${PASSWORD}@127.0.0.1:6379` })).toThrow(
      'got "http://user:***@127.0.0.1:6379/"',
    );
  });

  it('masks the password in URLs', () => {
    expect(maskRedisUrl(`redis://default:${PASSWORD}@127.0.0.1:6379/0`)).toBe('redis://default:***@127.0.0.1:6379/0');
    expect(maskRedisUrl(`rediss://:${PASSWORD}@127.0.0.1:6380`)).toBe('rediss://:***@127.0.0.1:6380');
    expect(maskRedisUrl('not a url with secret')).toBe('***');
    expect(maskRedisUrl(`redis://127.0.0.1:6379/0?password=${PASSWORD}&db=1`)).toBe('redis://127.0.0.1:6379/0?password=***&db=1');
  });

  it('never logs the password through an outage and a recovery', async () => {
    const url = `redis://default:${PASSWORD}@127.0.0.1:${server.port}`;
    const stream = uniqueKey('masking');
    const handled: string[] = [];
    const consumer = new EventConsumer<AdHocEvents>('masking-group', 'masking-1', { strict: false, redis: url, stream, blockMs: 200 });
    consumer.on('secret.checked', (event) => {
      handled.push(event.id);
    });
    await consumer.start();
    const publisher = new EventPublisher<AdHocEvents>('masking-source', { strict: false, redis: url, stream });

    await server.kill();
    await waitFor(() => logs.text().includes('failed'), { message: 'the outage to be logged' });
    await server.restart();
    await waitFor(() => logs.text().includes('reconnected'), { message: 'the recovery to be logged' });
    await publisher.publish('secret.checked', {});
    await waitFor(() => handled.length === 1, { message: 'the event after recovery' });

    await publisher.close();
    await consumer.stop();
    expect(logs.text()).toContain('redis://default:***@127.0.0.1');
    expect(logs.text()).not.toContain(PASSWORD);
  });

  it('does not put the password in the start error', async () => {
    const consumer = new EventConsumer<AdHocEvents>('masking-group', 'masking-2', {
      strict: false,
      redis: { host: '127.0.0.1', port: server.port, password: 'wrong-password-value', maxRetriesPerRequest: 0 },
      stream: uniqueKey('masking'),
    });
    const failure = await consumer.start().then(
      () => undefined,
      (error: unknown) => error,
    );
    await consumer.stop();
    expect(String(failure)).toContain('Failed to start consumer "masking-2"');
    expect(String(failure)).toContain(':***@127.0.0.1');
    expect(String(failure)).not.toContain('wrong-password-value');
    expect(logs.text()).not.toContain('wrong-password-value');
  });
});

describe('connection URLs', () => {
  it('turns on TLS for rediss:// and keeps user and password', async () => {
    const { openRedisConnection, closeRedisConnection } = await import('../../lib/redis/index.js');
    const opened = openRedisConnection('rediss://reader:secret-value@127.0.0.1:1/2', { lazyConnect: true }, { dedicated: false });
    try {
      expect(opened.client.options.tls).toBeDefined();
      expect(opened.client.options.username).toBe('reader');
      expect(opened.client.options.password).toBe('secret-value');
      expect(opened.client.options.db).toBe(2);
    } finally {
      await closeRedisConnection(opened);
    }
  });

  it('describes option objects without the password', async () => {
    const { describeRedisConnection } = await import('../../lib/redis/index.js');
    expect(describeRedisConnection({ host: '127.0.0.1', port: 6380, username: 'app', password: 'secret-value', tls: {} })).toBe(
      'rediss://app:***@127.0.0.1:6380/0',
    );
    expect(describeRedisConnection({ host: '127.0.0.1', password: 'secret-value' })).toBe('redis://:***@127.0.0.1:6379/0');
    expect(describeRedisConnection({ host: '127.0.0.1' })).toBe('redis://127.0.0.1:6379/0');
  });
});
