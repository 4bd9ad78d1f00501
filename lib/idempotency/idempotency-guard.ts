import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Delivery, EventHandler } from '../consumer/index.js';
import type { EventEnvelope } from '../envelope/index.js';
import { EventsError } from '../errors/index.js';
import { errorMessage, errorStack, RateLimitedLogger } from '../logging/index.js';
import { validateName } from '../options/validate.js';
import { openManagedConnection, type ManagedConnection } from '../redis/index.js';
import { IdempotencyLockedError } from './idempotency-locked.error.js';
import {
  resolveIdempotencyGuardOptions,
  type IdempotencyGuardOptions,
  type ResolvedIdempotencyGuardOptions,
} from './idempotency-options.js';
import { claimMarker, completeMarker, DONE_MARKER, releaseMarker, RUNNING_MARKER_PREFIX, type ExistingMarker } from './marker-scripts.js';

/** Outcome of `runOnce`: the work's result, or the reason it was skipped. */
export type RunOnceResult<T> = { ran: true; result: T } | { ran: false; reason: 'done' };

/**
 * Runs a handler's side effects at most once per event id per consumer group, on top of the bus's
 * at-least-once delivery. The bus delivers an event again after a crash between the side effect
 * and the acknowledgement, and when another consumer claims it.
 *
 * Each event has one marker key, `<keyPrefix>:<group>:<eventId>`. `runOnce` claims it as
 * "running" with a random token (`SET NX PX lockMs`), runs the work, and then replaces the
 * marker with "done" for `ttlMs`. A delivery that finds "done" skips the work; one that finds
 * "running" throws `IdempotencyLockedError`, so the bus keeps the event pending and retries it.
 *
 * What the guarantee covers, and where it ends:
 * - Finished work does not run again for the same event id and group while the done marker
 *   lives, that is for `ttlMs` after the work finished. A delivery after that runs it again.
 * - Work that throws releases its claim and the error propagates, so the next delivery runs the
 *   work again from the start.
 * - If the process crashes while the work runs, the claim expires after `lockMs` and the next
 *   delivery runs the work again from the start, repeating any side effects done before the crash.
 * - Work that runs longer than `lockMs` loses its claim, and another delivery can then run it at
 *   the same time. The first runner does not overwrite the new claim; it logs a warning.
 * - If writing the done marker fails after the work succeeded (Redis unreachable, for example),
 *   `runOnce` still returns the result and logs an error, but no marker is stored: a later
 *   delivery of the same event, once `lockMs` has passed, runs the work again.
 * - Markers live in one Redis. A flush, an eviction under `maxmemory` or a failover that loses
 *   recent writes forgets them, and the affected events can run again.
 *
 * With `EventConsumer`, wrap the handler: `consumer.on('topic.approved', guard.wrap(handler))`.
 * In a Nest `@EventPattern` handler, call `runOnce(context.getGroup(), context.getEnvelope().id, work)`.
 */
export class IdempotencyGuard {
  private readonly logger = new Logger(IdempotencyGuard.name);
  private readonly limited = new RateLimitedLogger(this.logger);
  private readonly options: ResolvedIdempotencyGuardOptions;
  private readonly connection: ManagedConnection;
  private closing: Promise<void> | undefined;

  /** @param options where Redis is, the key prefix and both expiry times; see `IdempotencyGuardOptions` */
  constructor(options: IdempotencyGuardOptions = {}) {
    this.options = resolveIdempotencyGuardOptions(options);
    this.connection = openManagedConnection(this.options.redis, { dedicated: false, logger: this.logger, label: 'Idempotency guard' });
  }

  /**
   * Returns the marker key of one event in one group, for inspecting or deleting it by hand.
   *
   * NOTE: the parts are joined with `:` unescaped, so a group and an event id that both contain
   * `:` can map to the same key as another pair (ids published by this package are UUIDs).
   */
  keyFor(group: string, eventId: string): string {
    validateName('group', group);
    validateName('eventId', eventId);
    return `${this.options.keyPrefix}:${group}:${eventId}`;
  }

