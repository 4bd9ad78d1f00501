import { Controller, Module, UsePipes, ValidationPipe, type ExecutionContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload, type MicroserviceOptions } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import { EventPublisher, RedisStreamsTransport, TopicApprovedPayload } from '../../lib/index.js';
import { SPEC_TOPIC_APPROVED } from '../catalog/payload-fixtures.js';
import { captureLogs } from '../support/capture-logs.js';
import { inspectorClient } from '../support/stream-helpers.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';

const received: unknown[] = [];

@Controller()
class ScriptController {
  @UsePipes(new ValidationPipe({ whitelist: true, transform: true }))
  @EventPattern('topic.approved')
  onTopicApproved(@Payload() topic: TopicApprovedPayload): void {
    received.push(topic);
  }
}

@Module({ controllers: [ScriptController] })
class ScriptModule {}

describe('Nest payload validation', () => {
  let stream: string;
  let redis: Redis;
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(() => {
    redis = inspectorClient();
  });

  afterAll(async () => {
    await redis.quit();
  });

  beforeEach(() => {
    logs = captureLogs();
    stream = uniqueKey('nest-validation');
    received.length = 0;
  });

  afterEach(async () => {
    await redis.del(stream, `${stream}:dead-letter`);
    logs.restore();
  });

  it('hands @Payload() a validated instance that ValidationPipe accepts', async () => {
    const strategy = new RedisStreamsTransport({ group: `${stream}:g`, consumer: 'c1', stream, blockMs: 100 });
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(ScriptModule, { strategy });
    await app.listen();
    const publisher = new EventPublisher('topic-engine', { stream });
    try {
      await publisher.publish('topic.approved', SPEC_TOPIC_APPROVED);
      await redis.xadd(
        stream,
        '*',
        'type',
        'topic.approved',
        'id',
        'bad-1',
        'source',
        'raw',
        'occurredAt',
        new Date().toISOString(),
        'payload',
        '{"topicId":""}',
      );

      await waitFor(async () => (await redis.exists(`${stream}:dead-letter`)) === 1, { message: 'the invalid event dead-lettered' });
      await waitFor(() => received.length === 1, { message: 'the valid event' });
      expect(received[0]).toBeInstanceOf(TopicApprovedPayload);
      expect(received[0]).toEqual({ ...SPEC_TOPIC_APPROVED });
      // The log line follows the dead-letter write, so it may arrive a moment after the stream exists.
      await waitFor(() => logs.text().includes('(invalid-payload)'), { message: 'the dead letter to be logged' });
    } finally {
      await publisher.close();
      await app.close();
    }
  });

  it('refuses to listen for a type outside the catalog', async () => {
    @Controller()
    class UnknownController {
      @EventPattern('topic.archived')
      onArchived(_payload: unknown): void {}
    }
    @Module({ controllers: [UnknownController] })
    class UnknownModule {}

    const strategy = new RedisStreamsTransport({ group: `${stream}:g`, consumer: 'c1', stream });
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(UnknownModule, { strategy });
    try {
      await expect(app.listen()).rejects.toThrow('Unknown event type "topic.archived"');
    } finally {
      await app.close();
    }
  });
});

describe('hybrid app configuration', () => {
  it('applies global guards to event handlers with inheritAppConfig', async () => {
    const stream = uniqueKey('hybrid-guards');
    const guarded: string[] = [];
    const guard = {
      canActivate(context: ExecutionContext): boolean {
        guarded.push(context.getType());
        return true;
      },
    };
    const app = await NestFactory.create(ScriptModule);
    app.useGlobalGuards(guard);
    app.connectMicroservice<MicroserviceOptions>(
      { strategy: new RedisStreamsTransport({ group: `${stream}:g`, consumer: 'c1', stream, blockMs: 100 }) },
      { inheritAppConfig: true },
    );
    await app.startAllMicroservices();
    await app.init();
    const publisher = new EventPublisher('topic-engine', { stream });
    const redis = inspectorClient();
    try {
      received.length = 0;
      await publisher.publish('topic.approved', SPEC_TOPIC_APPROVED);
      await waitFor(() => received.length === 1, { message: 'the guarded handler to run' });
      expect(guarded).toEqual(['rpc']);
    } finally {
      await publisher.close();
      await app.close();
      await redis.del(stream);
      await redis.quit();
    }
  });
});
