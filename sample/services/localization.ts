import { Controller, Inject, Module, type DynamicModule } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventPublisher, RedisStreamsContext } from '../../lib/index.js';
import { EVENTS, type EventName, type LocalizationCompleted, type LocalizedVideo, type MediaReady, type TopicApproved } from '../events.js';
import { HopRecorder } from '../hop-recorder.js';
import { eventsModuleFor, recorderProvider, SERVICE_NAMES, type ServiceConfig } from '../service-config.js';

const SERVICE = SERVICE_NAMES.localization;

/** BCP 47 language tag per market. Markets missing here get `und`, the tag for an undetermined language. */
const LANGUAGE_BY_MARKET: Readonly<Record<string, string>> = {
  US: 'en-US',
  GB: 'en-GB',
  DE: 'de-DE',
  FR: 'fr-FR',
  ES: 'es-ES',
  BR: 'pt-BR',
  JP: 'ja-JP',
};

@Controller()
export class LocalizationController {
  /** Target markets by topic id, stored from `topic.approved` because `media.ready` does not carry them. */
  private readonly marketsByTopic = new Map<string, readonly string[]>();

  constructor(
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(HopRecorder) private readonly recorder: HopRecorder,
  ) {}

  @EventPattern<EventName>(EVENTS.topicApproved)
  onTopicApproved(@Payload() topic: TopicApproved, @Ctx() ctx: RedisStreamsContext): void {
    this.marketsByTopic.set(topic.topicId, topic.targetMarkets);
    this.recorder.record(SERVICE, ctx.getEnvelope(), { note: `markets ${topic.targetMarkets.join(', ')} stored` });
  }

  @EventPattern<EventName>(EVENTS.mediaReady)
  async onMediaReady(@Payload() media: MediaReady, @Ctx() ctx: RedisStreamsContext): Promise<void> {
    const envelope = ctx.getEnvelope();
    const markets = this.marketsByTopic.get(media.topicId);
    if (markets === undefined) {
      // Throwing leaves the event pending, so it is delivered again after a restart.
      throw new Error(
        `No target markets stored for topic ${media.topicId} (media ${media.mediaId}): this process did not handle its topic.approved`,
      );
    }

    const completed: LocalizationCompleted = {
      topicId: media.topicId,
      mediaId: media.mediaId,
      stage: 1,
      localizations: markets.map((market) => localize(media, market)),
    };
    this.recorder.record(SERVICE, envelope, { published: EVENTS.localizationCompleted });
    await this.publisher.publish(EVENTS.localizationCompleted, completed, { causedBy: envelope });
    this.marketsByTopic.delete(media.topicId);
  }
}

@Module({})
export class LocalizationModule {
  static register(config: ServiceConfig): DynamicModule {
    return {
      module: LocalizationModule,
      imports: [eventsModuleFor(SERVICE, config)],
      controllers: [LocalizationController],
      providers: [recorderProvider(config)],
    };
  }
}

function localize(media: MediaReady, market: string): LocalizedVideo {
  const base = `https://cdn.example.com/media/${media.mediaId}/${market.toLowerCase()}`;
  return {
    market,
    language: LANGUAGE_BY_MARKET[market] ?? 'und',
    videoUrl: `${base}.mp4`,
    subtitlesUrl: `${base}.vtt`,
  };
}
