import { Controller, Inject, Module, type DynamicModule } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventPublisher, RedisStreamsContext } from '../../lib/index.js';
import { EVENTS, type EventName, type ScriptApproved, type VoiceGenerated } from '../events.js';
import { HopRecorder } from '../hop-recorder.js';
import { newId } from '../ids.js';
import { eventsModuleFor, recorderProvider, SERVICE_NAMES, type ServiceConfig } from '../service-config.js';

const SERVICE = SERVICE_NAMES.voiceEngine;

/** Length used when a script carries no estimate, in seconds. */
const DEFAULT_VOICE_SECONDS = 60;

@Controller()
export class VoiceEngineController {
  constructor(
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(HopRecorder) private readonly recorder: HopRecorder,
  ) {}

  @EventPattern<EventName>(EVENTS.scriptApproved)
  async onScriptApproved(@Payload() script: ScriptApproved, @Ctx() ctx: RedisStreamsContext): Promise<void> {
    const envelope = ctx.getEnvelope();
    const voiceId = newId('voice');
    const voice: VoiceGenerated = {
      topicId: script.topicId,
      scriptId: script.scriptId,
      voiceId,
      // A placeholder address: the sample produces no audio and fetches nothing.
      audioUrl: `https://cdn.example.com/voice/${voiceId}.mp3`,
      durationSeconds: script.durationSeconds ?? DEFAULT_VOICE_SECONDS,
      language: script.language,
    };
    this.recorder.record(SERVICE, envelope, { published: EVENTS.voiceGenerated });
    await this.publisher.publish(EVENTS.voiceGenerated, voice, { causedBy: envelope });
  }
}

@Module({})
export class VoiceEngineModule {
  static register(config: ServiceConfig): DynamicModule {
    return {
      module: VoiceEngineModule,
      imports: [eventsModuleFor(SERVICE, config)],
      controllers: [VoiceEngineController],
      providers: [recorderProvider(config)],
    };
  }
}
