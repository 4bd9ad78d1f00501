import { describe, expect, it } from '@jest/globals';

import {
  BUILT_IN_EVENT_DEFINITIONS,
  LocalizationCompletedPayload,
  LocalizedVideo,
  NicheMetrics,
  AnalyticsNicheUnderperformingPayload,
  TopicApprovedPayload,
  defaultEventRegistry,
  validatePayload,
} from '../../lib/catalog/index.js';
import type { BuiltInEventType } from '../../lib/catalog/index.js';
import { SPEC_TOPIC_APPROVED, validPayloads } from './payload-fixtures.js';
import { errorPaths, expectInvalid, expectValid } from './result-helpers.js';

type PlainPayload = Record<string, unknown>;

interface InvalidCase {
  readonly event: BuiltInEventType;
  readonly name: string;
  readonly change: (payload: PlainPayload) => void;
  /** Paths that must be reported, and no others. */
  readonly paths: readonly string[];
}

const registry = defaultEventRegistry();

function validate<T extends BuiltInEventType>(event: T, payload: unknown) {
  const definition = registry.get(event);
  if (definition === undefined) {
    throw new Error(`Built-in event ${event} is not registered`);
  }
  return validatePayload(definition.payloadClass, payload);
}

function validPlain(event: BuiltInEventType): PlainPayload {
  return validPayloads()[event];
}

function nestedItems(payload: PlainPayload, key: string): PlainPayload[] {
  return payload[key] as PlainPayload[];
}

