import type { DynamicModule, INestApplicationContext, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AsyncMicroserviceOptions } from '@nestjs/microservices';
import { RedisStreamsTransport } from '../lib/index.js';
import { SERVICE_NAMES, type ServiceConfig } from './service-config.js';
import { AdminUiModule } from './services/admin-ui.js';
import { AnalyticsModule } from './services/analytics.js';
import { CommunityModule } from './services/community.js';
import { LocalizationModule } from './services/localization.js';
import { MediaEngineModule } from './services/media-engine.js';
import { ScriptEngineModule } from './services/script-engine.js';
import { TopicEngineModule } from './services/topic-engine.js';
import { VoiceEngineModule } from './services/voice-engine.js';

/** Nest log levels of every service. The bus logs each connect and group at `log`, which would bury the hops. */
const NEST_LOG_LEVELS: LogLevel[] = ['warn', 'error'];

/** One booted service. */
export interface ServiceApp {
  readonly name: string;
  readonly app: INestApplicationContext;
}

interface ServiceDefinition {
  readonly name: string;
  readonly register: (config: ServiceConfig) => DynamicModule;
  /** Whether the service handles events. A publish-only service runs without a transport and consumer group. */
  readonly consumes: boolean;
}

const SERVICES: readonly ServiceDefinition[] = [
  { name: SERVICE_NAMES.topicEngine, register: (config) => TopicEngineModule.register(config), consumes: true },
  { name: SERVICE_NAMES.scriptEngine, register: (config) => ScriptEngineModule.register(config), consumes: true },
  { name: SERVICE_NAMES.voiceEngine, register: (config) => VoiceEngineModule.register(config), consumes: true },
  { name: SERVICE_NAMES.mediaEngine, register: (config) => MediaEngineModule.register(config), consumes: true },
  { name: SERVICE_NAMES.localization, register: (config) => LocalizationModule.register(config), consumes: true },
  { name: SERVICE_NAMES.adminUi, register: (config) => AdminUiModule.register(config), consumes: true },
  { name: SERVICE_NAMES.analytics, register: (config) => AnalyticsModule.register(config), consumes: false },
  { name: SERVICE_NAMES.community, register: (config) => CommunityModule.register(config), consumes: false },
];

/**
 * Boots every sample service as its own Nest application and resolves once each consumer group
 * exists, so no event published afterwards is missed. If one service fails to boot, the others
 * are closed before the error is rethrown.
 */
export async function bootServices(config: ServiceConfig): Promise<ServiceApp[]> {
  const results = await Promise.allSettled(SERVICES.map((service) => bootService(service, config)));
  const booted = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure !== undefined) {
    await closeServices(booted);
    throw failure.reason;
  }
  return booted;
}

/** Closes every service; a failure to close one is returned, not thrown, so the others still close. */
export async function closeServices(services: readonly ServiceApp[]): Promise<Array<{ name: string; error: unknown }>> {
  const results = await Promise.allSettled(services.map((service) => service.app.close()));
  return results.flatMap((result, index) =>
    result.status === 'rejected' ? [{ name: services[index]!.name, error: result.reason as unknown }] : [],
  );
}

async function bootService(service: ServiceDefinition, config: ServiceConfig): Promise<ServiceApp> {
  const module = service.register(config);
  // abortOnError: false makes Nest throw on a boot error instead of exiting the process.
  if (!service.consumes) {
    const app = await NestFactory.createApplicationContext(module, { logger: NEST_LOG_LEVELS, abortOnError: false });
    return { name: service.name, app };
  }

  // The factory takes the transport from the module's own providers, which EventsModule.forRoot built.
  const app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(module, {
    logger: NEST_LOG_LEVELS,
    abortOnError: false,
    inject: [RedisStreamsTransport],
    useFactory: (transport: RedisStreamsTransport) => ({ strategy: transport }),
  });
  try {
    await app.listen();
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  return { name: service.name, app };
}
