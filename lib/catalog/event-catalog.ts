import type {
  AnalyticsHookWeakPayload,
  AnalyticsNicheUnderperformingPayload,
  CommunityTopicExportedPayload,
  LocalizationCompletedPayload,
  MediaReadyPayload,
  ScriptApprovedPayload,
  ScriptHookFlaggedPayload,
  TopicApprovedPayload,
  TopicRejectedPayload,
  VoiceGeneratedPayload,
} from './payloads/index.js';

/** Event names and payload classes that ship with this package. */
export interface BuiltInEventCatalog {
  'topic.approved': TopicApprovedPayload;
  'topic.rejected': TopicRejectedPayload;
  'script.approved': ScriptApprovedPayload;
  'script.hook_flagged': ScriptHookFlaggedPayload;
  'voice.generated': VoiceGeneratedPayload;
  'media.ready': MediaReadyPayload;
  'analytics.hook_weak': AnalyticsHookWeakPayload;
  'analytics.niche_underperforming': AnalyticsNicheUnderperformingPayload;
  'community.topic_exported': CommunityTopicExportedPayload;
  'localization.completed': LocalizationCompletedPayload;
}

/**
 * Map from event name to payload class, used to type publishers and handlers.
 *
 * Applications add their own events by declaration merging:
 *
 * ```ts
 * declare module '@ai-pipeline/events' {
 *   interface EventCatalog {
 *     'thumbnail.ready': ThumbnailReadyPayload;
 *   }
 * }
 * ```
 *
 * A merged event also needs a runtime definition in the `EventRegistry` so that its
 * payload can be validated.
 */
// The body is empty on purpose: merged declarations add the members.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- declaration merging needs an interface
export interface EventCatalog extends BuiltInEventCatalog {}

/** Name of any event in the catalog, including merged ones. */
export type EventType = Extract<keyof EventCatalog, string>;

/** Name of an event that ships with this package. */
export type BuiltInEventType = Extract<keyof BuiltInEventCatalog, string>;

/** Payload class instance type of event `T`. */
export type EventPayload<T extends EventType> = EventCatalog[T];

/** Payload class with a constructor that takes no arguments, because class-transformer calls `new payloadClass()`. */
export type PayloadClass<P extends object = object> = new () => P;

type Primitive = string | number | boolean | bigint | symbol | null | undefined;

/**
 * Plain-object form of a payload class: its data properties with nested classes
 * and arrays mapped the same way, and methods removed. Arrays are accepted as
 * read-only, so both mutable and read-only arrays type-check.
 */
export type PayloadInput<P> = P extends Primitive
  ? P
  : P extends Date
    ? Date
    : P extends readonly (infer Item)[]
      ? readonly PayloadInput<Item>[]
      : {
          [K in keyof P as P[K] extends (...args: never[]) => unknown ? never : K]: PayloadInput<P[K]>;
        };

/** Object literal that a publisher may pass for event `T` instead of a class instance. */
export type EventPayloadInput<T extends EventType> = PayloadInput<EventPayload<T>>;
