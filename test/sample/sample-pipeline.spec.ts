import { Redis } from 'ioredis';
import { EVENTS } from '../../sample/events.js';
import { EXPECTED_HOPS } from '../../sample/expected-hops.js';
import { formatHop, type Hop } from '../../sample/hop-recorder.js';
import { PipelineTimeoutError, runPipeline, type PipelineResult } from '../../sample/pipeline.js';
import { SERVICE_NAMES } from '../../sample/service-config.js';
import { captureLogs } from '../support/capture-logs.js';
import { uniqueKey } from '../support/wait-for.js';

const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A stream entry id beyond any that Redis assigns now, so a group created there receives nothing. */
const FAR_FUTURE_ENTRY_ID = '9999999999999-0';

function findHop(hops: readonly Hop[], service: string, event: string): Hop {
  const hop = hops.find((candidate) => candidate.service === service && candidate.event === event);
  if (hop === undefined) {
    throw new Error(
      `No hop of ${service} handling ${event}; recorded: ${hops.map((recorded) => `${recorded.service} ${recorded.event}`).join(', ')}`,
    );
  }
  return hop;
}

function indexOfHop(hops: readonly Hop[], service: string, event: string): number {
  return hops.indexOf(findHop(hops, service, event));
}

describe('sample pipeline', () => {
  let redis: Redis;
  const streams: string[] = [];

  beforeAll(() => {
    redis = new Redis(redisUrl);
  });

  afterAll(async () => {
    if (streams.length > 0) {
      await redis.del(...streams);
    }
    await redis.quit();
  });

  function newStream(): string {
    const stream = uniqueKey('sample');
    streams.push(stream);
    return stream;
  }

  describe('one complete run', () => {
    let stream: string;
    let result: PipelineResult;
    const lines: string[] = [];
    let logs: ReturnType<typeof captureLogs>;

    beforeAll(async () => {
      logs = captureLogs();
      stream = newStream();
      result = await runPipeline({ redisUrl, stream, log: (line) => lines.push(line), timeoutMs: 15_000 });
    });

    afterAll(() => {
      logs.restore();
    });

    it('records every expected hop once', () => {
      const recorded = result.hops.map((hop) => `${hop.service} ${hop.event}`).sort();
      const expected = EXPECTED_HOPS.map((hop) => `${hop.service} ${hop.event}`).sort();
      expect(recorded).toEqual(expected);
    });

    it('handles every catalog event', () => {
      const handled = new Set(result.hops.map((hop) => hop.event));
      expect([...handled].sort()).toEqual(Object.values(EVENTS).sort());
    });

    it('runs the topic chain in causal order', () => {
      const hops = result.topicHops;
      const script = indexOfHop(hops, SERVICE_NAMES.scriptEngine, EVENTS.topicApproved);
      const voice = indexOfHop(hops, SERVICE_NAMES.voiceEngine, EVENTS.scriptApproved);
      const mediaStart = indexOfHop(hops, SERVICE_NAMES.mediaEngine, EVENTS.scriptApproved);
      const mediaReady = indexOfHop(hops, SERVICE_NAMES.mediaEngine, EVENTS.voiceGenerated);
      const markets = indexOfHop(hops, SERVICE_NAMES.localization, EVENTS.topicApproved);
      const localization = indexOfHop(hops, SERVICE_NAMES.localization, EVENTS.mediaReady);
      const admin = indexOfHop(hops, SERVICE_NAMES.adminUi, EVENTS.localizationCompleted);

      expect(script).toBeLessThan(voice);
      expect(script).toBeLessThan(mediaStart);
      expect(voice).toBeLessThan(mediaReady);
      expect(mediaStart).toBeLessThan(mediaReady);
      expect(markets).toBeLessThan(localization);
      expect(mediaReady).toBeLessThan(localization);
      expect(localization).toBeLessThan(admin);
    });

    it('reports admin hop as total', () => {
      const notified = findHop(result.topicHops, SERVICE_NAMES.adminUi, EVENTS.localizationCompleted);
      expect(result.totalMs).toBe(notified.elapsedMs);
      expect(result.totalMs).toBeGreaterThan(0);
    });

    it('shares one correlation id', () => {
      expect(result.topicHops).toHaveLength(EXPECTED_HOPS.filter((hop) => hop.chain === 'topic').length);
      for (const hop of result.topicHops) {
        expect(`${hop.service} ${hop.event} ${hop.correlationId}`).toBe(`${hop.service} ${hop.event} ${result.correlationId}`);
      }
    });

    it('keeps feedback correlation ids apart', () => {
      for (const hop of result.feedbackHops) {
        expect(hop.correlationId).not.toBe(result.correlationId);
      }
    });

    it('links events to their causes', () => {
      const hops = result.topicHops;
      const topicApproved = findHop(hops, SERVICE_NAMES.scriptEngine, EVENTS.topicApproved);
      const scriptApproved = findHop(hops, SERVICE_NAMES.voiceEngine, EVENTS.scriptApproved);
      const voiceGenerated = findHop(hops, SERVICE_NAMES.mediaEngine, EVENTS.voiceGenerated);
      const mediaReady = findHop(hops, SERVICE_NAMES.localization, EVENTS.mediaReady);
      const completed = findHop(hops, SERVICE_NAMES.adminUi, EVENTS.localizationCompleted);

      expect(topicApproved.eventId).toBe(result.correlationId);
      expect(topicApproved.causationId).toBeUndefined();
      expect(scriptApproved.causationId).toBe(topicApproved.eventId);
      expect(voiceGenerated.causationId).toBe(scriptApproved.eventId);
      expect(mediaReady.causationId).toBe(voiceGenerated.eventId);
      expect(completed.causationId).toBe(mediaReady.eventId);

      const rejected = findHop(result.feedbackHops, SERVICE_NAMES.adminUi, EVENTS.topicRejected);
      const exported = findHop(result.feedbackHops, SERVICE_NAMES.topicEngine, EVENTS.communityTopicExported);
      expect(rejected.causationId).toBe(exported.eventId);
      expect(rejected.correlationId).toBe(exported.correlationId);
    });

    it('prints hops and the notification', () => {
      for (const hop of result.hops) {
        expect(lines).toContain(formatHop(hop));
      }
      const notification = lines.find((line) => line.includes('Notification:'));
      expect(notification).toContain(`${result.topic.targetMarkets.length} localized videos of ${result.topic.topicId}`);
    });

    // NOTE: an entry whose type a group does not handle can stay pending in that group, because
    // a read that returns while the services close is skipped by the consumer. Only the entries
    // a group handles are checked here.
    it('acknowledges every handled entry', async () => {
      const stillPending: string[] = [];
      for (const service of new Set(EXPECTED_HOPS.map((hop) => hop.service))) {
        const group = `${service}-group`;
        const handledTypes = new Set(EXPECTED_HOPS.filter((hop) => hop.service === service).map((hop) => hop.event));
        const pending = (await redis.xpending(stream, group, '-', '+', 100)) as Array<[string, string, number, number]>;
        for (const [entryId] of pending) {
          const [entry] = await redis.xrange(stream, entryId, entryId);
          const fields = entry?.[1] ?? [];
          const type = fields[fields.indexOf('type') + 1] ?? '';
          if (handledTypes.has(type)) {
            stillPending.push(`${group} ${type} ${entryId}`);
          }
        }
      }
      expect(stillPending).toEqual([]);
    });

    it('publishes one entry per event', async () => {
      expect(await redis.xlen(stream)).toBe(Object.values(EVENTS).length);
    });

    it('logs no warnings or errors', () => {
      const problems = logs.lines.filter((line) => line.level === 'warn' || line.level === 'error' || line.level === 'fatal');
      expect(problems).toEqual([]);
    });
  });

  it('times out naming missing hops', async () => {
    const stream = newStream();
    // The voice engine's group starts after every entry this run will add, so it never gets script.approved.
    await redis.xgroup('CREATE', stream, 'voice-engine-group', FAR_FUTURE_ENTRY_ID, 'MKSTREAM');

    const error: unknown = await runPipeline({ redisUrl, stream, log: () => undefined, timeoutMs: 1_500 }).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(PipelineTimeoutError);
    const timeout = error as PipelineTimeoutError;
    expect(timeout.missing.map((hop) => `${hop.service} ${hop.event}`).sort()).toEqual(
      [
        `${SERVICE_NAMES.voiceEngine} ${EVENTS.scriptApproved}`,
        `${SERVICE_NAMES.mediaEngine} ${EVENTS.voiceGenerated}`,
        `${SERVICE_NAMES.localization} ${EVENTS.mediaReady}`,
        `${SERVICE_NAMES.adminUi} ${EVENTS.localizationCompleted}`,
      ].sort(),
    );
    expect(timeout.message).toContain('Timed out after 1500 ms; 4 hops never happened');
    expect(timeout.message).toContain(`${SERVICE_NAMES.adminUi}`);
  });

  it('stops when the signal aborts', async () => {
    const stream = newStream();
    await redis.xgroup('CREATE', stream, 'voice-engine-group', FAR_FUTURE_ENTRY_ID, 'MKSTREAM');
    const controller = new AbortController();
    const reason = new Error('test interrupt');
    const log = (line: string): void => {
      // Abort mid-run, once the media engine waits for a voice-over that will never come.
      if (line.includes('waiting for voice')) {
        controller.abort(reason);
      }
    };

    const startedAt = Date.now();
    const error: unknown = await runPipeline({ redisUrl, stream, log, timeoutMs: 20_000, signal: controller.signal }).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBe(reason);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });

  it('rejects an aborted signal before booting', async () => {
    const controller = new AbortController();
    const reason = new Error('aborted early');
    controller.abort(reason);

    await expect(runPipeline({ redisUrl, stream: newStream(), signal: controller.signal })).rejects.toBe(reason);
  });
});
