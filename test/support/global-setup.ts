/**
 * Jest globalSetup: finds a Redis server for the integration tests and exports its URL
 * as REDIS_URL, which the test workers inherit because Jest starts them afterwards.
 *
 * It uses REDIS_URL (default redis://127.0.0.1:6379) if that server replies to PING.
 * Otherwise it starts a throwaway redis-server when the binary is on PATH, and fails
 * with instructions when it is not. An explicitly set REDIS_URL that does not reply is
 * an error, because silently testing against another server would hide a mistake.
 *
 * Jest loads this file and global-teardown.ts with Node's own module loader, which cannot
 * resolve `./redis-server.js` to the TypeScript source (checked with Jest 30 and Node 20).
 * That is why this file imports only packages and repeats the few spawn steps it needs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { Redis } from 'ioredis';

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const LOOPBACK_HOST = '127.0.0.1';
const PING_TIMEOUT_MS = 1_000;
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * globalThis key of the throwaway server, read by global-teardown.ts. Both hooks run in
 * Jest's main process, so they share globalThis, and test workers never see it.
 */
export const THROWAWAY_SERVER_KEY = Symbol.for('@ai-pipeline/events:test-redis-server');

/** Throwaway server that globalSetup started. */
export interface ThrowawayServer {
  readonly pid: number;
  readonly dir: string;
  readonly url: string;
  /** Sends SIGTERM, waits for exit (SIGKILL after 5 s) and removes the temp folder. */
  stop(): Promise<void>;
}

type GlobalWithServer = typeof globalThis & { [THROWAWAY_SERVER_KEY]?: ThrowawayServer };

export default async function globalSetup(): Promise<void> {
  const configuredUrl = process.env.REDIS_URL;
  const url = configuredUrl ?? DEFAULT_REDIS_URL;

  const pingError = await pingRedisUrl(url);
  if (pingError === undefined) {
    process.env.REDIS_URL = url;
    return;
  }

  const failure = `PING to Redis at ${maskRedisUrl(url)} failed (${pingError.message})`;
  if (configuredUrl !== undefined) {
    throw new Error(`${failure}. REDIS_URL is set, so no throwaway server was started. Start that server, or unset REDIS_URL.`);
  }
  if (!isOnPath('redis-server')) {
    throw new Error(
      `${failure}, and redis-server was not found on PATH (${process.env.PATH ?? ''}). ` +
        'Start Redis with `docker compose up -d` in the repository root, install redis-server, ' +
        'or set REDIS_URL to a running server.',
    );
  }

  const server = await startThrowawayServer();
  (globalThis as GlobalWithServer)[THROWAWAY_SERVER_KEY] = server;
  process.env.REDIS_URL = server.url;
  console.log(`${failure}; started a throwaway redis-server at ${server.url} (pid ${server.pid}, dir ${server.dir}).`);
}

/** Replaces the password in a Redis URL with `***`, e.g. `redis://user:***@127.0.0.1:6379`. */
export function maskRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL, but it may still contain `user:password@`.
    return url.replace(/\/\/[^/@]*@/, '//***@');
  }
  if (parsed.password !== '') {
    parsed.password = '***';
  }
  // ioredis also reads options such as the password from the query string.
  if (parsed.searchParams.has('password')) {
    parsed.searchParams.set('password', '***');
  }
  return parsed.href;
}

/** Returns undefined when the server at `url` replies PONG, otherwise the error. */
async function pingRedisUrl(url: string): Promise<Error | undefined> {
  let client: Redis | undefined;
  // connect() rejects with a generic "Connection is closed.", but the 'error' event has the cause.
  let connectionError: Error | undefined;
  try {
    client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: PING_TIMEOUT_MS,
      commandTimeout: PING_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', (error: Error) => {
      connectionError = error;
    });
    await client.connect();
    const reply = await client.ping();
    return reply === 'PONG' ? undefined : new Error(`unexpected reply ${JSON.stringify(reply)}`);
  } catch (error) {
    return connectionError ?? (error instanceof Error ? error : new Error(String(error)));
  } finally {
    // disconnect() on a connection that already ended starts a 2 s timer in ioredis 6.1
    // that nothing clears, which would hold Jest's process open after the run.
    if (client !== undefined && client.status !== 'end') {
      client.disconnect();
    }
  }
}

/**
 * Spawns redis-server on a free loopback port with a temp folder and waits for PONG.
 *
 * The child stays in Jest's process group instead of being detached, so Ctrl-C in the
 * terminal stops it too. The 'exit' listener kills it if Jest exits without teardown.
 */
async function startThrowawayServer(): Promise<ThrowawayServer> {
  const port = await findFreePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'redis-jest-'));
  const logFile = path.join(dir, 'redis.log');
  const url = `redis://${LOOPBACK_HOST}:${port}`;

  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      LOOPBACK_HOST,
      '--dir',
      dir,
      '--logfile',
      logFile,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
    ],
    { stdio: 'ignore' },
  );
  // teardown stops the server, so it must not keep Jest's event loop alive meanwhile.
  child.unref();
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });

  const killOnExit = (): void => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', killOnExit);

  const stop = async (): Promise<void> => {
    if (isRunning(child)) {
      child.kill('SIGTERM');
      const exitedInTime = await Promise.race([exited.then(() => true), delay(STOP_TIMEOUT_MS, false, { ref: false })]);
      if (!exitedInTime) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
    // Removed only now, so a process exit in the middle of stop() still cleans up.
    process.removeListener('exit', killOnExit);
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError: Error | undefined;
  while (isRunning(child) && Date.now() < deadline) {
    lastError = await pingRedisUrl(url);
    if (lastError === undefined) {
      return { pid: child.pid ?? 0, dir, url, stop };
    }
    await delay(100);
  }

  const problem = isRunning(child)
    ? `did not reply to PING within ${START_TIMEOUT_MS} ms (${lastError?.message ?? 'no reply'})`
    : 'exited before it replied to PING';
  const log = readLogTail(logFile);
  await stop();
  throw new Error(`Throwaway redis-server on ${LOOPBACK_HOST}:${port} ${problem}. Log:\n${log}`);
}

function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

function isOnPath(binary: string): boolean {
  const folders = (process.env.PATH ?? '').split(path.delimiter).filter((folder) => folder !== '');
  return folders.some((folder) => {
    try {
      accessSync(path.join(folder, binary), fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Binds port 0 on loopback to let the kernel pick a free port, then releases it. */
function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK_HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => (port === undefined ? reject(new Error('Failed to read the bound port')) : resolve(port)));
    });
  });
}

function readLogTail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').slice(-4_000).trimEnd() || '(empty)';
  } catch (error) {
    return `(no log: ${error instanceof Error ? error.message : String(error)})`;
  }
}
