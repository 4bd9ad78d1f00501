import {
  Controller,
  Injectable,
  Module,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload, RpcException, type MicroserviceOptions } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import { Observable, Subject, tap } from 'rxjs';
import {
  EventPublisher,
  RedisStreamsClient,
  RedisStreamsContext,
  RedisStreamsTransport,
  UnsupportedOperationError,
} from '../../lib/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { inspectorClient, pendingCount } from '../support/stream-helpers.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';
import type { AdHocEvents } from '../support/ad-hoc-events.js';

interface Received {
  handler: string;
  payload: unknown;
  entryId: string;
  group: string;
  consumer: string;
  stream: string;
  deliveryCount: number;
  eventId: string;
}

@Injectable()
class Recorder {
  readonly received: Received[] = [];
  /** Completes the Observable returned by the `late.completed` handler when the test completes it. */
  readonly lateResult = new Subject<void>();
  failures = 0;

  record(handler: string, payload: unknown, context: RedisStreamsContext): void {
    this.received.push({
      handler,
      payload,
      entryId: context.getEntryId(),
      group: context.getGroup(),
      consumer: context.getConsumer(),
      stream: context.getStream(),
      deliveryCount: context.getDeliveryCount(),
      eventId: context.getEnvelope().id,
    });
  }
}

class CountingInterceptor implements NestInterceptor {
  static calls = 0;
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(tap({ complete: () => (CountingInterceptor.calls += 1) }));
  }
}

@Controller()
class PipelineController {
  constructor(private readonly recorder: Recorder) {}

  @EventPattern<string>('topic.accepted')
  onTopicApproved(@Payload() payload: unknown, @Ctx() context: RedisStreamsContext): void {
    this.recorder.record('first', payload, context);
  }

  @EventPattern<string>('topic.accepted')
  async onTopicApprovedAgain(@Payload() payload: unknown, @Ctx() context: RedisStreamsContext): Promise<void> {
    this.recorder.record('second', payload, context);
  }

  @EventPattern<string>('topic.failing')
  onFailing(@Payload() payload: { kind: string }): Observable<never> | Promise<never> | void {
    this.recorder.failures += 1;
    if (payload.kind === 'error') {
      throw new Error('plain error from handler');
    }
    if (payload.kind === 'rpc') {
      throw new RpcException('rpc exception from handler');
    }
    if (payload.kind === 'rejection') {
      return Promise.reject(new Error('rejected promise from handler'));
    }
    return new Observable((subscriber) => {
      setImmediate(() => subscriber.error(new Error('observable failed later')));
    });
  }

  @EventPattern<string>('late.completed')
  onLate(@Payload() payload: unknown, @Ctx() context: RedisStreamsContext): Observable<void> {
    this.recorder.record('late', payload, context);
    return this.recorder.lateResult.asObservable();
  }

  @UseInterceptors(CountingInterceptor)
  @EventPattern<string>('intercepted.event')
  onIntercepted(@Payload() payload: unknown, @Ctx() context: RedisStreamsContext): string {
    this.recorder.record('intercepted', payload, context);
    return 'done';
  }
}

@Module({ controllers: [PipelineController], providers: [Recorder] })
class PipelineModule {}