  /**
   * Runs `work` unless it already finished for this event id in this group.
   *
   * Resolves with `{ ran: true, result }` after running the work, or `{ ran: false, reason: 'done' }`
   * when a done marker exists. Rejects with `IdempotencyLockedError` when another runner holds the
   * claim, with the work's own error when the work fails, and with `EventsError` when Redis cannot
   * be reached for the claim (the work does not run then).
   */
  async runOnce<T>(group: string, eventId: string, work: () => Promise<T> | T): Promise<RunOnceResult<T>> {
    if (this.closing) {
      throw new EventsError(`Cannot run event ${eventId} of group "${group}": the idempotency guard is closed.`);
    }
    const key = this.keyFor(group, eventId);
    if (typeof work !== 'function') {
      throw new EventsError(`The work for event ${eventId} of group "${group}" must be a function.`);
    }

    const running = `${RUNNING_MARKER_PREFIX}${randomUUID()}`;
    const existing = await this.claim(key, running, group, eventId);
    if (existing) {
      return this.skipOrReject(existing, key, group, eventId);
    }

    let result: T;
    try {
      result = await work();
    } catch (error) {
      await this.release(key, running, group, eventId);
      throw error;
    }
    await this.complete(key, running, group, eventId);
    return { ran: true, result };
  }

  /**
   * Wraps a bus handler so it runs at most once per event id in the delivering consumer group,
   * with the limits described on the class.
   */
  wrap<TPayload>(handler: EventHandler<TPayload>): (event: EventEnvelope<TPayload>, delivery: Delivery) => Promise<RunOnceResult<unknown>> {
    if (typeof handler !== 'function') {
      throw new EventsError('IdempotencyGuard.wrap() expects a handler function.');
    }
    return (event, delivery) => this.runOnce(delivery.group, event.id, () => handler(event, delivery));
  }

  /**
   * Closes the connection this guard opened. A connection passed in by the caller stays open, and
   * calls of `runOnce` that are still running are not awaited.
   */
  close(): Promise<void> {
    this.closing ??= this.connection.close();
    return this.closing;
  }

  private async claim(key: string, running: string, group: string, eventId: string): Promise<ExistingMarker | undefined> {
    try {
      return await claimMarker(this.connection.client, key, running, this.options.lockMs);
    } catch (error) {
      throw new EventsError(
        `Failed to claim event ${eventId} of group "${group}" at key "${key}", so its work did not run: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }

  private skipOrReject(existing: ExistingMarker, key: string, group: string, eventId: string): RunOnceResult<never> {
    if (existing.value === DONE_MARKER) {
      this.logger.debug(`Skipping event ${eventId} of group "${group}": its work already finished (key "${key}")`);
      return { ran: false, reason: 'done' };
    }
    if (existing.value.startsWith(RUNNING_MARKER_PREFIX)) {
      throw new IdempotencyLockedError(group, eventId, Math.max(existing.ttlMs, 0));
    }
    // Without this check a foreign value without expiry would block the event forever.
    throw new EventsError(
      `Key "${key}" of event ${eventId} in group "${group}" contains a value that IdempotencyGuard did not write. ` +
        'Set keyPrefix to a prefix that no other data uses.',
    );
  }

  private async complete(key: string, running: string, group: string, eventId: string): Promise<void> {
    let stored: boolean;
    try {
      stored = await completeMarker(this.connection.client, key, running, this.options.ttlMs);
    } catch (error) {
      // The work already ran, so failing here would only make the bus deliver the event again.
      this.limited.error(
        'complete',
        `Event ${eventId} of group "${group}" was handled, but writing its done marker to key "${key}" failed: ${errorMessage(error)}. ` +
          'A later delivery of the event can run the work again.',
        errorStack(error),
      );
      return;
    }
    if (!stored) {
      this.limited.warn(
        'lock-lost',
        `Event ${eventId} of group "${group}" was handled, but its lock expired first (lockMs ${this.options.lockMs}), ` +
          'so another runner may have run it too. Raise lockMs above the longest run of the work.',
      );
    }
  }

  private async release(key: string, running: string, group: string, eventId: string): Promise<void> {
    try {
      await releaseMarker(this.connection.client, key, running);
    } catch (error) {
      this.limited.error(
        'release',
        `Failed to release the lock of event ${eventId} of group "${group}" at key "${key}" after its work failed: ${errorMessage(error)}. ` +
          `Retries are rejected with IdempotencyLockedError until the lock expires (at most ${this.options.lockMs} ms).`,
        errorStack(error),
      );
    }
  }
}
