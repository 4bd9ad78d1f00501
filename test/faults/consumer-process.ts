/**
 * One EventConsumer in a child process, for fault tests that kill a consumer with SIGKILL.
 *
 * The parent compiles this file (see child-consumers.ts) and configures it through the
 * environment. The handler waits HANDLER_DELAY_MS, then fails with probability FAIL_RATE;
 * it counts each success with HINCRBY `<stream>:handled:<group>` and each failure with
 * HINCRBY `<stream>:failed:<group>`, keyed by event id, so a count above 1 is a duplicate.
 *
 * Protocol on stdout, one line each: `ready` once reading has begun, `log <level> <JSON text>`
 * for every Nest log line, and `stats <JSON ConsumerStats>` after SIGTERM has stopped the
 * consumer. The process then exits with code 0.
 */
import { Logger, type LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';
import { EventConsumer } from '../../lib/index.js';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`Environment variable ${name} is missing; the fault test must set it.`);
  }
  return value;
}

function numberEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') {
    return fallback;
  }
  const value = Number(text);
  if (!Number.isFinite(value)) {
    throw new Error(`Environment variable ${name} must be a number, got ${JSON.stringify(text)}.`);
  }
  return value;
}

function writeLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

const stdoutLogger: LoggerService = {
  log: (message: unknown) => writeLine(`log log ${JSON.stringify(String(message))}`),
  error: (message: unknown) => writeLine(`log error ${JSON.stringify(String(message))}`),
  warn: (message: unknown) => writeLine(`log warn ${JSON.stringify(String(message))}`),
  debug: (message: unknown) => writeLine(`log debug ${JSON.stringify(String(message))}`),
  verbose: (message: unknown) => writeLine(`log verbose ${JSON.stringify(String(message))}`),
  fatal: (message: unknown) => writeLine(`log fatal ${JSON.stringify(String(message))}`),
};
Logger.overrideLogger(stdoutLogger);

const redisUrl = requiredEnv('REDIS_URL');
const stream = requiredEnv('STREAM');
const group = requiredEnv('GROUP');
const consumerName = requiredEnv('CONSUMER');
const eventType = requiredEnv('EVENT_TYPE');
const handlerDelayMs = numberEnv('HANDLER_DELAY_MS', 0);
const failRate = numberEnv('FAIL_RATE', 0);

// The control connection records outcomes; it is separate from the consumer's own connections.
const control = new Redis(redisUrl);
const handledKey = `${stream}:handled:${group}`;
const failedKey = `${stream}:failed:${group}`;

// Fault-test event types are outside the event catalog.
const consumer = new EventConsumer<Record<string, unknown>>(group, consumerName, {
  strict: false,
  redis: redisUrl,
  stream,
  startFrom: 'all',
  blockMs: 100,
  batchSize: numberEnv('BATCH_SIZE', 10),
  concurrency: numberEnv('CONCURRENCY', 4),
  claimIntervalMs: 50,
  claimIdleMs: numberEnv('CLAIM_IDLE_MS', 500),
  shutdownTimeoutMs: 5_000,
  retry: { initialDelayMs: 20, maxDelayMs: 100, maxAttempts: numberEnv('MAX_ATTEMPTS', 5) },
});

consumer.on(eventType, async (event) => {
  if (handlerDelayMs > 0) {
    await new Promise((resolve) => setTimeout(resolve, handlerDelayMs));
  }
  if (Math.random() < failRate) {
    await control.hincrby(failedKey, event.id, 1);
    throw new Error(`Injected failure for event ${event.id}`);
  }
  await control.hincrby(handledKey, event.id, 1);
});

process.once('SIGTERM', () => {
  void (async () => {
    await consumer.stop();
    writeLine(`stats ${JSON.stringify(consumer.stats())}`);
    await control.quit();
    process.exit(0);
  })();
});

await consumer.start();
writeLine('ready');
