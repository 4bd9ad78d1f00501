import type { LoggerService } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { errorMessage, RateLimitedLogger } from '../logging/index.js';
import type { ResolvedConsumerOptions } from '../options/index.js';
import type { ConsumerStats } from './consumer-stats.js';
import { isMissingGroupError } from './consumer-group.js';
import type { StreamEntry } from './stream-reply.js';

/** One row of an extended XPENDING reply. */
interface PendingRow {
  readonly id: string;
  readonly consumer: string;
  readonly idleMs: number;
  readonly deliveries: number;
}

/** Pending entries fetched per XPENDING page. */
const PAGE_SIZE = 100;

/** Pages looked at per scan; entries beyond wait for the next scan. */
const MAX_PAGES_PER_SCAN = 10;

/** Number of scans between two checks for idle consumers. */
const CLEANUP_EVERY_SCANS = 60;

/**
 * Deletes consumers that are idle longer than ARGV[2] and hold no pending entries, in one script,
 * so no consumer can receive an entry between the check and the deletion. Returns their names.
 */
const DELETE_IDLE_CONSUMERS = `
local removed = {}
local consumers = redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
for _, consumer in ipairs(consumers) do
  local fields = {}
  for i = 1, #consumer, 2 do fields[consumer[i]] = consumer[i + 1] end
  if fields['name'] ~= ARGV[3] and tonumber(fields['pending']) == 0 and tonumber(fields['idle']) > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], fields['name'])
    table.insert(removed, fields['name'])
  end
end
return removed
`;

/**
 * Scans the group's pending entries on an interval. It takes back this consumer's failed entries
 * once their retry delay has passed, and claims other consumers' entries idle longer than
 * `claimIdleMs`. It also keeps the entries of running handlers fresh, so no other consumer claims
 * them, and deletes consumers that stayed idle with nothing pending.
 */
export class PendingClaimer {
  private readonly limited: RateLimitedLogger;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private scans = 0;
  private stopped = false;

  constructor(
    private readonly options: ResolvedConsumerOptions,
    private readonly commands: Redis,
    private readonly logger: LoggerService,
    private readonly stats: ConsumerStats,
    /** Tells whether an entry is delivered to this consumer and not finished. */
    private readonly isHeld: (id: string) => boolean,
    /** Entries delivered to this consumer and not finished. */
    private readonly heldIds: () => string[],
    /** Retry delays chosen when this consumer's handlers failed, by entry id. */
    private readonly retryDelays: Map<string, number>,
    /** Hands a claimed entry to the handler pool. */
    private readonly submit: (entry: StreamEntry, deliveryCount: number) => Promise<void>,
  ) {
    this.limited = new RateLimitedLogger(logger);
  }

  start(): void {
    this.schedule();
  }

  /** Stops the interval and waits for a scan in progress to hand over its entries. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.scanning;
  }

  private schedule(): void {
    if (this.stopped) {
      return;
    }
    this.timer = setTimeout(() => {
      this.scanning = this.scan().finally(() => {
        this.scanning = undefined;
        this.schedule();
      });
    }, this.options.claimIntervalMs);
  }

  /** Runs one scan; exposed for tests and for a prompt retry check after start. */
  async scan(): Promise<void> {
    this.scans += 1;
    try {
      await this.refreshActive();
      await this.claimDue();
      if (this.scans % CLEANUP_EVERY_SCANS === 0) {
        await this.deleteIdleConsumers();
      }
    } catch (error) {
      if (!isMissingGroupError(error) && !this.stopped) {
        this.limited.error('scan', `Scanning pending entries of group "${this.options.group}" failed: ${errorMessage(error)}`);
      }
    }
  }

  /** Resets the idle time of entries whose handlers still run, so other consumers do not claim them. */
  private async refreshActive(): Promise<void> {
    const ids = this.heldIds();
    const { stream, group, consumer } = this.options;
    for (let start = 0; start < ids.length; start += PAGE_SIZE) {
      await this.commands.xclaim(stream, group, consumer, 0, ...ids.slice(start, start + PAGE_SIZE), 'JUSTID');
    }
  }

  private async claimDue(): Promise<void> {
    const { stream, group, claimIdleMs } = this.options;
    const minIdle = Math.floor(Math.min(claimIdleMs, this.shortestRetryDelay()));
    let start = '-';
    for (let page = 0; page < MAX_PAGES_PER_SCAN && !this.stopped; page += 1) {
      const rows = parsePending(await this.commands.xpending(stream, group, 'IDLE', minIdle, start, '+', PAGE_SIZE));
      await this.claimRows(rows);
      if (rows.length < PAGE_SIZE) {
        return;
      }
      start = `(${rows[rows.length - 1]!.id}`;
    }
  }

  /** Returns the smallest wait any configured policy allows before a retry, so the scan includes those entries. */
  private shortestRetryDelay(): number {
    const policies = [this.options.retry, ...this.options.retryByType.values()];
    return Math.min(...policies.map((policy) => policy.initialDelayMs * (1 - policy.jitter)));
  }

  private async claimRows(rows: PendingRow[]): Promise<void> {
    const { stream, group, consumer, claimIdleMs } = this.options;
    for (const row of rows) {
      if (this.stopped) {
        return;
      }
      if (this.isHeld(row.id)) {
        continue;
      }
      // This consumer's own entries are retried after the delay chosen when they failed. One
      // without a remembered delay (left from an earlier run under this name) counts as orphaned.
      const retryDelay = row.consumer === consumer ? this.retryDelays.get(row.id) : undefined;
      const requiredIdle = retryDelay ?? claimIdleMs;
      if (row.idleMs < requiredIdle) {
        continue;
      }
      this.retryDelays.delete(row.id);
      // XCLAIM checks the idle time again atomically, so of two consumers racing for one entry
      // only the first gets it. Entries deleted from the stream are dropped from the pending list.
      const claimed = (await this.commands.xclaim(stream, group, consumer, requiredIdle, row.id)) as StreamEntry[];
      if (claimed.length === 0) {
        await this.countIfDeleted(row.id);
        continue;
      }
      this.stats.claimed += 1;
      if (row.consumer !== consumer) {
        this.logger.warn(
          `Claimed entry ${row.id} from consumer "${row.consumer}", idle for ${row.idleMs} ms (attempt ${row.deliveries + 1})`,
        );
      }
      await this.submit(claimed[0]!, row.deliveries + 1);
    }
  }

  private async countIfDeleted(id: string): Promise<void> {
    const existing = await this.commands.xrange(this.options.stream, id, id);
    if (existing.length === 0) {
      this.stats.deletedWhilePending += 1;
      this.logger.warn(`Pending entry ${id} was deleted or trimmed from stream "${this.options.stream}"; cleared it`);
    }
  }

  private async deleteIdleConsumers(): Promise<void> {
    const { stream, group, consumer, consumerIdleTimeoutMs } = this.options;
    const removed = (await this.commands.eval(DELETE_IDLE_CONSUMERS, 1, stream, group, consumerIdleTimeoutMs, consumer)) as string[];
    if (removed.length > 0) {
      this.stats.consumersRemoved += removed.length;
      this.logger.log(
        `Deleted ${removed.length} consumers idle for over ${consumerIdleTimeoutMs} ms with nothing pending: ${removed.join(', ')}`,
      );
    }
  }
}

function parsePending(reply: unknown): PendingRow[] {
  if (!Array.isArray(reply)) {
    return [];
  }
  return reply.flatMap((row: unknown) =>
    Array.isArray(row) ? [{ id: String(row[0]), consumer: String(row[1]), idleMs: Number(row[2]), deliveries: Number(row[3]) }] : [],
  );
}
