import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';

import { Redis, type RedisOptions } from 'ioredis';

import { maskRedisUrl } from './global-setup.js';
import { isRedisServerAvailable, startRedisServer, stopAllRedisServers, type RedisServer } from './redis-server.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { uniqueKey, waitFor } from './wait-for.js';

// These tests spawn real redis-server processes, so they are skipped where the binary is missing.
const describeWithRedisServer = isRedisServerAvailable() ? describe : describe.skip;

const clients: Redis[] = [];

/** Creates a client that fails fast instead of retrying, unless `options` overrides that. */
function connect(port: number, options: RedisOptions = {}): Redis {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    ...options,
  });
  // Expected connection errors would otherwise be logged as unhandled.
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterEach(() => {
  for (const client of clients.splice(0)) {
    // disconnect() on an ended ioredis client starts a timer that nothing clears.
    if (client.status !== 'end') {
      client.disconnect();
    }
  }
});

afterAll(async () => {
  await stopAllRedisServers();
});

describeWithRedisServer('startRedisServer', () => {
  afterEach(async () => {
    await stopAllRedisServers();
  });

  test('replies to PING on a loopback port', async () => {
    const server = await startRedisServer();

    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.running).toBe(true);
    expect(await connect(server.port).ping()).toBe('PONG');
  });

  test('stop leaves no process or folder', async () => {
    const server = await startRedisServer();
    const pid = server.pid;
    expect(pid).toBeDefined();
    expect(existsSync(server.dir)).toBe(true);

    await server.stop();

    expect(isProcessAlive(pid ?? -1)).toBe(false);
    expect(server.running).toBe(false);
    expect(server.pid).toBeUndefined();
    expect(existsSync(server.dir)).toBe(false);
  });

  test('stop with keepDir keeps the folder', async () => {
    const server = await startRedisServer();

    await server.stop({ keepDir: true });

    expect(existsSync(server.dir)).toBe(true);
    await rm(server.dir, { recursive: true, force: true });
  });

  test('kill and restart keep append-only data', async () => {
    const server = await startRedisServer({ appendOnly: true, args: ['--appendfsync', 'always'] });
    const key = uniqueKey('aof');
    const port = server.port;
    await connect(port).set(key, 'kept');
    const pidBeforeKill = server.pid;

    await server.kill();

    expect(server.running).toBe(false);
    expect(isProcessAlive(pidBeforeKill ?? -1)).toBe(false);
    expect(existsSync(server.dir)).toBe(true);
    await expect(connect(port).ping()).rejects.toThrow();

    await server.restart();

    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(pidBeforeKill);
    expect(await connect(port).get(key)).toBe('kept');
  });

  test('restart of a running server keeps append-only data', async () => {
    const server = await startRedisServer({ appendOnly: true });
    const key = uniqueKey('aof');
    await connect(server.port).set(key, 'kept');

    await server.restart();

    expect(await connect(server.port).get(key)).toBe('kept');
  });

  test('requirepass is used for the readiness check', async () => {
    const server = await startRedisServer({ args: ['--requirepass', 'test-password'] });

    expect(server.password).toBe('test-password');
    await expect(connect(server.port).ping()).rejects.toThrow(/NOAUTH/);
    expect(await connect(server.port, { password: 'test-password' }).ping()).toBe('PONG');
  });

  test('extra arguments reach the server', async () => {
    const server = await startRedisServer({ args: ['--maxmemory', '2mb'] });

    const reply = await connect(server.port).config('GET', 'maxmemory');

    expect(reply).toEqual(['maxmemory', String(2 * 1024 * 1024)]);
  });

  test('invalid argument fails with server output', async () => {
    const start = startRedisServer({ args: ['--no-such-directive', 'x'] });

    await expect(start).rejects.toThrow(/redis-server on 127\.0\.0\.1:\d+ exited .* before it replied to PING/);
    await expect(start).rejects.toThrow(/no-such-directive/);
  });

  test('stopAllRedisServers stops every server', async () => {
    const servers: RedisServer[] = [await startRedisServer(), await startRedisServer()];
    const pids = servers.map((server) => server.pid ?? -1);

    await stopAllRedisServers();

    for (const [index, server] of servers.entries()) {
      expect(isProcessAlive(pids[index] ?? -1)).toBe(false);
      expect(existsSync(server.dir)).toBe(false);
    }
  });
});

