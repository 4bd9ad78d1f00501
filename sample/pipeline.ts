import type { INestApplicationContext, Type } from '@nestjs/common';
import { EVENTS, type TopicApproved } from './events.js';
import { EXPECTED_HOPS } from './expected-hops.js';
import { formatExpectedHop, hopKey, HopRecorder, type ExpectedHop, type Hop, type LineWriter } from './hop-recorder.js';
import { newId } from './ids.js';
import { bootServices, closeServices, type ServiceApp } from './service-apps.js';
import { SERVICE_NAMES } from './service-config.js';
import { AnalyticsReporter, EARLIER_VIDEO, WEAK_NICHE } from './services/analytics.js';
import { CommunityExporter } from './services/community.js';
import { TopicPlanner } from './services/topic-engine.js';

/** Default time a run waits for every hop, in milliseconds. */
export const DEFAULT_PIPELINE_TIMEOUT_MS = 20_000;

export interface PipelineOptions {
  /** Redis server, such as `redis://127.0.0.1:6379`. */
  redisUrl: string;
  /** Stream key of this run. A fresh key keeps the run apart from other runs and from real data. */
  stream: string;
  /** Receives every output line. Default: `console.log`. */
  log?: LineWriter;
  /** How long to wait for every expected hop, in milliseconds. Default: 20000. */
  timeoutMs?: number;
  /** Aborting it closes the services and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Record of one run: the topic, its correlation id and every hop. */
export interface PipelineResult {
  /** The payload of the `topic.approved` event that started the run. */
  readonly topic: TopicApproved;
  /** Id of the `topic.approved` event, which is also the correlation id of its chain. */
  readonly correlationId: string;
  /** Every hop, in the order the handlers recorded them. */
  readonly hops: readonly Hop[];
  /** Hops of the chain that `topic.approved` started, in order. */
  readonly topicHops: readonly Hop[];
  /** Hops of the analytics and community events, in order. */
  readonly feedbackHops: readonly Hop[];
  /** Milliseconds from publishing `topic.approved` until the admin UI notified the editor. */
  readonly totalMs: number;
}

/** Thrown when some expected hops did not happen within the timeout. */
export class PipelineTimeoutError extends Error {
  override readonly name = 'PipelineTimeoutError';

  constructor(
    readonly timeoutMs: number,
    readonly missing: readonly ExpectedHop[],
    readonly hops: readonly Hop[],
  ) {
    super(
      `Timed out after ${timeoutMs} ms; ${missing.length} hops never happened:\n${missing.map((hop) => `  ${formatExpectedHop(hop)}`).join('\n')}`,
    );
  }
}

/**
 * Boots every sample service, publishes one approved topic plus the feedback events of an earlier
 * video, prints each hop as it happens, and resolves once every expected hop happened. The
 * services are closed before it settles, whether it resolves, times out or is aborted. The stream
 * is left in Redis for the caller to inspect or delete.
 */
export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const timeoutMs = options.timeoutMs ?? DEFAULT_PIPELINE_TIMEOUT_MS;
  options.signal?.throwIfAborted();

  const recorder = new HopRecorder(EXPECTED_HOPS, log);
  const services = await bootServices({ redis: options.redisUrl, stream: options.stream, recorder });
  try {
    options.signal?.throwIfAborted();
    log(`Started ${services.length} services: ${services.map((service) => service.name).join(', ')}`);
    log('');

    const topic = sampleTopic();
    printPublished(recorder, SERVICE_NAMES.topicEngine, `${EVENTS.topicApproved} for ${topic.topicId} "${topic.title}"`);
    recorder.startClock();
    const root = await providerOf(services, SERVICE_NAMES.topicEngine, TopicPlanner).approve(topic);

    printPublished(
      recorder,
      SERVICE_NAMES.analytics,
      `${EVENTS.analyticsHookWeak} and ${EVENTS.scriptHookFlagged} for ${EARLIER_VIDEO.scriptId}, ${EVENTS.analyticsNicheUnderperforming} for ${WEAK_NICHE}`,
    );
    printPublished(recorder, SERVICE_NAMES.community, `${EVENTS.communityTopicExported} for one member suggestion`);
    await Promise.all([
      providerOf(services, SERVICE_NAMES.analytics, AnalyticsReporter).reportEarlierVideo(),
      providerOf(services, SERVICE_NAMES.community, CommunityExporter).exportSuggestion(),
    ]);

    await waitForAllHops(recorder, timeoutMs, options.signal);
    return summarize(topic, root.eventId, recorder.hops);
  } finally {
    for (const failure of await closeServices(services)) {
      log(`Failed to close service ${failure.name}: ${failure.error instanceof Error ? failure.error.message : String(failure.error)}`);
    }
  }
}

function sampleTopic(): TopicApproved {
  return {
    topicId: newId('topic'),
    title: 'Why index funds beat most stock pickers',
    channelType: 'INTELLECTUAL',
    niche: 'finance',
    targetMarkets: ['US', 'DE', 'BR'],
    estimatedCPM: 14.5,
    hookIdeas: ['Nine out of ten fund managers lose to a list they could buy for free', 'What a monkey with darts taught Wall Street'],
  };
}

/** Prints the line for an event that starts a chain, right before it is published. */
function printPublished(recorder: HopRecorder, service: string, description: string): void {
  recorder.print(`${service.padEnd(16)}publishes ${description}`);
}

function providerOf<T>(services: readonly ServiceApp[], name: string, token: Type<T>): T {
  const app: INestApplicationContext | undefined = services.find((service) => service.name === name)?.app;
  if (app === undefined) {
    throw new Error(`Service ${name} is not running`);
  }
  return app.get(token);
}

/** Resolves when the recorder has every expected hop, and rejects on timeout or abort. */
async function waitForAllHops(recorder: HopRecorder, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  signal?.throwIfAborted();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new PipelineTimeoutError(timeoutMs, recorder.missing(), [...recorder.hops])), timeoutMs);
  });
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal?.reason instanceof Error ? signal.reason : new Error('The pipeline run was aborted.'));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([recorder.complete, timedOut, aborted]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

function summarize(topic: TopicApproved, correlationId: string, hops: readonly Hop[]): PipelineResult {
  const topicKeys = new Set(EXPECTED_HOPS.filter((hop) => hop.chain === 'topic').map((hop) => hopKey(hop.service, hop.event)));
  const topicHops = hops.filter((hop) => topicKeys.has(hopKey(hop.service, hop.event)));
  const feedbackHops = hops.filter((hop) => !topicKeys.has(hopKey(hop.service, hop.event)));
  const notified = topicHops.find((hop) => hop.service === SERVICE_NAMES.adminUi && hop.event === EVENTS.localizationCompleted);
  return {
    topic,
    correlationId,
    hops: [...hops],
    topicHops,
    feedbackHops,
    totalMs: notified?.elapsedMs ?? Number.NaN,
  };
}
