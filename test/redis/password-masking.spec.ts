import { EventConsumer, EventPublisher, maskRedisUrl } from '../../lib/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';

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

  it('masks the password in URLs', () => {
    expect(maskRedisUrl(`redis://default:${PASSWORD}@127.0.0.1:6379/0`)).toBe('redis://default:***@127.0.0.1:6379/0');
    expect(maskRedisUrl(`rediss://:${PASSWORD}@127.0.0.1:6380`)).toBe('rediss://:***@127.0.0.1:6380');
    expect(maskRedisUrl('not a url with secret')).toBe('***');
  });

  it('never logs the password through an outage and a recovery', async () => {
    const url = `redis://default:${PASSWORD}@127.0.0.1:${server.port}`;
    const stream = uniqueKey('masking');
    const handled: string[] = [];
    const consumer = new EventConsumer('masking-group', 'masking-1', { redis: url, stream, blockMs: 200 });
    consumer.on('secret.checked', (event) => {
      handled.push(event.id);
    });
    await consumer.start();
    const publisher = new EventPublisher('masking-source', { redis: url, stream });

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
    const consumer = new EventConsumer('masking-group', 'masking-2', {
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
