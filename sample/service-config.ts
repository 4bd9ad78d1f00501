import type { DynamicModule, Provider } from '@nestjs/common';
import { EventsModule, type RedisConnection } from '../lib/index.js';
import { HopRecorder } from './hop-recorder.js';

/** Names of the sample services, used as event sources and consumer group prefixes. */
export const SERVICE_NAMES = {
  topicEngine: 'topic-engine',
  scriptEngine: 'script-engine',
  voiceEngine: 'voice-engine',
  mediaEngine: 'media-engine',
  localization: 'localization',
  analytics: 'analytics',
  community: 'community',
  adminUi: 'admin-ui',
} as const;

/** Settings of every sample service module: the bus location and the recorder for hops. */
export interface ServiceConfig {
  readonly redis: RedisConnection;
  readonly stream: string;
  readonly recorder: HopRecorder;
}

/** Builds the bus module of one service. Its events carry `service` as source, and its consumer group is `<service>-group`. */
export function eventsModuleFor(service: string, config: ServiceConfig): DynamicModule {
  return EventsModule.forRoot({ service, redis: config.redis, stream: config.stream });
}

/** Provides the run's shared recorder under its class token. */
export function recorderProvider(config: ServiceConfig): Provider {
  return { provide: HopRecorder, useValue: config.recorder };
}
