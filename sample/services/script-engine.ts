import { Controller, Inject, Module, type DynamicModule } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventPublisher, RedisStreamsContext } from '../../lib/index.js';
import {
  EVENTS,
  type EventName,
  type AnalyticsHookWeak,
  type ScriptApproved,
  type ScriptHookFlagged,
  type TopicApproved,
} from '../events.js';
import { HopRecorder } from '../hop-recorder.js';
import { newId } from '../ids.js';
import { eventsModuleFor, recorderProvider, SERVICE_NAMES, type ServiceConfig } from '../service-config.js';

const SERVICE = SERVICE_NAMES.scriptEngine;

/** Spoken length the sample assumes for every script, in seconds. */
const SCRIPT_SECONDS = 62;

@Controller()
export class ScriptEngineController {
  constructor(
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(HopRecorder) private readonly recorder: HopRecorder,
  ) {}

  @EventPattern<EventName>(EVENTS.topicApproved)
  async onTopicApproved(@Payload() topic: TopicApproved, @Ctx() ctx: RedisStreamsContext): Promise<void> {
    const envelope = ctx.getEnvelope();
    const script: ScriptApproved = {
      topicId: topic.topicId,
      scriptId: newId('script'),
      channelType: topic.channelType,
      language: 'en',
      durationSeconds: SCRIPT_SECONDS,
    };
    this.recorder.record(SERVICE, envelope, { published: EVENTS.scriptApproved });
    await this.publisher.publish(EVENTS.scriptApproved, script, { causedBy: envelope });
  }

  @EventPattern<EventName>(EVENTS.analyticsHookWeak)
  onHookWeak(@Payload() report: AnalyticsHookWeak, @Ctx() ctx: RedisStreamsContext): void {
    const note = `revise hook (retention ${percent(report.retentionRate)} < ${percent(report.threshold)})`;
    this.recorder.record(SERVICE, ctx.getEnvelope(), { note });
  }

  @EventPattern<EventName>(EVENTS.scriptHookFlagged)
  onHookFlagged(@Payload() flag: ScriptHookFlagged, @Ctx() ctx: RedisStreamsContext): void {
    const note = `revise hook (${flag.suggestions.length} suggestions)`;
    this.recorder.record(SERVICE, ctx.getEnvelope(), { note });
  }
}

@Module({})
export class ScriptEngineModule {
  static register(config: ServiceConfig): DynamicModule {
    return {
      module: ScriptEngineModule,
      imports: [eventsModuleFor(SERVICE, config)],
      controllers: [ScriptEngineController],
      providers: [recorderProvider(config)],
    };
  }
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
