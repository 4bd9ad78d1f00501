/**
 * Throwaway redis-server processes for tests that restart, kill or fill Redis.
 *
 * Each server listens on a free loopback port and keeps its files in its own temp
 * folder. Every started server stays in a registry until stop(), so an afterAll
 * hook can call stopAllRedisServers() even when a test failed halfway.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const REDIS_SERVER_BINARY = 'redis-server';
const LOOPBACK_HOST = '127.0.0.1';
const DEFAULT_START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const PING_PROBE_TIMEOUT_MS = 500;
const PING_POLL_INTERVAL_MS = 50;
const LOG_TAIL_CHARS = 4_000;
// The free port is released before redis-server binds it, so another process can
// take it in between. A fresh port is tried when that happens.
const MAX_START_ATTEMPTS = 3;

export interface RedisServerOptions {
  /** Turns on append-only persistence (`--appendonly yes`), so data survives kill() and restart(). */
  appendOnly?: boolean;
  /** Extra redis-server arguments, e.g. `['--appendfsync', 'always']` or `['--maxmemory', '2mb']`. */
  args?: string[];
  /** Maximum time in ms to wait for the first PING reply. Default 10000. */
  startTimeoutMs?: number;
}

export interface StopRedisServerOptions {
  /** Keeps the temp folder. The caller then owns it and must remove it. */
  keepDir?: boolean;
}

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:PORT`, without the password even when `--requirepass` is set. */
  readonly url: string;
  /** Working folder (`--dir`) that contains the append-only files. */
  readonly dir: string;
  /** Password from `--requirepass`, if the arguments set one. */
  readonly password: string | undefined;
  /** Process id while the server runs, otherwise undefined. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Last 4000 characters that the server wrote to stdout and stderr. */
  readonly logTail: string;
  /** Sends SIGTERM, waits for exit (SIGKILL after 5 s) and removes the temp folder unless `keepDir` is set. */
  stop(options?: StopRedisServerOptions): Promise<void>;
  /** Sends SIGKILL and waits for exit. Keeps the folder, so restart() can reload append-only data. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and folder, stopping it first if it still runs. */
  restart(): Promise<void>;
}

/** Checks whether `redis-server` is an executable file in one of the PATH folders. */
export function isRedisServerAvailable(): boolean {
  const folders = (process.env.PATH ?? '').split(path.delimiter).filter((folder) => folder !== '');
  return folders.some((folder) => {
    try {
      accessSync(path.join(folder, REDIS_SERVER_BINARY), fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Spawns a redis-server on a free loopback port and resolves once it replies to PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'redis-test-'));
  orphanCleanup.trackDir(dir);

  for (let attempt = 1; ; attempt++) {
    const server = new ThrowawayRedisServer(await findFreePort(), dir, options);
    try {
      await server.start();
      return server;
    } catch (error) {
      registry.delete(server);
      const portTaken = server.logTail.includes('Address already in use');
      if (portTaken && attempt < MAX_START_ATTEMPTS) {
        continue;
      }
      await rm(dir, { recursive: true, force: true });
      orphanCleanup.untrackDir(dir);
      throw error;
    }
  }
}

/** Stops every server that was started and not yet stopped. Use it in afterAll. */
export async function stopAllRedisServers(): Promise<void> {
  const results = await Promise.allSettled([...registry].map((server) => server.stop()));
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  if (failures.length > 0) {
    throw new AggregateError(failures, `Failed to stop ${failures.length} throwaway redis-server(s)`);
  }
}

const registry = new Set<ThrowawayRedisServer>();

class ThrowawayRedisServer implements RedisServer {
  readonly url: string;
  readonly password: string | undefined;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log = '';

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {
    this.url = `redis://${LOOPBACK_HOST}:${port}`;
    this.password = argumentValue(options.args ?? [], '--requirepass');
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return isChildRunning(this.child);
  }

  get logTail(): string {
    return this.log;
  }

  async start(): Promise<void> {
    registry.add(this);
    const child = spawn(REDIS_SERVER_BINARY, this.commandLine(), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      // A spawn failure (such as ENOENT) emits 'error' and may never emit 'exit'.
      child.once('error', (error) => {
        this.appendLog(`spawn failed: ${error.message}\n`);
        resolve();
      });
    });
    child.stdout?.on('data', (chunk: Buffer) => this.appendLog(chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => this.appendLog(chunk.toString('utf8')));

    if (child.pid !== undefined) {
      const pid = child.pid;
      orphanCleanup.trackPid(pid);
      void this.exited.then(() => orphanCleanup.untrackPid(pid));
    }

    await this.waitUntilReady(child);
  }

  async stop(options: StopRedisServerOptions = {}): Promise<void> {
    if (this.running) {
      this.child?.kill('SIGTERM');
      if (!(await this.waitForExit(STOP_TIMEOUT_MS))) {
        this.child?.kill('SIGKILL');
        await this.exited;
      }
    }
    registry.delete(this);

    if (!options.keepDir) {
      await rm(this.dir, { recursive: true, force: true });
    }
    orphanCleanup.untrackDir(this.dir);
  }

  async kill(): Promise<void> {
    if (this.running) {
      this.child?.kill('SIGKILL');
      await this.exited;
    }
  }

  async restart(): Promise<void> {
    if (this.running) {
      await this.stop({ keepDir: true });
    }
    // stop() without keepDir removed the folder, so the server starts empty then.
    await mkdir(this.dir, { recursive: true });
    orphanCleanup.trackDir(this.dir);
    await this.start();
  }

  /** Resolves true once the process has exited, or false after `timeoutMs`. */
  private async waitForExit(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.exited.then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private commandLine(): string[] {
    return [
      '--port',
      String(this.port),
      '--bind',
      LOOPBACK_HOST,
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      this.options.appendOnly ? 'yes' : 'no',
      '--daemonize',
      'no',
      ...(this.options.args ?? []),
    ];
  }

  private async waitUntilReady(child: ChildProcess): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    let lastProbe = 'no probe yet';

    for (;;) {
      if (!isChildRunning(child)) {
        await this.exited;
        const status = child.signalCode ?? `code ${child.exitCode ?? 'unknown'}`;
        throw this.startError(`exited (${status}) before it replied to PING`);
      }

      try {
        const reply = await probePing(this.port, this.password);
        if (reply.endsWith('+PONG')) {
          return;
        }
        // -LOADING means the server is still reading its append-only file.
        lastProbe = `reply ${JSON.stringify(reply)}`;
      } catch (error) {
        lastProbe = error instanceof Error ? error.message : String(error);
      }

      if (Date.now() >= deadline) {
        await this.kill();
        throw this.startError(`did not reply to PING within ${timeoutMs} ms (last probe: ${lastProbe})`);
      }
      await delay(PING_POLL_INTERVAL_MS);
    }
  }

  private startError(problem: string): Error {
    const log = this.log.trim() === '' ? '(no output)' : this.log.trimEnd();
    return new Error(`redis-server on ${LOOPBACK_HOST}:${this.port} ${problem}. Server output:\n${log}`);
  }

  private appendLog(text: string): void {
    this.log = (this.log + text).slice(-LOG_TAIL_CHARS);
  }
}

