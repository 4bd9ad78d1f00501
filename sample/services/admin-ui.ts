import { Controller, Inject, Module, type DynamicModule } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { RedisStreamsContext } from '../../lib/index.js';
import { EVENTS, type EventName, type LocalizationCompleted, type TopicRejected } from '../events.js';
import { HopRecorder } from '../hop-recorder.js';
import { eventsModuleFor, recorderProvider, SERVICE_NAMES, type ServiceConfig } from '../service-config.js';

const SERVICE = SERVICE_NAMES.adminUi;

/** Stands in for the Admin UI's notification feed: it prints what an editor would see. */
@Controller()
export class AdminUiController {
  constructor(@Inject(HopRecorder) private readonly recorder: HopRecorder) {}

  @EventPattern<EventName>(EVENTS.localizationCompleted)
  onLocalizationCompleted(@Payload() completed: LocalizationCompleted, @Ctx() ctx: RedisStreamsContext): void {
    this.recorder.record(SERVICE, ctx.getEnvelope(), { note: 'editor notified' });
    this.recorder.print(
      `  Notification: ${completed.localizations.length} localized videos of ${completed.topicId} are ready for review (media ${completed.mediaId}, stage ${completed.stage})`,
    );
    for (const video of completed.localizations) {
      this.recorder.print(`    ${video.market}  ${video.language.padEnd(6)} ${video.videoUrl}`);
    }
  }

  @EventPattern<EventName>(EVENTS.topicRejected)
  onTopicRejected(@Payload() rejection: TopicRejected, @Ctx() ctx: RedisStreamsContext): void {
    this.recorder.record(SERVICE, ctx.getEnvelope(), { note: 'rejection listed for editors' });
    this.recorder.print(`  Rejected ${rejection.topicId}: ${rejection.reason}`);
  }
}

@Module({})
export class AdminUiModule {
  static register(config: ServiceConfig): DynamicModule {
    return {
      module: AdminUiModule,
      imports: [eventsModuleFor(SERVICE, config)],
      controllers: [AdminUiController],
      providers: [recorderProvider(config)],
    };
  }
}
