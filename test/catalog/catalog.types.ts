// Compile-time checks for the catalog types. This file is not a Jest spec:
// `tsc -p tsconfig.json --noEmit` compiles it, and every `@ts-expect-error` line
// must fail to compile, or tsc reports the directive as unused.
import { IsNotEmpty, IsString } from 'class-validator';

import { defaultEventRegistry } from '../../lib/catalog/index.js';
import type {
  BuiltInEventType,
  EventPayload,
  EventPayloadInput,
  EventType,
  LocalizedVideo,
  TopicApprovedPayload,
} from '../../lib/catalog/index.js';

declare function publish<T extends EventType>(type: T, payload: EventPayloadInput<T>): void;
declare function handle<T extends EventType>(type: T, handler: (payload: EventPayload<T>) => void): void;

type Equal<A, B> = (<V>() => V extends A ? 1 : 2) extends <V>() => V extends B ? 1 : 2 ? true : false;
type Expect<Condition extends true> = Condition;

// The literal from the product specification type-checks without a class instance.
publish('topic.approved', {
  topicId: '123',
  title: 'How to Invest in ETFs',
  channelType: 'INTELLECTUAL',
  niche: 'finance',
  targetMarkets: ['US', 'DE', 'AU'],
  estimatedCPM: 32,
  hookIdeas: ['Fear of missing out', 'I lost $50k doing this'],
});

// Optional fields may be left out, and read-only arrays are accepted.
const markets: readonly string[] = ['DE'];
publish('script.approved', { topicId: '1', scriptId: 's1', channelType: 'INTELLECTUAL', language: 'en' });
publish('community.topic_exported', {
  suggestionId: 'sug-1',
  title: 'Title',
  niche: 'finance',
  targetMarkets: markets,
  submittedBy: 'member-1',
  votes: 0,
});

// Nested classes are accepted as plain objects.
publish('localization.completed', {
  topicId: '1',
  mediaId: 'm1',
  stage: 1,
  localizations: [{ market: 'DE', language: 'de-DE', videoUrl: 'https://cdn.example.com/m1.de.mp4' }],
});

// A class instance is accepted as well as a literal.
declare const approvedInstance: TopicApprovedPayload;
publish('topic.approved', approvedInstance);

// Handlers read the fields that the Script Engine example uses.
handle('topic.approved', (payload) => {
  const topicId: string = payload.topicId;
  const channelType: string = payload.channelType;
  void topicId;
  void channelType;
});
handle('analytics.hook_weak', (payload) => {
  const scriptId: string = payload.scriptId;
  void scriptId;
});

type PayloadChecks = [
  Expect<Equal<EventPayload<'topic.approved'>, TopicApprovedPayload>>,
  Expect<Equal<EventPayloadInput<'topic.approved'>['targetMarkets'], readonly string[]>>,
  Expect<Equal<EventPayloadInput<'localization.completed'>['localizations'][number]['subtitlesUrl'], string | undefined>>,
  Expect<Equal<EventPayload<'localization.completed'>['localizations'][number], LocalizedVideo>>,
  Expect<Equal<Extract<EventType, BuiltInEventType>, BuiltInEventType>>,
];

// @ts-expect-error An unknown event name is not an EventType.
publish('topic.approve', { topicId: '1' });

// @ts-expect-error An unknown event name is not an EventType.
const unknownName: EventType = 'topic.archived';

// @ts-expect-error The registry is typed by event name as well.
defaultEventRegistry().get('topic.archived');

publish('topic.approved', {
  topicId: '123',
  title: 'How to Invest in ETFs',
  channelType: 'INTELLECTUAL',
  niche: 'finance',
  targetMarkets: ['US'],
  // @ts-expect-error estimatedCPM is a number, not a string.
  estimatedCPM: '32',
  hookIdeas: [],
});

publish('topic.approved', {
  topicId: '123',
  title: 'How to Invest in ETFs',
  channelType: 'INTELLECTUAL',
  niche: 'finance',
  // @ts-expect-error targetMarkets is an array of strings.
  targetMarkets: 'US',
  estimatedCPM: 32,
  hookIdeas: [],
});

// @ts-expect-error niche is required.
publish('topic.approved', {
  topicId: '123',
  title: 'How to Invest in ETFs',
  channelType: 'INTELLECTUAL',
  targetMarkets: ['US'],
  estimatedCPM: 32,
  hookIdeas: [],
});

publish('voice.generated', {
  topicId: '1',
  scriptId: 's1',
  voiceId: 'v1',
  audioUrl: 'https://cdn.example.com/v1.mp3',
  durationSeconds: 10,
  language: 'en',
  // @ts-expect-error Object literals may not contain undeclared fields.
  bitrate: 128,
});

// @ts-expect-error The payload of one event does not fit another.
publish('media.ready', { topicId: '1', reason: 'duplicate' });

handle('analytics.hook_weak', (payload) => {
  // @ts-expect-error analytics.hook_weak has no channelType.
  void payload.channelType;
});

// Declaration merging: an application adds its own event to the catalog.
// NOTE: the merge applies to the whole tsc program, so in every file compiled with
// this one, EventType includes 'catalog_example.thumbnail_ready'.
class ThumbnailReadyPayload {
  /** Video id issued by the Media Engine. */
  @IsString()
  @IsNotEmpty()
  readonly mediaId!: string;

  /** Absolute http(s) URL of the thumbnail image. */
  @IsString()
  readonly thumbnailUrl!: string;
}

declare module '../../lib/catalog/index.js' {
  interface EventCatalog {
    'catalog_example.thumbnail_ready': ThumbnailReadyPayload;
  }
}

publish('catalog_example.thumbnail_ready', { mediaId: 'm1', thumbnailUrl: 'https://cdn.example.com/m1.jpg' });

type MergedChecks = [
  Expect<Equal<EventPayload<'catalog_example.thumbnail_ready'>, ThumbnailReadyPayload>>,
  Expect<Equal<Extract<EventType, 'catalog_example.thumbnail_ready'>, 'catalog_example.thumbnail_ready'>>,
];

// @ts-expect-error A merged event checks its payload like a built-in one.
publish('catalog_example.thumbnail_ready', { mediaId: 'm1' });

export type { MergedChecks, PayloadChecks };
export { unknownName };
