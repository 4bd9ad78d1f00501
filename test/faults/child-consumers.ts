/**
 * Builds consumer-process.ts and runs it as child processes, for tests that SIGKILL a consumer.
 *
 * Node cannot run the TypeScript file directly, and dist/ may be stale or rebuilt by someone
 * else halfway through a run. So tsc compiles the script and the lib/ sources it imports into
 * a private folder under the OS temp folder, named after a hash of those sources. A run with
 * unchanged sources reuses it, and the child always runs the same lib/ code as the in-process
 * tests. The build skips type checking (`noCheck`) because `npm test` type-checks the same
 * files. It took about 2 s on a 2-core machine. Two runs that build at once each compile into
 * a folder of their own and rename it into place, so neither loads a half-written build.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsumerStats } from '../../lib/index.js';

const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT_SOURCE = path.join(REPOSITORY_ROOT, 'test/faults/consumer-process.ts');
const BUILD_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 10_000;

/** Returns the path of the compiled consumer script, compiling it when the sources changed. */
export function buildConsumerScript(): string {
  const buildDir = path.join(os.tmpdir(), `events-fault-consumer-${sourceHash()}`);
  const script = path.join(buildDir, 'test/faults/consumer-process.js');
  if (existsSync(script)) {
    return script;
  }

  const stagingDir = mkdtempSync(path.join(os.tmpdir(), 'events-fault-consumer-build-'));
  const tsconfig = {
    extends: path.join(REPOSITORY_ROOT, 'tsconfig.json'),
    compilerOptions: {
      rootDir: REPOSITORY_ROOT,
      outDir: stagingDir,
      noCheck: true,
      declaration: false,
      sourceMap: false,
      types: [],
    },
    files: [SCRIPT_SOURCE],
    include: [],
  };
  const tsconfigPath = path.join(stagingDir, 'tsconfig.fault-consumer.json');
  writeFileSync(tsconfigPath, JSON.stringify(tsconfig));
  try {
    execFileSync(process.execPath, [path.join(REPOSITORY_ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfigPath], {
      cwd: REPOSITORY_ROOT,
      timeout: BUILD_TIMEOUT_MS,
      stdio: 'pipe',
    });
  } catch (error) {
    rmSync(stagingDir, { recursive: true, force: true });
    const output = error instanceof Error && 'stdout' in error ? String(error.stdout) : '';
    throw new Error(`Failed to compile ${SCRIPT_SOURCE} with tsc: ${error instanceof Error ? error.message : String(error)}\n${output}`);
  }
  // The compiled files are ES modules and import packages by name, so they need the package
  // type and the repository's node_modules next to them.
  writeFileSync(path.join(stagingDir, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(path.join(REPOSITORY_ROOT, 'node_modules'), path.join(stagingDir, 'node_modules'), 'dir');

  try {
    renameSync(stagingDir, buildDir);
  } catch (error) {
    // Another run renamed an identical build into place first.
    rmSync(stagingDir, { recursive: true, force: true });
    if (!existsSync(script)) {
      throw error;
    }
  }
  return script;
}

/** Hashes the script, every lib/ source and the tsconfig, which together decide the build. */
function sourceHash(): string {
  const hash = createHash('sha256');
  const files = [SCRIPT_SOURCE, path.join(REPOSITORY_ROOT, 'tsconfig.json'), ...listTypeScript(path.join(REPOSITORY_ROOT, 'lib'))];
  for (const file of files) {
    hash.update(file).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

function listTypeScript(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        return listTypeScript(full);
      }
      return entry.name.endsWith('.ts') ? [full] : [];
    })
    .sort();
}

/** Settings of one child consumer, passed as environment variables. */
export interface ChildConsumerSettings {
  readonly redisUrl: string;
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly eventType: string;
  readonly handlerDelayMs?: number;
  readonly failRate?: number;
  readonly batchSize?: number;
  readonly concurrency?: number;
  readonly claimIdleMs?: number;
  readonly maxAttempts?: number;
}

/** One log line that a child forwarded from Nest's Logger. */
export interface ChildLogLine {
  readonly level: string;
  readonly text: string;
}

/** A consumer running in a child process, with the lines it printed so far. */
export class ChildConsumer {
  readonly logs: ChildLogLine[] = [];
  /** Output that is not part of the line protocol, such as a crash trace. */
  readonly otherOutput: string[] = [];
  stats: ConsumerStats | undefined;
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(
    script: string,
    readonly settings: ChildConsumerSettings,
  ) {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_URL: settings.redisUrl,
      STREAM: settings.stream,
      GROUP: settings.group,
      CONSUMER: settings.consumer,
      EVENT_TYPE: settings.eventType,
      HANDLER_DELAY_MS: String(settings.handlerDelayMs ?? 0),
      FAIL_RATE: String(settings.failRate ?? 0),
      BATCH_SIZE: String(settings.batchSize ?? 10),
      CONCURRENCY: String(settings.concurrency ?? 4),
      CLAIM_IDLE_MS: String(settings.claimIdleMs ?? 500),
      MAX_ATTEMPTS: String(settings.maxAttempts ?? 5),
    };
    this.child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
    });

    let markReady: () => void = () => undefined;
    let failStart: (error: Error) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    // A test that fails before awaiting `ready` must not turn a later exit into an unhandled rejection.
    this.ready.catch(() => undefined);
    void this.exited.then(({ code, signal }) =>
      failStart(
        new Error(
          `Consumer "${settings.consumer}" exited (code ${code}, signal ${signal}) before it printed ready:\n${this.otherOutput.join('\n')}`,
        ),
      ),
    );

    let pending = '';
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        this.parseLine(line, markReady);
      }
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => this.otherOutput.push(chunk));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends SIGKILL: the consumer dies at once, leaving its read entries pending. */
  async kill(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }

  /** Sends SIGTERM, so the consumer stops and prints its stats, and waits for the exit. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) {
      this.child.kill('SIGTERM');
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), EXIT_TIMEOUT_MS);
    });
    const result = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      await this.kill();
      throw new Error(`Consumer "${this.settings.consumer}" did not exit within ${EXIT_TIMEOUT_MS} ms of SIGTERM; killed it.`);
    }
    return result;
  }

  private parseLine(line: string, markReady: () => void): void {
    if (line === 'ready') {
      markReady();
      return;
    }
    const logMatch = /^log (\w+) (.*)$/.exec(line);
    if (logMatch) {
      this.logs.push({ level: logMatch[1]!, text: JSON.parse(logMatch[2]!) as string });
      return;
    }
    if (line.startsWith('stats ')) {
      this.stats = JSON.parse(line.slice('stats '.length)) as ConsumerStats;
      return;
    }
    this.otherOutput.push(line);
  }
}
