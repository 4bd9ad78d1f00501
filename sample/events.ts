/**
 * Event names that the sample services exchange, and short names for the catalog's payload
 * classes, which the package validates on publish and on consume.
 */
import type {
  AnalyticsHookWeakPayload,
  AnalyticsNicheUnderperformingPayload,
  CommunityTopicExportedPayload,
  LocalizationCompletedPayload,
  LocalizedVideo as CatalogLocalizedVideo,
  MediaReadyPayload,
  NicheMetrics as CatalogNicheMetrics,
  ScriptApprovedPayload,
  ScriptHookFlaggedPayload,
  TopicApprovedPayload,
  TopicRejectedPayload,
  VoiceGeneratedPayload,
} from '../lib/index.js';

export const EVENTS = {
  topicApproved: 'topic.approved',
  topicRejected: 'topic.rejected',
  scriptApproved: 'script.approved',
  scriptHookFlagged: 'script.hook_flagged',
  voiceGenerated: 'voice.generated',
  mediaReady: 'media.ready',
  analyticsHookWeak: 'analytics.hook_weak',
  analyticsNicheUnderperforming: 'analytics.niche_underperforming',
  communityTopicExported: 'community.topic_exported',
  localizationCompleted: 'localization.completed',
} as const;

/**
 * Name of a sample event. Handlers write `@EventPattern<EventName>(...)` because the default
 * overload in Nest 12 types every handler argument after the payload as `unknown`, which rejects
 * a `RedisStreamsContext` parameter. A type argument that is not an object selects the plain
 * `MethodDecorator` overload, which also checks that the pattern is a sample event.
 */
export type EventName = (typeof EVENTS)[keyof typeof EVENTS];

export type TopicApproved = TopicApprovedPayload;
export type TopicRejected = TopicRejectedPayload;
export type ScriptApproved = ScriptApprovedPayload;
export type ScriptHookFlagged = ScriptHookFlaggedPayload;
export type VoiceGenerated = VoiceGeneratedPayload;
export type MediaReady = MediaReadyPayload;
export type AnalyticsHookWeak = AnalyticsHookWeakPayload;
export type NicheMetrics = CatalogNicheMetrics;
export type AnalyticsNicheUnderperforming = AnalyticsNicheUnderperformingPayload;
export type CommunityTopicExported = CommunityTopicExportedPayload;
export type LocalizedVideo = CatalogLocalizedVideo;
export type LocalizationCompleted = LocalizationCompletedPayload;
