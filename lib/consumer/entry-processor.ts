import type { LoggerService } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { originalIds, type DeadLetterReason } from '../dead-letter/dead-letter-entry.js';
import { decodeEntry, type DecodeResult, type EventEnvelope } from '../envelope/index.js';
import { isNonRetryable } from '../errors/index.js';
import { errorMessage, errorStack, RateLimitedLogger } from '../logging/index.js';
import {
  resolveRetryPolicy,
  retryDelayMs,
  type ResolvedConsumerOptions,
  type ResolvedRetryPolicy,
  type RetryPolicy,
} from '../options/index.js';
import type { ConsumerStats } from './consumer-stats.js';
import { moveToDeadLetter } from './dead-letterer.js';
import type { Delivery, Dispatcher } from './delivery.js';
import type { StreamEntry } from './stream-reply.js';

/** Failed entries whose retry delay is remembered; older ones fall back to the delivery count. */
const MAX_REMEMBERED_DELAYS = 10_000;

/** The handler side of the engine: dispatch, the types it handles, and per-type retry overrides. */
export interface DispatchTarget {
  readonly dispatch: Dispatcher;
  /** Tells whether this side has a handler for a type; other types are acknowledged unchecked. */
  readonly handles: (type: string) => boolean;
  /** Returns a handler-level retry policy for a type, merged over the consumer's policies. */
  readonly retryPolicyFor?: (type: string) => RetryPolicy | undefined;
}

/**
 * Handles one stream entry: decodes it, dispatches it, and then acknowledges it, leaves it
 * pending for a retry, or moves it to the dead-letter stream. It never throws, so one bad entry
 * cannot stop the read loop.
 */
export class EntryProcessor {
  private readonly limited: RateLimitedLogger;
  private readonly policies = new Map<string, ResolvedRetryPolicy>();
  /** Entries decoded to find their ordering key, so that processing them does not parse them again. */
  private readonly decodedByFields = new WeakMap<readonly string[], DecodeResult>();
  /** Entries whose last failure asked to wait (`retryAfterMs`), which do not use up attempts. */
  private readonly deferred = new Set<string>();

  constructor(
    private readonly options: ResolvedConsumerOptions,
    private readonly commands: Redis,
    private readonly target: DispatchTarget,
    private readonly logger: LoggerService,
    private readonly stats: ConsumerStats,
    /** Retry delays chosen for failed entries, read by the claimer; bounded by `MAX_REMEMBERED_DELAYS`. */
    private readonly retryDelays: Map<string, number>,
  ) {
    this.limited = new RateLimitedLogger(logger);
  }

  /** Returns the ordering key of an entry, or undefined when it has none or cannot be decoded. */
  orderingKeyOf([entryId, fields]: StreamEntry): string | undefined {
    if (!this.options.orderingKey || fields === null) {
      return undefined;
    }
    const decoded = decodeEntry(fields);
    this.decodedByFields.set(fields, decoded);
    if (!decoded.ok) {
      return undefined;
    }
    try {
      return this.options.orderingKey(decoded.envelope);
    } catch (error) {
      this.limited.error(
        'ordering-key',
        `orderingKey failed for entry ${entryId}; handling it without a key: ${errorMessage(error)}`,
        errorStack(error),
      );
      return undefined;
    }
  }

  async process(entry: StreamEntry, deliveryCount: number): Promise<void> {
    try {
      await this.processEntry(entry, deliveryCount);
    } catch (error) {
      // Reached only by a fault in this package, such as a validator that throws: the entry
      // stays pending and is retried like a failed handler.
      this.limited.error(
        'unexpected',
        `Processing entry ${entry[0]} failed unexpectedly; it stays pending: ${errorMessage(error)}`,
        errorStack(error),
      );
    }
  }

  private async processEntry([entryId, fields]: StreamEntry, deliveryCount: number): Promise<void> {
    if (fields === null) {
      this.stats.deletedWhilePending += 1;
      this.logger.warn(`Entry ${entryId} was deleted or trimmed from stream "${this.options.stream}" while pending; clearing it`);
      await this.ack(entryId, 'deleted entry');
      return;
    }

    const bytes = payloadBytes(fields);
    if (bytes > this.options.schemas.maxEventBytes) {
      const error = `payload is ${bytes} bytes, over the limit of ${this.options.schemas.maxEventBytes} bytes (maxEventBytes)`;
      await this.deadLetter({ entryId, fields, attempts: deliveryCount, reason: 'too-large', error }, undefined);
      return;
    }

    const decoded = this.decodedByFields.get(fields) ?? decodeEntry(fields);
    this.decodedByFields.delete(fields);
    if (!decoded.ok) {
      await this.deadLetter({ entryId, fields, attempts: deliveryCount, reason: 'malformed', error: decoded.message }, undefined);
      return;
    }
    if (!this.target.handles(decoded.envelope.type)) {
      this.stats.skipped += 1;
      await this.ack(entryId, `event ${decoded.envelope.id} of type "${decoded.envelope.type}" without a handler`);
      return;
    }

    const checked = this.options.schemas.checkForConsume(decoded.envelope);
    if (!checked.ok && checked.kind !== 'newer-version') {
      await this.deadLetter({ entryId, fields, attempts: deliveryCount, reason: checked.kind, error: checked.message }, decoded.envelope);
      return;
    }
    const envelope = checked.ok ? checked.envelope : decoded.envelope;
    const policy = this.policyFor(envelope.type);
    if (deliveryCount > policy.maxAttempts && !this.deferred.delete(entryId)) {
      // Reached when earlier attempts never reported back, for example a handler that crashed the process.
      const error = `delivered ${deliveryCount} times, more than maxAttempts (${policy.maxAttempts}), without success`;
      await this.deadLetter({ entryId, fields, attempts: deliveryCount, reason: 'max-attempts', error }, envelope);
      return;
    }

    const delivery: Delivery = {
      entryId,
      stream: this.options.stream,
      group: this.options.group,
      consumer: this.options.consumer,
      deliveryCount,
    };
    try {
      if (!checked.ok) {
        throw new Error(checked.message);
      }
      const outcome = await this.target.dispatch(envelope, delivery);
      if (outcome === 'no-handler') {
        this.stats.skipped += 1;
      } else {
        this.stats.handled += 1;
      }
    } catch (error) {
      await this.handleFailure(entryId, fields, envelope, deliveryCount, policy, error);
      return;
    }
    await this.ack(entryId, `event ${envelope.id} of type "${envelope.type}"`);
  }

