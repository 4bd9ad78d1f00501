import type { EventEnvelope } from '../envelope/index.js';

/** Where and how often one stream entry was delivered to this consumer. */
export interface Delivery {
  /** Stream entry id, such as `1700000000000-0`. */
  readonly entryId: string;
  /** Stream key the entry was read from. */
  readonly stream: string;
  /** Consumer group that read it. */
  readonly group: string;
  /** Consumer within the group that holds it. */
  readonly consumer: string;
  /** How many times Redis delivered this entry to the group, starting at 1. */
  readonly deliveryCount: number;
}

/** What a dispatcher did with an event. */
export type DispatchOutcome = 'handled' | 'no-handler';

/**
 * Hands one decoded event to the application's handlers. Resolving means every handler succeeded
 * and the entry may be acknowledged; rejecting leaves it pending.
 */
export type Dispatcher = (envelope: EventEnvelope, delivery: Delivery) => Promise<DispatchOutcome>;