const INVALID_CASES: readonly InvalidCase[] = [
  {
    event: 'topic.approved',
    name: 'lower-case market code',
    change: (p) => (p.targetMarkets = ['US', 'de', 'AU']),
    paths: ['targetMarkets.1'],
  },
  {
    event: 'topic.approved',
    name: 'unassigned market code',
    change: (p) => (p.targetMarkets = ['US', 'DE', 'XX']),
    paths: ['targetMarkets.2'],
  },
  { event: 'topic.approved', name: 'empty market list', change: (p) => (p.targetMarkets = []), paths: ['targetMarkets'] },
  {
    event: 'topic.approved',
    name: 'duplicate market code',
    change: (p) => (p.targetMarkets = ['US', 'US']),
    paths: ['targetMarkets'],
  },
  { event: 'topic.approved', name: 'negative CPM', change: (p) => (p.estimatedCPM = -1), paths: ['estimatedCPM'] },
  { event: 'topic.approved', name: 'CPM as string', change: (p) => (p.estimatedCPM = '32'), paths: ['estimatedCPM'] },
  { event: 'topic.approved', name: 'missing topicId', change: (p) => delete p.topicId, paths: ['topicId'] },
  { event: 'topic.approved', name: 'empty hook idea', change: (p) => (p.hookIdeas = ['Hook', '']), paths: ['hookIdeas.1'] },
  {
    event: 'topic.approved',
    name: 'lower-case channel type',
    change: (p) => (p.channelType = 'intellectual'),
    paths: ['channelType'],
  },

  { event: 'topic.rejected', name: 'empty reason', change: (p) => (p.reason = ''), paths: ['reason'] },
  { event: 'topic.rejected', name: 'numeric topicId', change: (p) => (p.topicId = 124), paths: ['topicId'] },
  { event: 'topic.rejected', name: 'empty rejectedBy', change: (p) => (p.rejectedBy = ''), paths: ['rejectedBy'] },

  { event: 'script.approved', name: 'language name', change: (p) => (p.language = 'english'), paths: ['language'] },
  { event: 'script.approved', name: 'zero duration', change: (p) => (p.durationSeconds = 0), paths: ['durationSeconds'] },
  { event: 'script.approved', name: 'missing scriptId', change: (p) => delete p.scriptId, paths: ['scriptId'] },

  {
    event: 'script.hook_flagged',
    name: 'suggestions as string',
    change: (p) => (p.suggestions = 'Rewrite it'),
    paths: ['suggestions'],
  },
  {
    event: 'script.hook_flagged',
    name: 'numeric suggestion',
    change: (p) => (p.suggestions = ['Rewrite it', 3]),
    paths: ['suggestions.1'],
  },
  { event: 'script.hook_flagged', name: 'empty scriptId', change: (p) => (p.scriptId = ''), paths: ['scriptId'] },

  {
    event: 'voice.generated',
    name: 'ftp audio URL',
    change: (p) => (p.audioUrl = 'ftp://files.example.com/voc-1.mp3'),
    paths: ['audioUrl'],
  },
  {
    event: 'voice.generated',
    name: 'audio URL without scheme',
    change: (p) => (p.audioUrl = 'cdn.example.com/voc-1.mp3'),
    paths: ['audioUrl'],
  },
  { event: 'voice.generated', name: 'negative duration', change: (p) => (p.durationSeconds = -3), paths: ['durationSeconds'] },
  { event: 'voice.generated', name: 'missing voiceId', change: (p) => delete p.voiceId, paths: ['voiceId'] },

  { event: 'media.ready', name: 'invalid video URL', change: (p) => (p.videoUrl = 'not a url'), paths: ['videoUrl'] },
  { event: 'media.ready', name: 'missing voiceId', change: (p) => delete p.voiceId, paths: ['voiceId'] },
  {
    event: 'media.ready',
    name: 'infinite duration',
    change: (p) => (p.durationSeconds = Number.POSITIVE_INFINITY),
    paths: ['durationSeconds'],
  },

  { event: 'analytics.hook_weak', name: 'retention above 1', change: (p) => (p.retentionRate = 1.5), paths: ['retentionRate'] },
  { event: 'analytics.hook_weak', name: 'negative threshold', change: (p) => (p.threshold = -0.1), paths: ['threshold'] },
  {
    event: 'analytics.hook_weak',
    name: 'zero hook window',
    change: (p) => (p.hookWindowSeconds = 0),
    paths: ['hookWindowSeconds'],
  },

  {
    event: 'analytics.niche_underperforming',
    name: 'negative nested CPM',
    change: (p) => ((p.observed as PlainPayload).averageCPM = -1),
    paths: ['observed.averageCPM'],
  },
  {
    event: 'analytics.niche_underperforming',
    name: 'fractional video count',
    change: (p) => ((p.baseline as PlainPayload).videoCount = 2.5),
    paths: ['baseline.videoCount'],
  },
  {
    event: 'analytics.niche_underperforming',
    name: 'window start not ISO 8601',
    change: (p) => (p.windowStart = 'yesterday'),
    paths: ['windowStart'],
  },
  { event: 'analytics.niche_underperforming', name: 'missing baseline', change: (p) => delete p.baseline, paths: ['baseline'] },
  {
    event: 'analytics.niche_underperforming',
    name: 'window end before start',
    change: (p) => (p.windowEnd = '2024-12-31T00:00:00Z'),
    paths: ['windowEnd'],
  },
  {
    event: 'analytics.niche_underperforming',
    name: 'nested metrics as string',
    change: (p) => (p.observed = 'good'),
    paths: ['observed'],
  },

  { event: 'community.topic_exported', name: 'negative votes', change: (p) => (p.votes = -1), paths: ['votes'] },
  {
    event: 'community.topic_exported',
    name: 'lower-case market code',
    change: (p) => (p.targetMarkets = ['us']),
    paths: ['targetMarkets.0'],
  },
  { event: 'community.topic_exported', name: 'missing submittedBy', change: (p) => delete p.submittedBy, paths: ['submittedBy'] },

  {
    event: 'localization.completed',
    name: 'invalid nested video URL',
    change: (p) => (nestedItems(p, 'localizations')[1]!.videoUrl = 'not a url'),
    paths: ['localizations.1.videoUrl'],
  },
  {
    event: 'localization.completed',
    name: 'UK instead of GB',
    change: (p) => (nestedItems(p, 'localizations')[0]!.market = 'UK'),
    paths: ['localizations.0.market'],
  },
  { event: 'localization.completed', name: 'empty localizations', change: (p) => (p.localizations = []), paths: ['localizations'] },
  { event: 'localization.completed', name: 'stage zero', change: (p) => (p.stage = 0), paths: ['stage'] },
  {
    event: 'localization.completed',
    name: 'null localization item',
    change: (p) => (p.localizations = [null]),
    paths: ['localizations.0'],
  },
];

