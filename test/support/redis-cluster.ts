/**
 * A throwaway Redis Cluster of three masters and no replicas for tests, on free loopback ports.
 *
 * Each node runs `redis-server --cluster-enabled yes` in its own temp folder, and
 * `redis-cli --cluster create` assigns the 16384 slots. Call stop() in afterAll: unlike
 * redis-server.ts, this helper has no watchdog, so a test process killed before afterAll
 * leaves the nodes running.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './wait-for.js';
import { findFreePort } from './redis-server.js';

const run = promisify(execFile);

const LOOPBACK_HOST = '127.0.0.1';
const MASTER_COUNT = 3;
const NODE_START_TIMEOUT_MS = 10_000;
const CLUSTER_READY_TIMEOUT_MS = 15_000;
const CLI_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const LOG_TAIL_CHARS = 4_000;
// Free ports are released before redis-server binds them, so another process can take one in
// between. A node gets fresh ports when that happens.
const MAX_START_ATTEMPTS = 3;

export interface RedisClusterNode {
  readonly port: number;
  readonly dir: string;
  /** Last 4000 characters that the node wrote to stdout and stderr. */
  readonly logTail: string;
}

export interface RedisCluster {
  readonly nodes: readonly RedisClusterNode[];
  /** Kills every node (SIGTERM, then SIGKILL after 5 s) and removes their folders. Idempotent. */
  stop(): Promise<void>;
}

/** Starts three cluster nodes, joins them into one cluster, and resolves once every node reports `cluster_state:ok`. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const nodes: ClusterNodeProcess[] = [];
  const cluster = { nodes, stop: () => stopAll(nodes) };
  try {
    for (let index = 0; index < MASTER_COUNT; index += 1) {
      nodes.push(await startNode());
    }
    await createCluster(nodes);
    await Promise.all(nodes.map((node) => waitForClusterOk(node)));
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

class ClusterNodeProcess implements RedisClusterNode {
  private log = '';
  private readonly exited: Promise<void>;

  constructor(
    readonly port: number,
    readonly busPort: number,
    readonly dir: string,
    readonly child: ChildProcess,
  ) {
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
  }

  get logTail(): string {
    return this.log;
  }

  get running(): boolean {
    return this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      if (!(await settlesWithin(this.exited, STOP_TIMEOUT_MS))) {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  describe(problem: string): Error {
    const log = this.log.trim() === '' ? '(no output)' : this.log.trimEnd();
    return new Error(`Redis Cluster node on ${LOOPBACK_HOST}:${this.port} ${problem}. Server output:\n${log}`);
  }

  private appendLog(text: string): void {
    this.log = (this.log + text).slice(-LOG_TAIL_CHARS);
  }
}

async function startNode(): Promise<ClusterNodeProcess> {
  for (let attempt = 1; ; attempt += 1) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'redis-cluster-test-'));
    // The cluster bus listens on port + 10000 by default, which can exceed 65535 for a high
    // free port, so the bus gets a free port of its own (--cluster-port, Redis 7.0 and later).
    const port = await findFreePort();
    const busPort = await findFreePort();
    const node = new ClusterNodeProcess(
      port,
      busPort,
      dir,
      spawn('redis-server', nodeArguments(port, busPort, dir), { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    try {
      await waitForPing(node);
      return node;
    } catch (error) {
      await node.stop();
      if (node.logTail.includes('Address already in use') && attempt < MAX_START_ATTEMPTS) {
        continue;
      }
      throw error;
    }
  }
}

function nodeArguments(port: number, busPort: number, dir: string): string[] {
  return [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--port',
    String(port),
    '--cluster-port',
    String(busPort),
    '--bind',
    LOOPBACK_HOST,
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ];
}

/** Runs a redis-cli command against one node and returns its output. */
async function cli(port: number, args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', LOOPBACK_HOST, '-p', String(port), ...args], { timeout: CLI_TIMEOUT_MS });
  return stdout;
}

async function waitForPing(node: ClusterNodeProcess): Promise<void> {
  try {
    await waitFor(
      async () => {
        if (!node.running) {
          throw node.describe(`exited (${node.child.signalCode ?? `code ${node.child.exitCode ?? 'unknown'}`}) before it replied to PING`);
        }
        return (await cli(node.port, ['PING'])).trim() === 'PONG';
      },
      { timeoutMs: NODE_START_TIMEOUT_MS, intervalMs: 50, message: `redis-server on port ${node.port} to reply to PING` },
    );
  } catch (error) {
    throw node.describe(`did not start: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function createCluster(nodes: readonly ClusterNodeProcess[]): Promise<void> {
  const addresses = nodes.map((node) => `${LOOPBACK_HOST}:${node.port}`);
  try {
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: CLUSTER_READY_TIMEOUT_MS,
    });
  } catch (error) {
    const output = error instanceof Error ? `${error.message}\n${(error as { stdout?: string }).stdout ?? ''}` : String(error);
    const logs = nodes.map((node) => `--- node ${node.port} ---\n${node.logTail.trimEnd()}`).join('\n');
    throw new Error(`redis-cli --cluster create ${addresses.join(' ')} failed: ${output.trimEnd()}\n${logs}`);
  }
}

async function waitForClusterOk(node: ClusterNodeProcess): Promise<void> {
  try {
    await waitFor(async () => (await cli(node.port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok'), {
      timeoutMs: CLUSTER_READY_TIMEOUT_MS,
      intervalMs: 50,
      message: `node ${node.port} to report cluster_state:ok`,
    });
  } catch (error) {
    throw node.describe(`did not join the cluster: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function stopAll(nodes: readonly ClusterNodeProcess[]): Promise<void> {
  const results = await Promise.allSettled(nodes.map((node) => node.stop()));
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  if (failures.length > 0) {
    throw new AggregateError(failures, `Failed to stop ${failures.length} Redis Cluster node(s)`);
  }
}

async function settlesWithin(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([promise.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
