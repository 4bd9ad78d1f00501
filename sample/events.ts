/**
 * Event names and payload shapes that the sample services exchange. The fields follow the
 * package's event catalog; the sample declares them itself so it depends only on the public API.
 */

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

export interface TopicApproved {
  topicId: string;
  title: string;
  /** Upper snake case, such as `INTELLECTUAL`. */
  channelType: string;
  niche: string;
  /** Upper-case ISO 3166-1 alpha-2 codes. */
  targetMarkets: string[];
  /** Estimated US dollars per 1,000 ad impressions. */
  estimatedCPM: number;
  hookIdeas: string[];
}

export interface TopicRejected {
  topicId: string;
  reason: string;
  rejectedBy?: string;
}

export interface ScriptApproved {
  topicId: string;
  scriptId: string;
  channelType: string;
  /** BCP 47 tag, such as `en`. */
  language: string;
  durationSeconds?: number;
}

export interface ScriptHookFlagged {
  scriptId: string;
  topicId: string;
  reason: string;
  suggestions: string[];
}

export interface VoiceGenerated {
  topicId: string;
  scriptId: string;
  voiceId: string;
  audioUrl: string;
  durationSeconds: number;
  language: string;
}

export interface MediaReady {
  topicId: string;
  scriptId: string;
  mediaId: string;
  videoUrl: string;
  durationSeconds: number;
  voiceId: string;
}

export interface AnalyticsHookWeak {
  scriptId: string;
  topicId: string;
  mediaId?: string;
  /** Share of viewers still watching at the end of the hook window, from 0 to 1. */
  retentionRate: number;
  threshold: number;
  hookWindowSeconds: number;
}

export interface NicheMetrics {
  videoCount: number;
  averageViews: number;
  averageRetentionRate: number;
  averageCPM: number;
}

export interface AnalyticsNicheUnderperforming {
  niche: string;
  /** ISO 8601 date-time. */
  windowStart: string;
  windowEnd: string;
  observed: NicheMetrics;
  baseline: NicheMetrics;
}

export interface CommunityTopicExported {
  suggestionId: string;
  title: string;
  niche: string;
  submittedBy: string;
  votes: number;
}

export interface LocalizedVideo {
  market: string;
  language: string;
  videoUrl: string;
  subtitlesUrl?: string;
}

export interface LocalizationCompleted {
  topicId: string;
  mediaId: string;
  /** Localization stage that finished, starting at 1. */
  stage: number;
  localizations: LocalizedVideo[];
}
