import { Controller, Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventPublisher, RedisStreamsContext, type PublishResult } from '../../lib/index.js';
import {
  EVENTS,
  type EventName,
  type AnalyticsNicheUnderperforming,
  type CommunityTopicExported,
  type TopicApproved,
  type TopicRejected,
} from '../events.js';
import { HopRecorder } from '../hop-recorder.js';
import { newId } from '../ids.js';
import { eventsModuleFor, recorderProvider, SERVICE_NAMES, type ServiceConfig } from '../service-config.js';

const SERVICE = SERVICE_NAMES.topicEngine;

/** Community suggestions with fewer votes are rejected instead of being planned as topics. */
const MIN_COMMUNITY_VOTES = 25;

/** Publishing side of the Topic Engine. */
@Injectable()
export class TopicPlanner {
  constructor(@Inject(EventPublisher) private readonly publisher: EventPublisher) {}

  /** Publishes an approved topic. It has no cause, so it starts a new correlation chain. */
  approve(topic: TopicApproved): Promise<PublishResult> {
    return this.publisher.publish(EVENTS.topicApproved, topic);
  }
}

@Controller()
export class TopicEngineController {
  constructor(
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(HopRecorder) private readonly recorder: HopRecorder,
  ) {}

  @EventPattern<EventName>(EVENTS.analyticsNicheUnderperforming)
  onNicheUnderperforming(@Payload() report: AnalyticsNicheUnderperforming, @Ctx() ctx: RedisStreamsContext): void {
    const { observed, baseline } = report;
    const viewsBelowBaseline = Math.round((1 - observed.averageViews / baseline.averageViews) * 100);
    this.recorder.record(SERVICE, ctx.getEnvelope(), { note: `deprioritize ${report.niche}` });
    this.recorder.print(
      `  Niche ${report.niche}: ${observed.averageViews} average views against a baseline of ${baseline.averageViews} (${viewsBelowBaseline}% below)`,
    );
  }

  @EventPattern<EventName>(EVENTS.communityTopicExported)
  async onCommunityTopic(@Payload() suggestion: CommunityTopicExported, @Ctx() ctx: RedisStreamsContext): Promise<void> {
    const envelope = ctx.getEnvelope();
    if (suggestion.votes >= MIN_COMMUNITY_VOTES) {
      this.recorder.record(SERVICE, envelope, { note: `"${suggestion.title}" queued for review` });
      return;
    }

    const rejection: TopicRejected = {
      topicId: newId('topic'),
      reason: `Community suggestion ${suggestion.suggestionId} has ${suggestion.votes} votes; at least ${MIN_COMMUNITY_VOTES} are required.`,
      rejectedBy: `${SERVICE}:min-community-votes`,
    };
    this.recorder.record(SERVICE, envelope, { published: EVENTS.topicRejected });
    await this.publisher.publish(EVENTS.topicRejected, rejection, { causedBy: envelope });
  }
}

@Module({})
export class TopicEngineModule {
  static register(config: ServiceConfig): DynamicModule {
    return {
      module: TopicEngineModule,
      imports: [eventsModuleFor(SERVICE, config)],
      controllers: [TopicEngineController],
      providers: [TopicPlanner, recorderProvider(config)],
    };
  }
}
