/**
 * Command line entry of the sample (`npm run sample`): finds or starts a Redis server, runs one
 * topic through the pipeline, prints the hops and a summary, and sets the exit code.
 *
 * Environment:
 *   REDIS_URL      Redis to use. Default: redis://127.0.0.1:6379. When it does not reply to PING
 *                  and redis-server is on PATH, a throwaway server is started instead.
 *   SAMPLE_STREAM  Stream key. Default: a fresh `ai-pipeline:events:sample:<epoch ms>`, deleted
 *                  after the run. A stream named here is kept.
 */
import { maskRedisUrl } from '../lib/index.js';
import { deleteKey, isOnPath, pingRedis, startThrowawayRedis } from './local-redis.js';
import { PipelineTimeoutError, runPipeline, type PipelineResult } from './pipeline.js';

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Exit codes for a stop by signal, following the shell's 128 + signal number convention. */
const SIGNAL_EXIT_CODES: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

interface RedisTarget {
  readonly url: string;
  /** Stops a throwaway server. Absent for a server that this run did not start. */
  readonly stop?: () => Promise<void>;
}

async function main(): Promise<number> {
  const controller = new AbortController();
  let signalExitCode: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalExitCode !== undefined) {
      // A second signal while closing means the user does not want to wait.
      process.exit(signalExitCode);
    }
    signalExitCode = SIGNAL_EXIT_CODES[signal] ?? 1;
    console.log(`\nReceived ${signal}; closing the services (send it again to exit at once).`);
    controller.abort(new Error(`Interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    const redis = await findRedis();
    if (redis === undefined) {
      return 1;
    }
    try {
      const code = await runOnce(redis.url, controller.signal);
      return signalExitCode ?? code;
    } finally {
      await redis.stop?.();
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Finds a Redis that replies to PING, or starts a throwaway one. Returns undefined after printing help when neither works. */
async function findRedis(): Promise<RedisTarget | undefined> {
  const configured = process.env['REDIS_URL'];
  const url = configured || DEFAULT_REDIS_URL;
  const pingError = await pingRedis(url);
  if (pingError === undefined) {
    return { url };
  }

  const where = `${maskRedisUrl(url)}${configured ? ' (from REDIS_URL)' : ''}`;
  if (isOnPath('redis-server')) {
    const server = await startThrowawayRedis();
    console.log(
      `No Redis replied to PING at ${where}: ${pingError.message}. Started a throwaway redis-server at ${server.url} (pid ${server.pid}) for this run.`,
    );
    return { url: server.url, stop: () => server.stop() };
  }

  console.error(
    [
      `No Redis replied to PING at ${where}: ${pingError.message}.`,
      'redis-server was not found on PATH either, so no throwaway server could be started.',
      'Start Redis, then run `npm run sample` again:',
      '  docker compose up -d          in the repository root (Redis on 127.0.0.1:6379), or',
      '  REDIS_URL=redis://HOST:PORT   to use a Redis server that is already running.',
    ].join('\n'),
  );
  return undefined;
}

async function runOnce(url: string, signal: AbortSignal): Promise<number> {
  const namedStream = process.env['SAMPLE_STREAM'];
  const stream = namedStream || `ai-pipeline:events:sample:${Date.now()}`;
  // NOTE: maskRedisUrl masks a password given as `user:password@` but not one given as a
  // `?password=` query parameter, which ioredis 6.1 also reads.
  console.log(`Redis:  ${maskRedisUrl(url)}`);
  console.log(`Stream: ${stream}`);

  try {
    const result = await runPipeline({ redisUrl: url, stream, signal });
    return printSummary(result);
  } catch (error) {
    if (error instanceof PipelineTimeoutError) {
      console.error(error.message);
      return 1;
    }
    if (signal.aborted) {
      console.log('Closed all services.');
      return 1;
    }
    console.error(`Sample run failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    if (namedStream) {
      console.log(`Kept stream ${stream} because SAMPLE_STREAM names it.`);
    } else {
      const deleteError = await deleteKey(url, stream);
      if (deleteError === undefined) {
        console.log(`Deleted stream ${stream}.`);
      } else {
        console.error(`Failed to delete stream ${stream}: ${deleteError.message}. Delete it with: redis-cli DEL ${stream}`);
      }
    }
  }
}

/** Prints the summary and returns the exit code: 1 when a hop of the topic chain lost the correlation id. */
function printSummary(result: PipelineResult): number {
  const strays = result.topicHops.filter((hop) => hop.correlationId !== result.correlationId);
  console.log('');
  console.log(
    `Topic chain: ${result.topicHops.length} hops in ${Math.round(result.totalMs)} ms, from topic.approved to the admin notification`,
  );
  console.log(
    `Feedback:    ${result.feedbackHops.length} hops from analytics and community events, each chain with its own correlation id`,
  );
  if (strays.length > 0) {
    console.error(`Correlation id ${result.correlationId} is missing from ${strays.length} hops of the topic chain:`);
    for (const hop of strays) {
      console.error(`  ${hop.service} ${hop.event} carried ${hop.correlationId}`);
    }
    return 1;
  }
  console.log(`Correlation: ${result.correlationId}, shared by all ${result.topicHops.length} hops of the topic chain`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`Sample failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
