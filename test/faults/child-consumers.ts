/** Runs consumer-process.ts as child processes, for tests that SIGKILL a consumer. */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ConsumerStats } from '../../lib/index.js';
import { compileScript } from '../support/compile-script.js';

const EXIT_TIMEOUT_MS = 10_000;

/** Returns the path of the compiled consumer script, compiling it when the sources changed. */
export function buildConsumerScript(): string {
  return compileScript('test/faults/consumer-process.ts', ['lib']);
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
