import { BaseRpcContext } from '@nestjs/microservices';
import type { Delivery } from '../consumer/index.js';
import type { EventEnvelope } from '../envelope/index.js';

type RedisStreamsContextArgs = [envelope: EventEnvelope, delivery: Delivery];

/** What a `@Ctx()` parameter receives in a handler served by `RedisStreamsTransport`. */
export class RedisStreamsContext extends BaseRpcContext<RedisStreamsContextArgs> {
  /** The whole event: payload, id, type, source, time, correlation and causation ids. */
  getEnvelope(): EventEnvelope {
    return this.args[0];
  }

  /** The stream entry id, such as `1700000000000-0`. */
  getEntryId(): string {
    return this.args[1].entryId;
  }

  /** The stream key. */
  getStream(): string {
    return this.args[1].stream;
  }

  /** The consumer group that received the event. */
  getGroup(): string {
    return this.args[1].group;
  }

  /** The consumer within the group that is handling it. */
  getConsumer(): string {
    return this.args[1].consumer;
  }

  /** How many times Redis delivered this event to the group, starting at 1. */
  getDeliveryCount(): number {
    return this.args[1].deliveryCount;
  }
}
