import type { LoggerService } from '@nestjs/common';
import { EventsError } from '../errors/index.js';
import { errorMessage, RateLimitedLogger } from '../logging/index.js';
import { EVENT_BUS_DEFAULTS, type ResolvedConsumerOptions } from '../options/index.js';
import { openManagedConnection, type ManagedConnection } from '../redis/index.js';
import { ensureConsumerGroup, isMissingGroupError, lastDeliveredId } from './consumer-group.js';
import { emptyStats, type ConsumerStats } from './consumer-stats.js';
import { EntryProcessor, type DispatchTarget } from './entry-processor.js';
import { HandlerPool } from './handler-pool.js';
import { PendingClaimer } from './pending-claimer.js';
import { deliveryCountsOf, entriesOf, type StreamEntry } from './stream-reply.js';

/** Extra time a blocking read may take beyond its BLOCK argument before the link counts as silent. */
const READ_TIMEOUT_GRACE_MS = 5_000;

/** Cursor for new entries; any other cursor reads this consumer's own pending entries. */
const NEW_ENTRIES = '>';

export type ConsumerState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * The consumer engine shared by `EventConsumer` and the Nest transport. It owns two connections:
 * one for blocking reads and one for acks, claims and group commands, so acks never wait behind
 * a read. On start it first works through this consumer's own pending entries (left by a crash
 * or a stop timeout), then reads new ones, while a claimer retries failed entries and takes over
 * those of dead consumers.
 */
export class StreamConsumer {
  private state: ConsumerState = 'idle';
  private reader: ManagedConnection | undefined;
  private commands: ManagedConnection | undefined;
  private readonly limited: RateLimitedLogger;
  private readonly pool: HandlerPool;
  private readonly counters: ConsumerStats = emptyStats();
  private readonly retryDelays = new Map<string, number>();
  /** Entries delivered to this consumer and not finished, including those waiting for a slot. */
  private readonly held = new Set<string>();
  private processor: EntryProcessor | undefined;
  private claimer: PendingClaimer | undefined;
  private loop: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  /** Newest entry this consumer has read, with its fields; a lost group is recreated from here. */
  private resumeFrom: StreamEntry = ['0', null];

  constructor(
    private readonly options: ResolvedConsumerOptions,
    private readonly target: DispatchTarget,
    private readonly logger: LoggerService,
  ) {
    this.limited = new RateLimitedLogger(logger);
    this.pool = new HandlerPool(options.concurrency);
  }

  get status(): ConsumerState {
    return this.state;
  }

  /** Returns a copy of the counters since start. */
  stats(): ConsumerStats {
    return { ...this.counters };
  }

  /** Resolves once the group exists and the first read has been sent; rejects if Redis cannot be reached. */
  start(): Promise<void> {
    if (this.state !== 'idle') {
      throw new EventsError(
        `Consumer "${this.options.consumer}" of group "${this.options.group}" was already started; create a new one to start again.`,
      );
    }
    this.state = 'starting';
    this.starting = this.open();
    return this.starting;
  }