function isChildRunning(child: ChildProcess | undefined): boolean {
  return child?.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

function argumentValue(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
}

/** Binds port 0 on loopback to let the kernel pick a free port, then releases it. */
export function findFreePort(): Promise<number> {
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

/**
 * Sends PING (after AUTH when a password is set) over a raw socket and returns the last
 * reply line, such as `+PONG`, `-LOADING ...` or `-NOAUTH ...`. A raw socket avoids a
 * client library's reconnect logic and its error logging while the server boots.
 */
function probePing(port: number, password: string | undefined): Promise<string> {
  const commands = password === undefined ? [['PING']] : [['AUTH', password], ['PING']];

  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: LOOPBACK_HOST, port });
    let received = '';
    let settled = false;

    const settle = (error: Error | undefined): void => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error !== undefined) {
        reject(error);
        return;
      }
      const lines = received.split('\r\n').filter((line) => line !== '');
      resolve(lines.at(-1) ?? '');
    };
    const timer = setTimeout(() => settle(new Error(`no reply within ${PING_PROBE_TIMEOUT_MS} ms`)), PING_PROBE_TIMEOUT_MS);

    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(commands.map(encodeCommand).join('')));
    socket.on('data', (chunk: string) => {
      received += chunk;
      // Each reply to AUTH and PING is a single RESP line.
      if (received.split('\r\n').length > commands.length) {
        settle(undefined);
      }
    });
    socket.on('error', (error) => settle(error));
    socket.on('close', () => settle(new Error(`connection closed after ${JSON.stringify(received)}`)));
  });
}

