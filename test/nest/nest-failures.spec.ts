import { Catch, Controller, Module, UseFilters, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, type MicroserviceOptions } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import { throwError, type Observable } from 'rxjs';
import { decodeDeadLetter, EventErrorsFilter, EventPublisher, NonRetryableEventError, RedisStreamsTransport } from '../../lib/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { inspectorClient } from '../support/stream-helpers.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';
import type { AdHocEvents } from '../support/ad-hoc-events.js';

const filterCalls: string[] = [];

@Catch()
class RecordingFilter implements RpcExceptionFilter<Error> {
  catch(exception: Error, _host: ArgumentsHost): Observable<never> {
    filterCalls.push(exception.message);
    return throwError(() => exception);
  }
}

@Controller()
@UseFilters(EventErrorsFilter)
class PreservingController {
  @EventPattern<string>('order.missing')
  onMissing(): void {
    throw new NonRetryableEventError('order 7 does not exist');
  }

  @EventPattern<string>('order.flaky', { retry: { maxAttempts: 2, initialDelayMs: 20 } })
  onFlaky(): void {
    throw new Error('flaky dependency');
  }
}

@Controller()
@UseFilters(RecordingFilter)
class FilteredController {
  @EventPattern<string>('order.filtered')
  onFiltered(): void {
    throw new Error('seen by the controller filter');
  }
}

@Controller()
class DefaultController {
  @EventPattern<string>('order.default')
  onDefault(): void {
    throw new NonRetryableEventError('lost behind the default filter');
  }
}

@Module({ controllers: [PreservingController, FilteredController, DefaultController] })
class FailuresModule {}

describe('Nest handler failures', () => {
  let stream: string;
  let redis: Redis;
  let logs: ReturnType<typeof captureLogs>;
  let publisher: EventPublisher<AdHocEvents>;
  let close: () => Promise<void>;

  beforeAll(() => {
    redis = inspectorClient();
  });

  afterAll(async () => {
    await redis.quit();
  });

  beforeEach(async () => {
    logs = captureLogs();
    stream = uniqueKey('nest-failures');
    publisher = new EventPublisher<AdHocEvents>('test', { strict: false, stream });
    const strategy = new RedisStreamsTransport({
      strict: false,
      group: `${stream}:g`,
      consumer: 'c1',
      stream,
      blockMs: 100,
      claimIntervalMs: 20,
      retry: { maxAttempts: 3, initialDelayMs: 20, jitter: 0 },
    });
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(FailuresModule, { strategy });
    await app.listen();
    close = () => app.close();
  });

  afterEach(async () => {
    await close();
    await publisher.close();
    await redis.del(stream, `${stream}:dead-letter`);
    logs.restore();
  });

  async function deadLetters() {
    const entries = (await redis.xrange(`${stream}:dead-letter`, '-', '+')) as Array<[string, string[]]>;
    return entries.map(([id, fields]) => decodeDeadLetter(id, fields));
  }

  it('keeps NonRetryableEventError with EventErrorsFilter', async () => {
    await publisher.publish('order.missing', {});
    await waitFor(async () => (await redis.exists(`${stream}:dead-letter`)) === 1, { message: 'the dead letter' });
    const [letter] = await deadLetters();
    expect(letter!.reason).toBe('non-retryable');
    expect(letter!.attempts).toBe(1);
    expect(letter!.error).toBe('order 7 does not exist');
  });

  it('reads the retry policy from @EventPattern extras', async () => {
    await publisher.publish('order.flaky', {});
    await waitFor(async () => (await redis.exists(`${stream}:dead-letter`)) === 1, { message: 'the dead letter' });
    const [letter] = await deadLetters();
    expect(letter!.attempts).toBe(2);
    expect(letter!.error).toBe('flaky dependency');
  });

  it('runs exception filters bound to the controller', async () => {
    filterCalls.length = 0;
    await publisher.publish('order.filtered', {});
    await waitFor(() => filterCalls.length >= 1, { message: 'the filter to run' });
    expect(filterCalls[0]).toBe('seen by the controller filter');
  });

  it('explains the placeholder error of the default filter', async () => {
    await publisher.publish('order.default', {});
    await waitFor(() => logs.text().includes('bind EventErrorsFilter'), { message: 'the hint' });
    await waitFor(async () => (await redis.exists(`${stream}:dead-letter`)) === 1, { message: 'the dead letter after 3 attempts' });
    const [letter] = await deadLetters();
    expect(letter!.reason).toBe('max-attempts');
    expect(letter!.error).toContain('Internal server error');
  });
});