describeWithRedisServer('startTcpProxy', () => {
  let server: RedisServer;
  let proxy: TcpProxy | undefined;

  beforeAll(async () => {
    server = await startRedisServer();
  });

  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  test('forwards commands to the target', async () => {
    proxy = await startTcpProxy(server.port);
    const client = connect(proxy.port);

    expect(await client.ping()).toBe('PONG');
    expect(proxy.connectionCount).toBe(1);
  });

  test('pause stalls commands without closing the socket', async () => {
    proxy = await startTcpProxy(server.port);
    const client = connect(proxy.port, { commandTimeout: 200 });
    let closed = false;
    client.on('close', () => {
      closed = true;
    });
    expect(await client.ping()).toBe('PONG');

    proxy.pause();

    await expect(client.ping()).rejects.toThrow(/timed out/i);
    expect(closed).toBe(false);
    expect(client.status).toBe('ready');
    expect(proxy.connectionCount).toBe(1);

    proxy.resume();

    await waitFor(async () => (await client.ping()) === 'PONG', { message: 'PING through the resumed proxy' });
    expect(closed).toBe(false);
  });

  test('pause holds new connections too', async () => {
    proxy = await startTcpProxy(server.port);
    proxy.pause();
    // ioredis 6 treats a timed-out HELLO handshake as fatal and reconnects, so the
    // client needs a retry strategy to recover once the proxy resumes.
    const client = connect(proxy.port, { commandTimeout: 200, retryStrategy: () => 20 });

    await expect(client.ping()).rejects.toThrow();
    expect(client.status).not.toBe('ready');

    proxy.resume();

    await waitFor(async () => (await client.ping()) === 'PONG', { message: 'PING after resume' });
  });

  test('dropConnections closes the client socket', async () => {
    proxy = await startTcpProxy(server.port);
    const client = connect(proxy.port, { retryStrategy: () => 20 });
    const events: string[] = [];
    client.on('close', () => events.push('close'));
    client.on('reconnecting', () => events.push('reconnecting'));
    expect(await client.ping()).toBe('PONG');

    proxy.dropConnections();

    await waitFor(() => events.includes('close'), { message: "ioredis 'close' event" });
    await waitFor(() => events.includes('reconnecting'), { message: "ioredis 'reconnecting' event" });
    await waitFor(() => client.status === 'ready', { message: 'ioredis to reconnect through the proxy' });
    expect(await client.ping()).toBe('PONG');
    expect(proxy.connectionCount).toBe(1);
  });

  test('close refuses new connections', async () => {
    const closedProxy = await startTcpProxy(server.port);
    const port = closedProxy.port;

    await closedProxy.close();

    await expect(connect(port).ping()).rejects.toThrow();
  });

  test('unreachable target closes the client', async () => {
    const stopped = await startRedisServer();
    await stopped.stop();
    proxy = await startTcpProxy(stopped.port);
    const client = connect(proxy.port);

    await expect(client.ping()).rejects.toThrow();
    await waitFor(() => proxy?.connectionCount === 0, { message: 'proxy to close the client connection' });
  });
});

describe('waitFor', () => {
  test('resolves once the condition holds', async () => {
    let checks = 0;

    await waitFor(() => ++checks >= 3, { intervalMs: 1 });

    expect(checks).toBe(3);
  });

  test('timeout names message and duration', async () => {
    await expect(waitFor(() => false, { timeoutMs: 50, message: 'a condition that never holds' })).rejects.toThrow(
      'Timed out after 50 ms waiting for a condition that never holds',
    );
  });

  test('timeout includes the last thrown error', async () => {
    const failingCheck = (): boolean => {
      throw new Error('connection refused');
    };

    await expect(waitFor(failingCheck, { timeoutMs: 50 })).rejects.toThrow('(last check threw: connection refused)');
  });

  test('gives up on a check that never settles', async () => {
    const pendingCheck = (): Promise<boolean> => new Promise<boolean>(() => undefined);

    await expect(waitFor(pendingCheck, { timeoutMs: 50, message: 'a hung check' })).rejects.toThrow(
      'Timed out after 50 ms waiting for a hung check',
    );
  });

  test('rejects an invalid timeout', async () => {
    await expect(waitFor(() => true, { timeoutMs: 0 })).rejects.toThrow(RangeError);
  });
});

describe('uniqueKey', () => {
  test('adds the prefix and random hex', () => {
    expect(uniqueKey('orders')).toMatch(/^test:orders:[0-9a-f]{12}$/);
  });

  test('differs between calls', () => {
    expect(uniqueKey('orders')).not.toBe(uniqueKey('orders'));
  });
});

describe('maskRedisUrl', () => {
  test.each([
    ['redis://user:secret@127.0.0.1:6379/0', 'redis://user:***@127.0.0.1:6379/0'],
    ['redis://:secret@127.0.0.1:6379', 'redis://:***@127.0.0.1:6379'],
    ['redis://127.0.0.1:6379?password=secret', 'redis://127.0.0.1:6379?password=***'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
  ])('masks %s', (url, expected) => {
    expect(maskRedisUrl(url)).toBe(expected);
  });
});