function encodeCommand(parts: string[]): string {
  const bulkStrings = parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`);
  return `*${parts.length}\r\n${bulkStrings.join('')}`;
}

/**
 * Kills tracked servers and removes their folders when the test process dies without
 * running its afterAll hooks.
 *
 * Jest runs a test file against a copy of `process` whose 'exit' event never fires
 * (checked with Jest 30), so a listener there is not enough. A small watchdog process
 * reads pids and folders on its stdin and cleans up when that pipe closes, which the
 * kernel does whenever this process ends, even on SIGKILL. The 'exit' listener still
 * helps outside Jest's sandbox, such as in globalSetup.
 */
class OrphanCleanup {
  private readonly pids = new Set<number>();
  private readonly dirs = new Set<string>();
  private watchdog: ChildProcess | undefined;
  private readonly onExit = (): void => this.cleanUpNow();

  trackPid(pid: number): void {
    this.pids.add(pid);
    this.send(['+pid', pid]);
  }

  untrackPid(pid: number): void {
    this.pids.delete(pid);
    this.send(['-pid', pid]);
    this.closeWhenIdle();
  }

  trackDir(dir: string): void {
    this.dirs.add(dir);
    this.send(['+dir', dir]);
  }

  untrackDir(dir: string): void {
    this.dirs.delete(dir);
    this.send(['-dir', dir]);
    this.closeWhenIdle();
  }

  private send(message: [string, string | number]): void {
    if (this.watchdog === undefined) {
      this.watchdog = spawnWatchdog();
      process.on('exit', this.onExit);
    }
    this.watchdog.stdin?.write(`${JSON.stringify(message)}\n`);
  }

  private closeWhenIdle(): void {
    if (this.pids.size > 0 || this.dirs.size > 0 || this.watchdog === undefined) {
      return;
    }
    // Closing stdin makes the watchdog exit, and its lists are empty by now.
    this.watchdog.stdin?.end();
    this.watchdog = undefined;
    process.removeListener('exit', this.onExit);
  }

  private cleanUpNow(): void {
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // The process has already exited.
      }
    }
    for (const dir of this.dirs) {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

const WATCHDOG_SOURCE = `
const { rmSync } = require('node:fs');
const pids = new Set();
const dirs = new Set();
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  const lines = pending.split('\\n');
  pending = lines.pop();
  for (const line of lines) {
    const [operation, value] = JSON.parse(line);
    if (operation === '+pid') pids.add(value);
    if (operation === '-pid') pids.delete(value);
    if (operation === '+dir') dirs.add(value);
    if (operation === '-dir') dirs.delete(value);
  }
});
process.stdin.on('end', () => {
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); } catch {}
  }
  for (const dir of dirs) {
    try { rmSync(dir, { recursive: true, force: true }); } catch {}
  }
});
`;

function spawnWatchdog(): ChildProcess {
  const watchdog = spawn(process.execPath, ['-e', WATCHDOG_SOURCE], { stdio: ['pipe', 'ignore', 'inherit'] });
  // Losing the watchdog only loses the crash cleanup, so its errors must not crash the tests.
  watchdog.on('error', (error) => console.warn(`redis-server watchdog failed: ${error.message}`));
  watchdog.stdin?.on('error', (error) => console.warn(`redis-server watchdog pipe failed: ${error.message}`));
  // Neither the watchdog nor its pipe may keep the test process alive.
  watchdog.unref();
  if (watchdog.stdin instanceof net.Socket) {
    watchdog.stdin.unref();
  }
  return watchdog;
}

const orphanCleanup = new OrphanCleanup();