  /**
   * Stops reading at once, waits up to `shutdownTimeoutMs` for running handlers, then closes the
   * connections. Events whose handlers did not finish stay pending: this consumer handles them
   * on its next start under the same name, and other consumers claim them after `claimIdleMs`.
   * Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async open(): Promise<void> {
    const { stream, group, consumer, blockMs } = this.options;
    const label = `Consumer "${consumer}" of group "${group}"`;
    this.commands = openManagedConnection(this.options.redis, { dedicated: false, logger: this.logger, label });
    this.reader = openManagedConnection(this.options.redis, {
      overrides: {
        maxRetriesPerRequest: null,
        commandTimeout: blockMs + READ_TIMEOUT_GRACE_MS,
        connectionName: `${group}:${consumer}:reader`,
      },
      dedicated: true,
      logger: this.logger,
      label: `${label} (reader)`,
    });
    const { address } = this.commands;

    try {
      const created = await ensureConsumerGroup(this.commands.client, stream, group, this.options.startFrom);
      if (created) {
        this.logger.log(`Created consumer group "${group}" on stream "${stream}" starting at "${this.options.startFrom}"`);
      }
      this.resumeFrom = [(await lastDeliveredId(this.commands.client, stream, group)) ?? '0', null];
    } catch (error) {
      await this.closeConnections();
      this.state = 'stopped';
      throw new EventsError(
        `Failed to start consumer "${consumer}": cannot create group "${group}" on stream "${stream}" at ${address}: ${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
    if (this.stopping) {
      return;
    }
    this.state = 'running';
    this.processor = new EntryProcessor(this.options, this.commands.client, this.target, this.logger, this.counters, this.retryDelays);
    this.claimer = new PendingClaimer(
      this.options,
      this.commands.client,
      this.logger,
      this.counters,
      (id) => this.held.has(id),
      () => [...this.held],
      this.retryDelays,
      (entry, deliveryCount) => this.submitAll([entry], () => deliveryCount),
    );
    this.loop = this.run();
    this.claimer.start();
    this.logger.log(`Consumer "${consumer}" of group "${group}" reading stream "${stream}"`);
  }

  private async run(): Promise<void> {
    let cursor = '0';
    let failures = 0;
    while (this.state === 'running') {
      let entries: StreamEntry[];
      try {
        entries = entriesOf(await this.read(cursor));
      } catch (error) {
        if (this.state !== 'running') {
          break;
        }
        failures += 1;
        this.counters.readErrors += 1;
        await this.recoverFromReadError(error, failures);
        if (isMissingGroupError(error)) {
          cursor = '0';
        }
        continue;
      }
      if (failures > 0) {
        this.logger.log(`Reading stream "${this.options.stream}" works again after ${failures} failed attempts`);
        this.limited.reset('read');
        failures = 0;
      }

      try {
        cursor = await this.handOver(entries, cursor);
      } catch (error) {
        // Only a fault in this package gets here; the entries stay pending and are claimed later.
        this.limited.error('hand-over', `Handing read entries to handlers failed: ${errorMessage(error)}`);
        await this.sleep(EVENT_BUS_DEFAULTS.errorBackoffMaxMs);
      }
    }
  }

  /** Submits the entries of one read and returns the cursor for the next read. */
  private async handOver(entries: StreamEntry[], cursor: string): Promise<string> {
    if (cursor === NEW_ENTRIES) {
      this.resumeFrom = entries.at(-1) ?? this.resumeFrom;
      await this.submitAll(entries, () => 1);
      return cursor;
    }
    if (entries.length === 0) {
      return NEW_ENTRIES;
    }
    const counts = await this.pendingDeliveryCounts(entries);
    await this.submitAll(entries, (entryId) => counts.get(entryId) ?? 1);
    return entries[entries.length - 1]![0];
  }

  private read(cursor: string): Promise<unknown> {
    const { group, consumer, batchSize, blockMs, stream } = this.options;
    const reader = this.reader!.client;
    if (cursor === NEW_ENTRIES) {
      return reader.xreadgroup('GROUP', group, consumer, 'COUNT', batchSize, 'BLOCK', blockMs, 'STREAMS', stream, cursor);
    }
    return reader.xreadgroup('GROUP', group, consumer, 'COUNT', batchSize, 'STREAMS', stream, cursor);
  }

  /**
   * Hands a batch to the pool. Entries that arrive after stop() began are still handled: they
   * were delivered to this consumer, and leaving them would delay them by `claimIdleMs`.
   */
  private async submitAll(entries: StreamEntry[], deliveryCount: (entryId: string) => number): Promise<void> {
    const fresh = entries.filter(([entryId]) => !this.held.has(entryId));
    // Held before any waits for a slot, so the claimer neither re-runs nor lets others take them.
    for (const [entryId] of fresh) {
      this.held.add(entryId);
    }
    const processor = this.processor!;
    for (const entry of fresh) {
      const [entryId] = entry;
      await this.pool.submit(processor.orderingKeyOf(entry), () =>
        processor.process(entry, deliveryCount(entryId)).finally(() => this.held.delete(entryId)),
      );
    }
  }

