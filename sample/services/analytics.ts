import { Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { EventPublisher } from '../../lib/index.js';
import { EVENTS, type AnalyticsHookWeak, type AnalyticsNicheUnderperforming, type ScriptHookFlagged } from '../events.js';
import { eventsModuleFor, SERVICE_NAMES, type ServiceConfig } from '../service-config.js';

const SERVICE = SERVICE_NAMES.analytics;

/** Ids of a video published before this run, which the feedback events refer to. */
export const EARLIER_VIDEO = { topicId: 'topic-earlier-1', scriptId: 'script-earlier-1', mediaId: 'media-earlier-1' } as const;

/** Niche that the sample reports as underperforming. */
export const WEAK_NICHE = 'crypto';

/**
 * Publishing side of Analytics. The service handles no events, so it runs without a consumer
 * group. Each report starts its own correlation chain because no event caused it.
 */
@Injectable()
export class AnalyticsReporter {
  constructor(@Inject(EventPublisher) private readonly publisher: EventPublisher) {}

  /** Publishes the measurements of an earlier video: a weak hook, the flag on its script, and a weak niche. */
  async reportEarlierVideo(): Promise<void> {
    const hookWeak: AnalyticsHookWeak = { ...EARLIER_VIDEO, retentionRate: 0.38, threshold: 0.5, hookWindowSeconds: 5 };
    const hookFlagged: ScriptHookFlagged = {
      scriptId: EARLIER_VIDEO.scriptId,
      topicId: EARLIER_VIDEO.topicId,
      reason: 'Most viewers leave before the question in the hook is asked.',
      suggestions: ['Open with the question', 'Show the result in the first 2 seconds'],
    };
    const nicheUnderperforming: AnalyticsNicheUnderperforming = {
      niche: WEAK_NICHE,
      windowStart: '2025-01-01T00:00:00Z',
      windowEnd: '2025-01-31T23:59:59Z',
      observed: { videoCount: 12, averageViews: 1_800, averageRetentionRate: 0.31, averageCPM: 6.2 },
      baseline: { videoCount: 140, averageViews: 5_200, averageRetentionRate: 0.44, averageCPM: 9.8 },
    };

    await this.publisher.publish(EVENTS.analyticsHookWeak, hookWeak);
    await this.publisher.publish(EVENTS.scriptHookFlagged, hookFlagged);
    await this.publisher.publish(EVENTS.analyticsNicheUnderperforming, nicheUnderperforming);
  }
}

@Module({})
export class AnalyticsModule {
  static register(config: ServiceConfig): DynamicModule {
    return {
      module: AnalyticsModule,
      imports: [eventsModuleFor(SERVICE, config)],
      providers: [AnalyticsReporter],
    };
  }
}
