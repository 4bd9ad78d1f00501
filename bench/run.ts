// Measures publish and consume throughput of the bus against raw ioredis on the same Redis, so a
// regression in the hot paths (publish, read loop, ack) shows as a falling ratio.
// Usage: npm run bench [-- events]   (REDIS_URL, default redis://127.0.0.1:6379)
import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { EventConsumer, EventPublisher } from '../lib/index.js';

const DEFAULT_EVENTS = 20_000;
const PUBLISH_CONCURRENCY = 50;
const PAYLOAD = {
  topicId: '123',
  title: 'How to Invest in ETFs',
  channelType: 'INTELLECTUAL',
  niche: 'finance',
  targetMarkets: ['US', 'DE', 'AU'],
  estimatedCPM: 32,
  hookIdeas: ['Fear of missing out', 'I lost $50k doing this'],
};

const url = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';
const events = Number(process.argv[2] ?? DEFAULT_EVENTS);

async function timed(run: () => Promise<void>): Promise<number> {
  const startedAt = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - startedAt) / 1e9;
}

/** Runs `task(i)` for i in [0, count) with a fixed number in flight. */
async function inParallel(count: number, task: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next;
      next += 1;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, worker));
}

async function rawPublish(redis: Redis, stream: string): Promise<number> {
  const json = JSON.stringify(PAYLOAD);
  return timed(() => inParallel(events, () => redis.xadd(stream, '*', 'type', 'topic.approved', 'payload', json)));
}

async function busPublish(stream: string): Promise<number> {
  const publisher = new EventPublisher('bench', { redis: url, stream });
  try {
    return await timed(() => inParallel(events, () => publisher.publish('topic.approved', PAYLOAD)));
  } finally {
    await publisher.close();
  }
}

/** Publishes a type outside the catalog with strict mode off, which skips payload validation. */
async function busPublishUnvalidated(stream: string): Promise<number> {
  const publisher = new EventPublisher<Record<string, typeof PAYLOAD>>('bench', { redis: url, stream, strict: false });
  try {
    return await timed(() => inParallel(events, () => publisher.publish('bench.unvalidated', PAYLOAD)));
  } finally {
    await publisher.close();
  }
}

async function rawConsume(redis: Redis, stream: string): Promise<number> {
  await redis.xgroup('CREATE', stream, 'raw', '0');
  return timed(async () => {
    let handled = 0;
    while (handled < events) {
      const reply = (await redis.xreadgroup('GROUP', 'raw', 'c', 'COUNT', 100, 'STREAMS', stream, '>')) as
        [string, [string, string[]][]][] | null;
      for (const [entryId, fields] of reply?.[0]?.[1] ?? []) {
        JSON.parse(fields[fields.length - 1]!);
        await redis.xack(stream, 'raw', entryId);
        handled += 1;
      }
    }
  });
}

async function busConsume(stream: string, concurrency: number): Promise<number> {
  let handled = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const consumer = new EventConsumer(`bus-${concurrency}`, 'c', { redis: url, stream, startFrom: 'all', batchSize: 100, concurrency });
  consumer.on('topic.approved', () => {
    handled += 1;
    if (handled === events) {
      done();
    }
  });
  const seconds = await timed(async () => {
    await consumer.start();
    await finished;
  });
  await consumer.stop();
  return seconds;
}

async function main(): Promise<void> {
  Logger.overrideLogger(['error']);
  const redis = new Redis(url);
  const rawStream = `bench:raw:${randomBytes(4).toString('hex')}`;
  const busStream = `bench:bus:${randomBytes(4).toString('hex')}`;
  const rows: Array<[string, number, number]> = [];
  try {
    const rawPublishSeconds = await rawPublish(redis, rawStream);
    rows.push(['publish, validated', rawPublishSeconds, await busPublish(busStream)]);
    rows.push(['publish, not validated', rawPublishSeconds, await busPublishUnvalidated(`${busStream}:unvalidated`)]);
    const rawConsumeSeconds = await rawConsume(redis, rawStream);
    rows.push(['consume, concurrency 1', rawConsumeSeconds, await busConsume(busStream, 1)]);
    rows.push(['consume, concurrency 10', rawConsumeSeconds, await busConsume(busStream, 10)]);
  } finally {
    await redis.del(rawStream, busStream, `${busStream}:unvalidated`);
    await redis.quit();
  }

  console.log(`${events} events, Redis at ${url.replace(/:[^:@/]*@/, ':***@')}, node ${process.version}`);
  console.log('case                      raw ioredis ev/s   bus ev/s   bus/raw');
  for (const [name, raw, bus] of rows) {
    const rawRate = events / raw;
    const busRate = events / bus;
    console.log(
      `${name.padEnd(26)}${rawRate.toFixed(0).padStart(16)}${busRate.toFixed(0).padStart(11)}${(busRate / rawRate).toFixed(2).padStart(10)}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
