import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

const LOOPBACK = '127.0.0.1';
const PING_TIMEOUT_MS = 1_000;
const START_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 5_000;

/** A redis-server started for one run, with its data folder in a temp directory. */
export interface ThrowawayRedis {
  readonly url: string;
  readonly pid: number;
  readonly dir: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its folder. */
  stop(): Promise<void>;
}

/** Sends PING with a short timeout and no retries; returns undefined on PONG, otherwise the error. */
export async function pingRedis(url: string): Promise<Error | undefined> {
  return withShortLivedClient(url, async (client) => {
    const reply = await client.ping();
    if (reply !== 'PONG') {
      throw new Error(`unexpected reply ${JSON.stringify(reply)} to PING`);
    }
  });
}

/** Deletes one key; returns undefined on success, otherwise the error. */
export async function deleteKey(url: string, key: string): Promise<Error | undefined> {
  return withShortLivedClient(url, async (client) => {
    await client.del(key);
  });
}

/** Tells whether an executable named `binary` is in one of the PATH folders. */
export function isOnPath(binary: string): boolean {
  const folders = (process.env['PATH'] ?? '').split(delimiter).filter((folder) => folder !== '');
  return folders.some((folder) => {
    try {
      accessSync(join(folder, binary), fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Starts redis-server on a free loopback port without persistence and waits until it replies
 * to PING. The server runs in its own process group, so Ctrl-C reaches only this process, which
 * then closes the services before stopping the server.
 */
export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const port = await findFreePort();
  const dir = await mkdtemp(join(tmpdir(), 'ai-pipeline-sample-redis-'));
  const logFile = join(dir, 'redis.log');
  const url = `redis://${LOOPBACK}:${port}`;

  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      LOOPBACK,
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
    { stdio: 'ignore', detached: true },
  );
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  // Last resort if the process exits without calling stop(), such as on an uncaught exception.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (isRunning(child)) {
      child.kill('SIGTERM');
      const exitedInTime = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS, false, { ref: false })]);
      if (!exitedInTime) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError: Error | undefined;
  while (isRunning(child) && Date.now() < deadline) {
    lastError = await pingRedis(url);
    if (lastError === undefined) {
      return { url, pid: child.pid ?? 0, dir, stop };
    }
    await sleep(50);
  }

  const problem = isRunning(child)
    ? `did not reply to PING within ${START_TIMEOUT_MS} ms (${lastError?.message ?? 'no reply'})`
    : 'exited before it replied to PING';
  const logTail = readLogTail(logFile);
  await stop();
  throw new Error(`redis-server on ${LOOPBACK}:${port} ${problem}. Its log:\n${logTail}`);
}

/** Runs `work` on a client that connects once, never retries, and is always disconnected. */
async function withShortLivedClient(url: string, work: (client: Redis) => Promise<void>): Promise<Error | undefined> {
  // connect() rejects with a generic message; the 'error' event carries the cause, such as ECONNREFUSED.
  let connectionError: Error | undefined;
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: PING_TIMEOUT_MS,
    commandTimeout: PING_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', (error: Error) => {
    connectionError = error;
  });
  try {
    await client.connect();
    await work(client);
    return undefined;
  } catch (error) {
    return connectionError ?? (error instanceof Error ? error : new Error(String(error)));
  } finally {
    // In ioredis 6.1, disconnect() on a client that already ended arms a socket-destroy timer
    // (disconnectTimeout, 2 s by default) that nothing clears, which delays the process exit.
    if (client.status !== 'end') {
      client.disconnect();
    }
  }
}

/** Asks the kernel for a free loopback port. Another process could take it before redis-server binds it. */
function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => (port === undefined ? reject(new Error('Failed to read the port the kernel assigned')) : resolve(port)));
    });
  });
}

function isRunning(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

function readLogTail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').slice(-2_000).trimEnd() || '(empty)';
  } catch (error) {
    return `(no log: ${error instanceof Error ? error.message : String(error)})`;
  }
}