describe('validatePayload', () => {
  it.each(BUILT_IN_EVENT_DEFINITIONS.map((definition) => definition.type))('accepts a valid %s payload', (event) => {
    const value = expectValid(validate(event, validPlain(event)));

    expect(value).toBeInstanceOf(registry.get(event)!.payloadClass);
  });

  it('accepts the topic.approved example from the specification', () => {
    const value = expectValid(validatePayload(TopicApprovedPayload, SPEC_TOPIC_APPROVED));

    expect(value).toBeInstanceOf(TopicApprovedPayload);
    expect({ ...value }).toEqual(SPEC_TOPIC_APPROVED);
  });

  it.each(INVALID_CASES.map((testCase) => [`${testCase.event}: ${testCase.name}`, testCase] as const))('rejects %s', (_title, testCase) => {
    const payload = validPlain(testCase.event);
    testCase.change(payload);

    const errors = expectInvalid(validate(testCase.event, payload));

    expect(errorPaths(errors)).toEqual(testCase.paths);
  });

  it('has at least two invalid cases per built-in event', () => {
    const eventsWithFewCases = BUILT_IN_EVENT_DEFINITIONS.map((definition) => definition.type).filter(
      (event) => INVALID_CASES.filter((testCase) => testCase.event === event).length < 2,
    );

    expect(eventsWithFewCases).toEqual([]);
  });

  it('reports every failed constraint of an element', () => {
    const errors = expectInvalid(validatePayload(TopicApprovedPayload, { ...SPEC_TOPIC_APPROVED, targetMarkets: ['US', 7] }));

    expect(errorPaths(errors)).toEqual(['targetMarkets.1']);
    expect(errors[0]!.constraints).toEqual([
      'each value in targetMarkets must be a string',
      'each value in targetMarkets must be an upper-case ISO 3166-1 alpha-2 code such as US',
      'each value in targetMarkets must be an assigned ISO 3166-1 alpha-2 code',
    ]);
  });

  it('reports several invalid fields at once', () => {
    const errors = expectInvalid(
      validatePayload(TopicApprovedPayload, {
        ...SPEC_TOPIC_APPROVED,
        title: '',
        targetMarkets: ['us', 'DE', 'fr'],
        estimatedCPM: -5,
      }),
    );

    expect(errorPaths(errors)).toEqual(['title', 'targetMarkets.0', 'targetMarkets.2', 'estimatedCPM']);
  });

  it('accepts missing optional fields', () => {
    const payload = validPlain('community.topic_exported');
    delete payload.description;
    delete payload.channelType;
    delete payload.targetMarkets;
    delete payload.hookIdeas;

    const value = expectValid(validate('community.topic_exported', payload));

    expect(value.suggestionId).toBe('sug-9');
    expect(value.targetMarkets).toBeUndefined();
  });

  it('strips undeclared fields at every depth', () => {
    const payload = validPlain('localization.completed');
    payload.unknownField = 'dropped';
    nestedItems(payload, 'localizations')[0]!.unknownNested = 'dropped';

    const value = expectValid(validatePayload(LocalizationCompletedPayload, payload));

    expect(value).not.toHaveProperty('unknownField');
    expect(value.localizations[0]).toBeInstanceOf(LocalizedVideo);
    expect(value.localizations[0]).not.toHaveProperty('unknownNested');
  });

  it('builds nested class instances', () => {
    const value = expectValid(validatePayload(AnalyticsNicheUnderperformingPayload, validPlain('analytics.niche_underperforming')));

    expect(value.observed).toBeInstanceOf(NicheMetrics);
    expect(value.baseline).toBeInstanceOf(NicheMetrics);
  });

  it('leaves the input unchanged', () => {
    const payload = { ...SPEC_TOPIC_APPROVED, extra: 'kept in the input' };
    const before = structuredClone(payload);

    validatePayload(TopicApprovedPayload, payload);

    expect(payload).toEqual(before);
  });

  it.each([
    ['null', null, 'null'],
    ['an array', [SPEC_TOPIC_APPROVED], 'an array'],
    ['a string', JSON.stringify(SPEC_TOPIC_APPROVED), 'string'],
    ['undefined', undefined, 'undefined'],
  ])('rejects %s as payload', (_title, input, received) => {
    const result = validatePayload(TopicApprovedPayload, input);

    expect(result).toEqual({
      ok: false,
      errors: [{ path: '', constraints: [`payload must be an object, received ${received}`] }],
    });
  });
});
