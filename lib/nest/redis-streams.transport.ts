import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import { StreamConsumer, type ConsumerState, type ConsumerStats, type Delivery, type DispatchOutcome } from '../consumer/index.js';
import type { EventEnvelope } from '../envelope/index.js';
import { errorMessage } from '../logging/index.js';
import { resolveConsumerOptions, resolveRetryPolicy, type ConsumerOptions, type RetryPolicy } from '../options/index.js';
import type { EventSchemas } from '../catalog/index.js';
import { isNestPlaceholderError } from './event-errors.filter.js';
import { RedisStreamsContext } from './redis-streams.context.js';

/** Options of `RedisStreamsTransport`: the group, the consumer, and the consumer options. */
export interface RedisStreamsTransportOptions extends ConsumerOptions {
  /** Consumer group, one per service. */
  group: string;
  /** Consumer name, unique per running replica. */
  consumer: string;
}

/**
 * A Nest custom transport that serves `@EventPattern()` handlers from a Redis Streams consumer
 * group. It adapts the same read loop that `EventConsumer` uses; only the dispatch differs.
 */
export class RedisStreamsTransport
  extends Server<Record<string, (...args: never[]) => unknown>, ConsumerState>
  implements CustomTransportStrategy
{
  /**
   * Nest hands a failing event handler's error to the transport instead of only logging it;
   * the transport awaits the outcome and leaves the event pending.
   */
  override readonly propagatesEventHandlerErrors = true;
  protected override readonly logger = new Logger(RedisStreamsTransport.name);
  private readonly engine: StreamConsumer;
  private placeholderHintLogged = false;
  private readonly schemas: EventSchemas;

  constructor(options: RedisStreamsTransportOptions) {
    super();
    const resolved = resolveConsumerOptions(options?.group, options?.consumer, options);
    this.schemas = resolved.schemas;
    this.engine = new StreamConsumer(
      resolved,
      {
        dispatch: (envelope, delivery) => this.dispatch(envelope, delivery),
        retryPolicyFor: (type) => this.retryPolicyFor(type),
        handles: (type) => this.getHandlerByPattern(type) !== null,
      },
      this.logger,
    );
  }

  /** Starts reading once Nest has registered the handlers; called by Nest. */
  listen(callback: (error?: unknown) => void): void {
    for (const pattern of this.getHandlers().keys()) {
      try {
        this.schemas.assertKnownType(pattern);
        resolveRetryPolicy(`retry of the "${pattern}" handler`, this.retryPolicyFor(pattern));
      } catch (error) {
        this.logger.error(errorMessage(error));
        callback(error);
        return;
      }
      this.logger.log(`Handling "${pattern}"`);
    }
    this._status$.next('starting');
    this.engine.start().then(
      () => {
        this._status$.next('running');
        callback();
      },
      (error: unknown) => {
        this.logger.error(errorMessage(error));
        callback(error);
      },
    );
  }

  /** Stops reading and waits for running handlers; called by Nest on application close. */
  async close(): Promise<void> {
    this._status$.next('stopping');
    await this.engine.stop();
    this._status$.next('stopped');
  }

  /** Not supported: state changes are exposed through the `status` Observable instead. */
  on(): never {
    throw new Error('RedisStreamsTransport does not emit events; subscribe to its `status` Observable instead.');
  }

  /** Returns the underlying consumer engine. */
  unwrap<T>(): T {
    return this.engine as T;
  }

  /** Counters of handled, failed, retried, dead-lettered and claimed events since start. */
  stats(): ConsumerStats {
    return this.engine.stats();
  }

  /** Reads `@EventPattern('type', { retry: { maxAttempts: 10 } })` extras; the most attempts win. */
  private retryPolicyFor(type: string): RetryPolicy | undefined {
    let chosen: RetryPolicy | undefined;
    for (let handler = this.getHandlerByPattern(type); handler; handler = handler.next ?? null) {
      const retry = (handler.extras as { retry?: RetryPolicy } | undefined)?.retry;
      if (retry && (chosen === undefined || (retry.maxAttempts ?? 0) > (chosen.maxAttempts ?? 0))) {
        chosen = retry;
      }
    }
    return chosen;
  }

  private async dispatch(envelope: EventEnvelope, delivery: Delivery): Promise<DispatchOutcome> {
    const handler = this.getHandlerByPattern(envelope.type);
    if (!handler) {
      return 'no-handler';
    }
    const context = new RedisStreamsContext([envelope, delivery]);
    // A handler's result may be a value, a promise, or an Observable; Nest turns a throw into an
    // Observable that errors, and interceptors make it cold, so it runs only once subscribed here.
    try {
      const result: unknown = await handler(envelope.payload, context);
      if (isObservable(result)) {
        await lastValueFrom(result, { defaultValue: undefined });
      }
    } catch (error) {
      if (isNestPlaceholderError(error) && !this.placeholderHintLogged) {
        this.placeholderHintLogged = true;
        this.logger.warn(
          `Nest's default exception filter replaced the error of a "${envelope.type}" handler with "Internal server error"; bind EventErrorsFilter to keep the original error for logs, dead letters and NonRetryableEventError`,
        );
      }
      throw error;
    }
    return 'handled';
  }
}
