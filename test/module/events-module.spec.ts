import { Controller, Injectable, Module, type ModuleMetadata } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload, type MicroserviceOptions } from '@nestjs/microservices';
import { hostname } from 'node:os';
import {
  EVENTS_MODULE_OPTIONS,
  EventPublisher,
  EventsModule,
  InvalidOptionError,
  RedisStreamsClient,
  RedisStreamsTransport,
} from '../../lib/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { inspectorClient } from '../support/stream-helpers.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';
import type { AdHocEvents } from '../support/ad-hoc-events.js';

@Injectable()
class Inbox {
  readonly topics: unknown[] = [];
}

@Controller()
class ScriptController {
  constructor(private readonly inbox: Inbox) {}

  @EventPattern('topic.accepted')
  onTopic(@Payload() payload: unknown): void {
    this.inbox.topics.push(payload);
  }
}

describe('EventsModule', () => {
  let stream: string;
  let logs: ReturnType<typeof captureLogs>;

  beforeEach(() => {
    logs = captureLogs();
    stream = uniqueKey('module');
  });

  afterEach(async () => {
    logs.restore();
    const redis = inspectorClient();
    await redis.del(stream);
    await redis.quit();
  });

  async function roundTrip(imports: ModuleMetadata['imports']) {
    @Module({ imports, controllers: [ScriptController], providers: [Inbox] })
    class AppModule {}

    const app = await NestFactory.create(AppModule);
    try {
      const transport = app.get(RedisStreamsTransport);
      app.connectMicroservice<MicroserviceOptions>({ strategy: transport });
      await app.startAllMicroservices();
      await app.init();
      const publisher = app.get<EventPublisher<AdHocEvents>>(EventPublisher);
      await publisher.publish('topic.accepted', { topicId: 't-1' });
      await waitFor(() => app.get(Inbox).topics.length === 1, { message: 'the handler to receive the event' });
      return { publisher, transport, client: app.get(RedisStreamsClient), options: app.get(EVENTS_MODULE_OPTIONS) };
    } finally {
      await app.close();
    }
  }

  it('wires publisher, client and transport with forRoot', async () => {
    const { publisher, client } = await roundTrip([
      EventsModule.forRoot({ strict: false, service: 'script-engine', stream, blockMs: 200 }),
    ]);
    expect(publisher.source).toBe('script-engine');
    expect(publisher.stream).toBe(stream);
    expect(client.unwrap<EventPublisher<AdHocEvents>>()).toBe(publisher);
    expect(logs.text()).toContain(`Consumer "script-engine-${hostname()}-${process.pid}" of group "script-engine-group"`);
  });

  it('reads options from ConfigService with forRootAsync', async () => {
    const { options } = await roundTrip([
      ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ EVENTS_STREAM: stream, EVENTS_GROUP: `${stream}:custom` })] }),
      EventsModule.forRootAsync({
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          service: 'voice-engine',
          strict: false,
          stream: config.getOrThrow<string>('EVENTS_STREAM'),
          group: config.getOrThrow<string>('EVENTS_GROUP'),
          consumer: 'voice-1',
          blockMs: 200,
        }),
      }),
    ]);
    expect(options.group).toBe(`${stream}:custom`);
    expect(logs.text()).toContain(`Consumer "voice-1" of group "${stream}:custom" reading stream "${stream}"`);
  });

  it('makes providers global with isGlobal', async () => {
    @Module({ controllers: [ScriptController], providers: [Inbox] })
    class FeatureModule {}

    @Module({ imports: [EventsModule.forRoot({ strict: false, service: 'media-engine', stream, isGlobal: true }), FeatureModule] })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule);
    try {
      expect(app.select(FeatureModule).get(EventPublisher, { strict: false }).source).toBe('media-engine');
    } finally {
      await app.close();
    }
  });

  it('fails at bootstrap when the service name is missing', async () => {
    @Module({ imports: [EventsModule.forRoot({ strict: false, service: '' })] })
    class AppModule {}

    await expect(NestFactory.createApplicationContext(AppModule, { abortOnError: false })).rejects.toThrow(InvalidOptionError);
  });
});