describe('RedisStreamsTransport', () => {
  let stream: string;
  let group: string;
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
    stream = uniqueKey('nest');
    group = `${stream}:group`;
  });

  afterEach(async () => {
    await redis.del(stream);
    logs.restore();
  });

  async function startMicroservice() {
    // Retries wait a minute, so a failed event stays pending for the whole test.
    const strategy = new RedisStreamsTransport({
      strict: false,
      group,
      consumer: 'nest-1',
      stream,
      blockMs: 200,
      retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(PipelineModule, { strategy });
    await app.listen();
    const client = new RedisStreamsClient<AdHocEvents>({ strict: false, source: 'test-client', stream });
    return { app, client, recorder: app.get(Recorder) };
  }

  it('delivers emitted events to every @EventPattern handler with its context', async () => {
    const { app, client, recorder } = await startMicroservice();
    try {
      const payload = { topicId: '123', title: 'How to Invest in ETFs' };
      await new Promise<void>((resolve, reject) => client.emit('topic.accepted', payload).subscribe({ complete: resolve, error: reject }));

      await waitFor(() => recorder.received.length === 2, { message: 'both handlers to receive the event' });
      expect(recorder.received.map((entry) => entry.handler).sort()).toEqual(['first', 'second']);
      for (const entry of recorder.received) {
        expect(entry.payload).toEqual(payload);
        expect(entry.group).toBe(group);
        expect(entry.consumer).toBe('nest-1');
        expect(entry.stream).toBe(stream);
        expect(entry.deliveryCount).toBe(1);
        expect(entry.entryId).toMatch(/^\d+-\d+$/);
      }
      await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'the event to be acked' });
    } finally {
      await client.close();
      await app.close();
    }
  });

  it.each(['error', 'rpc', 'rejection', 'observable'])('leaves the event pending when a handler fails with %s', async (kind) => {
    const { app, client, recorder } = await startMicroservice();
    try {
      await client.unwrap<EventPublisher<AdHocEvents>>().publish('topic.failing', { kind });
      await client.unwrap<EventPublisher<AdHocEvents>>().publish('intercepted.event', { after: kind });

      await waitFor(() => recorder.received.some((entry) => entry.handler === 'intercepted'), { message: 'the later event' });
      expect(recorder.failures).toBe(1);
      await waitFor(async () => (await pendingCount(redis, stream, group)) === 1, { message: 'only the failed event to stay pending' });
      await waitFor(() => logs.text().includes('Handler failed for event'), { message: 'the failure to be logged' });
    } finally {
      await client.close();
      await app.close();
    }
  });

  it('acks an Observable result only once it completes', async () => {
    const { app, client, recorder } = await startMicroservice();
    try {
      await client.unwrap<EventPublisher<AdHocEvents>>().publish('late.completed', {});
      await waitFor(() => recorder.received.length === 1, { message: 'the handler to run' });
      expect(await pendingCount(redis, stream, group)).toBe(1);

      recorder.lateResult.complete();
      await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'the ack after completion' });
    } finally {
      await client.close();
      await app.close();
    }
  });

  it('runs handlers behind interceptors', async () => {
    const { app, client, recorder } = await startMicroservice();
    const before = CountingInterceptor.calls;
    try {
      await client.unwrap<EventPublisher<AdHocEvents>>().publish('intercepted.event', { n: 1 });
      await waitFor(() => recorder.received.length === 1, { message: 'the intercepted handler to run' });
      await waitFor(async () => (await pendingCount(redis, stream, group)) === 0, { message: 'the ack' });
      expect(CountingInterceptor.calls).toBe(before + 1);
    } finally {
      await client.close();
      await app.close();
    }
  });

  it('serves handlers in a hybrid application', async () => {
    const app = await NestFactory.create(PipelineModule, { bufferLogs: false });
    app.connectMicroservice<MicroserviceOptions>({
      strategy: new RedisStreamsTransport({ strict: false, group, consumer: 'hybrid-1', stream, blockMs: 200 }),
    });
    await app.startAllMicroservices();
    await app.init();
    const client = new RedisStreamsClient<AdHocEvents>({ strict: false, source: 'test-client', stream });
    try {
      await client.unwrap<EventPublisher<AdHocEvents>>().publish('topic.accepted', { topicId: 'h-1' });
      await waitFor(() => app.get(Recorder).received.length === 2, { message: 'the hybrid app to handle the event' });
    } finally {
      await client.close();
      await app.close();
    }
  });

  it('rejects send() at once and points to emit()', async () => {
    const client = new RedisStreamsClient<AdHocEvents>({ strict: false, source: 'test-client', stream });
    try {
      expect(() => client.send('topic.accepted', {})).toThrow(UnsupportedOperationError);
      expect(() => client.send('topic.accepted', {})).toThrow('use emit()');
    } finally {
      await client.close();
    }
  });

  it('stops when the application closes during a blocking read', async () => {
    const strategy = new RedisStreamsTransport({ strict: false, group, consumer: 'nest-1', stream, blockMs: 60_000 });
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(PipelineModule, { strategy });
    await app.listen();
    await waitFor(async () => String(await redis.client('LIST')).includes(`${group}:nest-1:reader`), { message: 'the reader to connect' });
    const states: string[] = [];
    strategy.status.subscribe((state) => states.push(state));

    await app.close();
    expect(states.at(-1)).toBe('stopped');
  });
});
