import { EVENTS } from './events.js';
import type { ExpectedHop } from './hop-recorder.js';
import { SERVICE_NAMES as S } from './service-config.js';

/** Every hop one sample run waits for, in the order they usually happen within each chain. */
export const EXPECTED_HOPS: readonly ExpectedHop[] = [
  { chain: 'topic', service: S.scriptEngine, event: EVENTS.topicApproved, outcome: EVENTS.scriptApproved },
  { chain: 'topic', service: S.localization, event: EVENTS.topicApproved, outcome: 'store target markets' },
  { chain: 'topic', service: S.voiceEngine, event: EVENTS.scriptApproved, outcome: EVENTS.voiceGenerated },
  { chain: 'topic', service: S.mediaEngine, event: EVENTS.scriptApproved, outcome: 'start render' },
  { chain: 'topic', service: S.mediaEngine, event: EVENTS.voiceGenerated, outcome: EVENTS.mediaReady },
  { chain: 'topic', service: S.localization, event: EVENTS.mediaReady, outcome: EVENTS.localizationCompleted },
  { chain: 'topic', service: S.adminUi, event: EVENTS.localizationCompleted, outcome: 'notify editor' },
  { chain: 'feedback', service: S.scriptEngine, event: EVENTS.analyticsHookWeak, outcome: 'revise hook' },
  { chain: 'feedback', service: S.scriptEngine, event: EVENTS.scriptHookFlagged, outcome: 'revise hook' },
  { chain: 'feedback', service: S.topicEngine, event: EVENTS.analyticsNicheUnderperforming, outcome: 'deprioritize niche' },
  { chain: 'feedback', service: S.topicEngine, event: EVENTS.communityTopicExported, outcome: EVENTS.topicRejected },
  { chain: 'feedback', service: S.adminUi, event: EVENTS.topicRejected, outcome: 'list rejection' },
];