  /** Reads Redis's delivery counts for re-read pending entries, which XREADGROUP does not return. */
  private async pendingDeliveryCounts(entries: StreamEntry[]): Promise<Map<string, number>> {
    const { stream, group, consumer } = this.options;
    try {
      const reply = await this.commands!.client.xpending(
        stream,
        group,
        entries[0]![0],
        entries[entries.length - 1]![0],
        entries.length,
        consumer,
      );
      return deliveryCountsOf(reply);
    } catch (error) {
      this.limited.warn('xpending', `Failed to read delivery counts of pending entries; assuming 1: ${errorMessage(error)}`);
      return new Map();
    }
  }

  private async recoverFromReadError(error: unknown, failures: number): Promise<void> {
    const { stream, group } = this.options;
    if (isMissingGroupError(error)) {
      // Recreating at the last entry read, not at the configured start, delivers the events
      // published since the loss without replaying what was handled.
      this.logger.warn(`Consumer group "${group}" or stream "${stream}" disappeared (flushed, deleted or evicted); creating it again`);
      try {
        // When the stream itself was lost, a new one numbers entries from the current time again,
        // possibly at or below resumeFrom, so the group then starts at its beginning.
        const streamSurvived = await this.stillHolds(this.resumeFrom);
        await ensureConsumerGroup(this.commands!.client, stream, group, streamSurvived ? this.resumeFrom[0] : '0');
      } catch (createError) {
        this.limited.error('read', `Failed to create consumer group "${group}" again: ${errorMessage(createError)}`);
      }
    } else {
      this.limited.error('read', `Reading stream "${stream}" failed: ${errorMessage(error)}; retrying with backoff`);
      if (error instanceof Error && error.message.includes('Command timed out')) {
        // The reply to a blocking read is overdue, so the link is silent: replace the socket.
        this.reader!.client.disconnect(true);
      }
    }
    const delay = Math.min(EVENT_BUS_DEFAULTS.errorBackoffMaxMs, EVENT_BUS_DEFAULTS.errorBackoffMinMs * 2 ** Math.min(failures - 1, 10));
    await this.sleep(delay);
  }

  /** Tells whether the stream still contains this very entry: same id and same fields. */
  private async stillHolds([entryId, fields]: StreamEntry): Promise<boolean> {
    if (entryId === '0') {
      return false;
    }
    const [found] = (await this.commands!.client.xrange(this.options.stream, entryId, entryId)) as StreamEntry[];
    if (!found) {
      return false;
    }
    return fields === null || JSON.stringify(found[1]) === JSON.stringify(fields);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private async close(): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'stopped';
      return;
    }
    await this.starting?.catch(() => undefined);
    if (this.state === 'stopped') {
      return;
    }
    this.state = 'stopping';
    const { consumer, group, shutdownTimeoutMs } = this.options;
    this.logger.log(`Stopping consumer "${consumer}" of group "${group}"`);
    this.wakeUp?.();
    // Closing the reader's socket ends a blocked XREADGROUP at once instead of after blockMs.
    this.reader?.client.disconnect();

    const drained = (async () => {
      await Promise.allSettled([this.loop, this.claimer?.stop()]);
      await this.pool.drain();
    })();
    const finished = await settlesWithin(drained, shutdownTimeoutMs);
    if (!finished) {
      this.logger.warn(
        `${this.pool.size} handlers of consumer "${consumer}" still running after ${shutdownTimeoutMs} ms; their events stay pending and are claimed by other consumers after ${this.options.claimIdleMs} ms`,
      );
    }
    await this.closeConnections();
    this.state = 'stopped';
    this.logger.log(`Stopped consumer "${consumer}" of group "${group}"`);
  }

  private async closeConnections(): Promise<void> {
    await Promise.allSettled([this.reader?.close(), this.commands?.close()]);
  }
}

/** Resolves true when the promise settles within the timeout, false otherwise. */
async function settlesWithin(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
