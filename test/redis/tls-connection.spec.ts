import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { EventConsumer, EventPublisher } from '../../lib/index.js';
import type { AdHocEvents } from '../support/ad-hoc-events.js';
import { captureLogs } from '../support/capture-logs.js';
import { findFreePort } from '../support/redis-server.js';
import { waitFor } from '../support/wait-for.js';

const PASSWORD = 'tls-pw-never-logged';

// A redis-server with TLS only (no plain port) and a self-signed certificate for 127.0.0.1.
describe('rediss:// connections', () => {
  let dir: string;
  let port: number;
  let ca: Buffer;
  let server: ChildProcess;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'events-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ].concat(['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]),
      { stdio: 'ignore', timeout: 30_000 },
    );
    ca = readFileSync(join(dir, 'cert.pem'));
    port = await findFreePort();
    server = spawn(
      'redis-server',
      ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'].concat([
        '--tls-cert-file',
        join(dir, 'cert.pem'),
        '--tls-key-file',
        join(dir, 'key.pem'),
        '--tls-auth-clients',
        'no',
        '--requirepass',
        PASSWORD,
      ]),
      { stdio: 'ignore' },
    );
    await waitFor(
      async () => {
        const probe = new Redis(`rediss://:${PASSWORD}@127.0.0.1:${port}`, {
          tls: { ca },
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        });
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          // A second disconnect of an ended client arms ioredis's 2 s socket timer and delays exit.
          if (probe.status !== 'end') {
            probe.disconnect();
          }
        }
      },
      { message: 'the TLS redis-server to answer' },
    );
  });

  afterAll(async () => {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    logs = captureLogs();
  });

  afterEach(() => logs.restore());

  it('publishes and consumes over TLS with a password', async () => {
    const redis = { url: `rediss://default:${PASSWORD}@127.0.0.1:${port}`, tls: { ca } };
    const handled: string[] = [];
    const consumer = new EventConsumer<AdHocEvents>('tls-group', 'tls-1', { strict: false, redis, stream: 'tls:events', blockMs: 200 });
    consumer.on('secure.event', (event) => {
      handled.push(event.id);
    });
    await consumer.start();
    const publisher = new EventPublisher<AdHocEvents>('tls-source', { strict: false, redis, stream: 'tls:events' });
    try {
      const { eventId } = await publisher.publish('secure.event', { over: 'tls' });
      await waitFor(() => handled.includes(eventId), { message: 'the event over TLS' });
    } finally {
      await publisher.close();
      await consumer.stop();
    }
    expect(logs.text()).toContain(`rediss://default:***@127.0.0.1:${port}`);
    expect(logs.text()).not.toContain(PASSWORD);
  });
});
