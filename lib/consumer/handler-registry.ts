import type { EventEnvelope } from '../envelope/index.js';
import type { ResolvedRetryPolicy } from '../options/index.js';
import type { Delivery, DispatchOutcome } from './delivery.js';

/** A function that handles one event; a rejected promise or a throw leaves the event pending. */
export type EventHandler<TPayload = unknown> = (event: EventEnvelope<TPayload>, delivery: Delivery) => unknown;

/** Thrown when some of several handlers of one event failed; `errors` contains each failure. */
export class HandlersFailedError extends AggregateError {
  constructor(errors: unknown[], eventType: string) {
    super(errors, `${errors.length} handlers of "${eventType}" failed: ${errors.map(describe).join('; ')}`);
    this.name = 'HandlersFailedError';
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Handlers by event type. Every handler of a type runs for each event, all at once. */
export class HandlerRegistry {
  private readonly handlers = new Map<string, EventHandler[]>();
  private readonly retryPolicies = new Map<string, ResolvedRetryPolicy>();

  add(type: string, handler: EventHandler, retry?: ResolvedRetryPolicy): void {
    const list = this.handlers.get(type) ?? [];
    list.push(handler);
    this.handlers.set(type, list);
    const current = this.retryPolicies.get(type);
    if (retry && (!current || retry.maxAttempts > current.maxAttempts)) {
      this.retryPolicies.set(type, retry);
    }
  }

  /** Returns the retry policy registered with a handler of this type, if any. */
  retryPolicyFor(type: string): ResolvedRetryPolicy | undefined {
    return this.retryPolicies.get(type);
  }

  has(type: string): boolean {
    return this.handlers.has(type);
  }

  types(): string[] {
    return [...this.handlers.keys()];
  }

  /** Runs every handler of the event's type and rejects if any of them failed. */
  async dispatch(envelope: EventEnvelope, delivery: Delivery): Promise<DispatchOutcome> {
    const list = this.handlers.get(envelope.type);
    if (!list) {
      return 'no-handler';
    }
    if (list.length === 1) {
      await list[0]!(envelope, delivery);
      return 'handled';
    }
    const results = await Promise.allSettled(list.map((handler) => Promise.resolve().then(() => handler(envelope, delivery))));
    const errors = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    if (errors.length === 1) {
      throw errors[0];
    }
    if (errors.length > 1) {
      throw new HandlersFailedError(errors, envelope.type);
    }
    return 'handled';
  }
}
