import type { EventEnvelope } from '../envelope/index.js';

/** Delivery details of one stream entry: its stream, group, consumer and delivery count. */
export interface Delivery {
  /** Stream entry id, such as `1700000000000-0`. */
  readonly entryId: string;
  /** Stream key the entry was read from. */
  readonly stream: string;
  /** Consumer group that read it. */
  readonly group: string;
  /** Consumer within the group that the entry is delivered to. */
  readonly consumer: string;
  /** How many times Redis delivered this entry to the group, starting at 1. */
  readonly deliveryCount: number;
}

/** Result of dispatching an event. */
export type DispatchOutcome = 'handled' | 'no-handler';

/**
 * Hands one decoded event to the application's handlers. Resolving means every handler succeeded
 * and the entry may be acknowledged; rejecting leaves it pending.
 */
export type Dispatcher = (envelope: EventEnvelope, delivery: Delivery) => Promise<DispatchOutcome>;
