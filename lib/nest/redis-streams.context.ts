import { BaseRpcContext } from '@nestjs/microservices';
import type { Delivery } from '../consumer/index.js';
import type { EventEnvelope } from '../envelope/index.js';

type RedisStreamsContextArgs = [envelope: EventEnvelope, delivery: Delivery];

/** Context that a `@Ctx()` parameter receives in a handler served by `RedisStreamsTransport`. */
export class RedisStreamsContext extends BaseRpcContext<RedisStreamsContextArgs> {
  /** Returns the whole event: payload, id, type, source, time, correlation and causation ids. */
  getEnvelope(): EventEnvelope {
    return this.args[0];
  }

  /** Returns the stream entry id, such as `1700000000000-0`. */
  getEntryId(): string {
    return this.args[1].entryId;
  }

  /** Returns the stream key. */
  getStream(): string {
    return this.args[1].stream;
  }

  /** Returns the consumer group that received the event. */
  getGroup(): string {
    return this.args[1].group;
  }

  /** Returns the consumer within the group that is handling the event. */
  getConsumer(): string {
    return this.args[1].consumer;
  }

  /** Returns how many times Redis delivered this event to the group, starting at 1. */
  getDeliveryCount(): number {
    return this.args[1].deliveryCount;
  }
}
