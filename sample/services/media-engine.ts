import { Controller, Inject, Logger, Module, type DynamicModule } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventPublisher, RedisStreamsContext } from '../../lib/index.js';
import { EVENTS, type EventName, type MediaReady, type ScriptApproved, type VoiceGenerated } from '../events.js';
import { HopRecorder } from '../hop-recorder.js';
import { newId } from '../ids.js';
import { eventsModuleFor, recorderProvider, SERVICE_NAMES, type ServiceConfig } from '../service-config.js';

const SERVICE = SERVICE_NAMES.mediaEngine;

/** A video whose visuals are rendering while the voice-over is still being generated. */
interface RenderJob {
  readonly topicId: string;
  readonly scriptId: string;
  readonly mediaId: string;
}

@Controller()
export class MediaEngineController {
  private readonly logger = new Logger(MediaEngineController.name);
  /** Render jobs by script id, from `script.approved` until the voice-over arrives. */
  private readonly jobs = new Map<string, RenderJob>();

  constructor(
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(HopRecorder) private readonly recorder: HopRecorder,
  ) {}

  /** Starts the visuals in parallel with the Voice Engine, which handles the same event. */
  @EventPattern<EventName>(EVENTS.scriptApproved)
  onScriptApproved(@Payload() script: ScriptApproved, @Ctx() ctx: RedisStreamsContext): void {
    this.jobs.set(script.scriptId, { topicId: script.topicId, scriptId: script.scriptId, mediaId: newId('media') });
    this.recorder.record(SERVICE, ctx.getEnvelope(), { note: 'render started, waiting for voice' });
  }

  /** Finishes the video once its voice-over exists. */
  @EventPattern<EventName>(EVENTS.voiceGenerated)
  async onVoiceGenerated(@Payload() voice: VoiceGenerated, @Ctx() ctx: RedisStreamsContext): Promise<void> {
    const envelope = ctx.getEnvelope();
    // This group reads entries in stream order, one at a time (concurrency 1), so the
    // script.approved that caused this voice-over was handled first. The job is missing only
    // when this process restarted in between and lost its memory, so the render starts now.
    let job = this.jobs.get(voice.scriptId);
    if (job === undefined) {
      this.logger.warn(`No render job for script ${voice.scriptId} (event ${envelope.id}); starting the render from the voice-over alone`);
      job = { topicId: voice.topicId, scriptId: voice.scriptId, mediaId: newId('media') };
    }

    const media: MediaReady = {
      topicId: job.topicId,
      scriptId: job.scriptId,
      mediaId: job.mediaId,
      // A placeholder address: the sample renders nothing and fetches nothing.
      videoUrl: `https://cdn.example.com/media/${job.mediaId}.mp4`,
      durationSeconds: voice.durationSeconds,
      voiceId: voice.voiceId,
    };
    this.recorder.record(SERVICE, envelope, { published: EVENTS.mediaReady });
    await this.publisher.publish(EVENTS.mediaReady, media, { causedBy: envelope });
    this.jobs.delete(voice.scriptId);
  }
}

@Module({})
export class MediaEngineModule {
  static register(config: ServiceConfig): DynamicModule {
    return {
      module: MediaEngineModule,
      imports: [eventsModuleFor(SERVICE, config)],
      controllers: [MediaEngineController],
      providers: [recorderProvider(config)],
    };
  }
}
