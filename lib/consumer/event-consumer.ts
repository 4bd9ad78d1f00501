import { Logger } from '@nestjs/common';
import { EventsError } from '../errors/index.js';
import { resolveConsumerOptions, resolveRetryPolicy, type ConsumerOptions, type RetryPolicy } from '../options/index.js';
import type { ConsumerStats } from './consumer-stats.js';
import type { EventCatalog, EventSchemas } from '../catalog/index.js';
import { validateName } from '../options/validate.js';
import { HandlerRegistry, type EventHandler } from './handler-registry.js';
import { StreamConsumer, type ConsumerState } from './stream-consumer.js';

/** Options of one handler registration. */
export interface HandlerOptions {
  /** Retry policy for this handler's event type, merged over the consumer's policies. */
  retry?: RetryPolicy;
}

/**
 * Reads the stream as one consumer of a consumer group and runs the handlers registered with
 * `on()`. Every group receives every event; consumers of one group share its events.
 */
export class EventConsumer<TCatalog extends object = EventCatalog> {
  private readonly logger = new Logger(EventConsumer.name);
  private readonly registry = new HandlerRegistry();
  private readonly engine: StreamConsumer;
  private readonly schemas: EventSchemas;

  /**
   * @param group consumer group, one per service, such as `script-engine-group`
   * @param consumer consumer name, unique per running replica, such as `script-engine-1`
   * @param options where Redis is, the stream key and read tuning; see `ConsumerOptions`
   */
  constructor(group: string, consumer: string, options: ConsumerOptions = {}) {
    const resolved = resolveConsumerOptions(group, consumer, options);
    this.schemas = resolved.schemas;
    this.engine = new StreamConsumer(
      resolved,
      {
        dispatch: (envelope, delivery) => this.registry.dispatch(envelope, delivery),
        retryPolicyFor: (type) => this.registry.retryPolicyFor(type),
        handles: (type) => this.registry.has(type),
      },
      this.logger,
    );
  }

  /** Current lifecycle state: idle, starting, running, stopping or stopped. */
  get status(): ConsumerState {
    return this.engine.status;
  }

  /** Counters of handled, failed, retried, dead-lettered and claimed events since start. */
  stats(): ConsumerStats {
    return this.engine.stats();
  }

  /**
   * Registers a handler for one event type; several handlers of one type all run. `options.retry`
   * overrides the retry policy for the type; with several overrides, the most attempts win.
   */
  on<T extends keyof TCatalog & string>(type: T, handler: EventHandler<TCatalog[T]>, options: HandlerOptions = {}): this {
    validateName('type', type);
    this.schemas.assertKnownType(type);
    if (typeof handler !== 'function') {
      throw new EventsError(`Handler for "${type}" must be a function.`);
    }
    if (this.engine.status !== 'idle') {
      throw new EventsError(`Cannot add a handler for "${type}" after start(); register every handler before starting the consumer.`);
    }
    const retry = options.retry === undefined ? undefined : resolveRetryPolicy(`retry of the "${type}" handler`, options.retry);
    this.registry.add(type, handler as EventHandler, retry);
    return this;
  }

  /** Creates the group if needed and starts reading; resolves once reading has begun. */
  start(): Promise<void> {
    for (const type of this.registry.types()) {
      this.logger.log(`Handling "${type}"`);
    }
    return this.engine.start();
  }

  /** Stops reading, waits for running handlers, and closes the connections. */
  stop(): Promise<void> {
    return this.engine.stop();
  }
}
