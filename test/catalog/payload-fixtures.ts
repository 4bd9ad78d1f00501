import type { BuiltInEventType, EventPayloadInput } from '../../lib/catalog/index.js';

/** The `topic.approved` payload from the product specification, unchanged. */
export const SPEC_TOPIC_APPROVED = {
  topicId: '123',
  title: 'How to Invest in ETFs',
  channelType: 'INTELLECTUAL',
  niche: 'finance',
  targetMarkets: ['US', 'DE', 'AU'],
  estimatedCPM: 32,
  hookIdeas: ['Fear of missing out', 'I lost $50k doing this'],
};

type ValidPayloads = { [K in BuiltInEventType]: EventPayloadInput<K> };

/** Returns a new valid payload for every built-in event, safe for a test to modify. */
export function validPayloads(): ValidPayloads {
  return {
    'topic.approved': structuredClone(SPEC_TOPIC_APPROVED),
    'topic.rejected': {
      topicId: '124',
      reason: 'Covered by another channel last week',
      rejectedBy: 'editor-7',
    },
    'script.approved': {
      topicId: '123',
      scriptId: 'scr-1',
      channelType: 'INTELLECTUAL',
      language: 'en-US',
      durationSeconds: 480,
    },
    'script.hook_flagged': {
      scriptId: 'scr-1',
      topicId: '123',
      reason: 'Hook retention is below the channel average',
      suggestions: ['Open with the $50k loss', 'Ask a question in the first line'],
    },
    'voice.generated': {
      topicId: '123',
      scriptId: 'scr-1',
      voiceId: 'voc-1',
      audioUrl: 'http://minio:9000/voice/voc-1.mp3',
      durationSeconds: 472.5,
      language: 'en-US',
    },
    'media.ready': {
      topicId: '123',
      scriptId: 'scr-1',
      mediaId: 'med-1',
      videoUrl: 'https://cdn.example.com/media/med-1.mp4',
      durationSeconds: 475,
      voiceId: 'voc-1',
    },
    'analytics.hook_weak': {
      scriptId: 'scr-1',
      topicId: '123',
      mediaId: 'med-1',
      retentionRate: 0.41,
      threshold: 0.6,
      hookWindowSeconds: 5,
    },
    'analytics.niche_underperforming': {
      niche: 'finance',
      windowStart: '2025-01-01T00:00:00Z',
      windowEnd: '2025-01-31T23:59:59Z',
      observed: { videoCount: 12, averageViews: 1800, averageRetentionRate: 0.32, averageCPM: 9.5 },
      baseline: { videoCount: 140, averageViews: 5200, averageRetentionRate: 0.45, averageCPM: 14 },
    },
    'community.topic_exported': {
      suggestionId: 'sug-9',
      title: 'Index funds explained with pizza',
      niche: 'finance',
      description: 'Slices of a pizza as shares of an index fund.',
      channelType: 'INTELLECTUAL',
      targetMarkets: ['US', 'GB'],
      hookIdeas: ['What a pizza teaches about investing'],
      submittedBy: 'member-42',
      votes: 87,
    },
    'localization.completed': {
      topicId: '123',
      mediaId: 'med-1',
      stage: 1,
      localizations: [
        {
          market: 'DE',
          language: 'de-DE',
          videoUrl: 'https://cdn.example.com/media/med-1.de.mp4',
          subtitlesUrl: 'https://cdn.example.com/media/med-1.de.vtt',
        },
        { market: 'AU', language: 'en-AU', videoUrl: 'https://cdn.example.com/media/med-1.au.mp4' },
      ],
    },
  };
}