  /** Returns the policy for a type: handler override over type override over the consumer's. */
  policyFor(type: string): ResolvedRetryPolicy {
    let policy = this.policies.get(type);
    if (!policy) {
      const base = this.options.retryByType.get(type) ?? this.options.retry;
      policy = resolveRetryPolicy(`retry of the "${type}" handler`, this.target.retryPolicyFor?.(type), base);
      this.policies.set(type, policy);
    }
    return policy;
  }

  private async handleFailure(
    entryId: string,
    fields: readonly string[],
    envelope: EventEnvelope,
    attempts: number,
    policy: ResolvedRetryPolicy,
    error: unknown,
  ): Promise<void> {
    const message = errorMessage(error);
    if (isNonRetryable(error)) {
      await this.deadLetter({ entryId, fields, attempts, reason: 'non-retryable', error: message, stack: errorStack(error) }, envelope);
      return;
    }
    const deferral = retryAfterOf(error);
    if (attempts >= policy.maxAttempts && deferral === undefined) {
      await this.deadLetter({ entryId, fields, attempts, reason: 'max-attempts', error: message, stack: errorStack(error) }, envelope);
      return;
    }
    this.stats.failed += 1;
    const delay = deferral ?? retryDelayMs(policy, attempts);
    if (deferral !== undefined && this.deferred.size < MAX_REMEMBERED_DELAYS) {
      this.deferred.add(entryId);
    }
    if (this.retryDelays.size >= MAX_REMEMBERED_DELAYS) {
      this.retryDelays.delete(this.retryDelays.keys().next().value!);
    }
    this.retryDelays.set(entryId, delay);
    this.limited.error(
      `handler:${envelope.type}:${message}`,
      `Handler failed for event ${envelope.id} of type "${envelope.type}" (entry ${entryId}, attempt ${attempts} of ${policy.maxAttempts}); retrying in ${delay} ms: ${message}`,
      errorStack(error),
    );
  }

  private async deadLetter(
    input: {
      entryId: string;
      fields: readonly string[];
      attempts: number;
      reason: DeadLetterReason;
      error: string;
      stack?: string | undefined;
    },
    envelope: EventEnvelope | undefined,
  ): Promise<void> {
    const what = describeEntry(input.entryId, envelope ?? originalIds(input.fields));
    try {
      await moveToDeadLetter(this.commands, this.options, input);
    } catch (error) {
      this.limited.error(
        'dead-letter',
        `Failed to move ${what} to dead-letter stream "${this.options.deadLetterStream}"; it stays pending and is tried again: ${errorMessage(error)}`,
      );
      return;
    }
    this.stats.deadLettered += 1;
    const attempts = input.attempts === 1 ? '1 attempt' : `${input.attempts} attempts`;
    this.logger.error(
      `Moved ${what} to dead-letter stream "${this.options.deadLetterStream}" after ${attempts} (${input.reason}): ${input.error}`,
    );
  }

  private async ack(entryId: string, what: string): Promise<void> {
    try {
      await this.commands.xack(this.options.stream, this.options.group, entryId);
    } catch (error) {
      this.limited.error(
        'ack',
        `Failed to acknowledge ${what} (entry ${entryId}); it stays pending and will be delivered again: ${errorMessage(error)}`,
      );
    }
  }
}

/**
 * Returns the wait that an error requests with a numeric `retryAfterMs` (such as
 * `IdempotencyLockedError` while another consumer handles the event). Such an error means
 * "not yet", so it never exhausts `maxAttempts`.
 */
function retryAfterOf(error: unknown): number | undefined {
  const value = typeof error === 'object' && error !== null ? (error as { retryAfterMs?: unknown }).retryAfterMs : undefined;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Size of the `payload` field in bytes; the limit applies to the payload, as on publish. */
function payloadBytes(fields: readonly string[]): number {
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] === 'payload') {
      return Buffer.byteLength(fields[index + 1]!);
    }
  }
  return 0;
}

/** Names an entry for logs by its event id and type where the entry has them. */
function describeEntry(entryId: string, ids: { id?: string; type?: string; eventId?: string; eventType?: string }): string {
  const eventId = ids.id ?? ids.eventId;
  const type = ids.type ?? ids.eventType;
  if (eventId === undefined && type === undefined) {
    return `entry ${entryId}`;
  }
  return `event ${eventId ?? '(no id)'} of type "${type ?? '(no type)'}" (entry ${entryId})`;
}
