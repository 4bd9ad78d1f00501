import { performance } from 'node:perf_hooks';
import type { EventEnvelope } from '../lib/index.js';

/** A hop the run waits for: one service handling one event type. */
export interface ExpectedHop {
  readonly service: string;
  /** Type of the event the service handles. */
  readonly event: string;
  /** Short description of the service's reaction, for the timeout message. */
  readonly outcome: string;
  /** `topic` for the chain started by `topic.approved`, `feedback` for the side events. */
  readonly chain: 'topic' | 'feedback';
}

/** One handled event, as the run recorded it. */
export interface Hop {
  readonly service: string;
  /** Type of the handled event. */
  readonly event: string;
  /** Type of the event the handler published, if it published one. */
  readonly published?: string;
  /** The published type, or a short description of what the handler did instead. */
  readonly outcome: string;
  /** Id of the handled event. */
  readonly eventId: string;
  readonly correlationId: string;
  readonly causationId?: string;
  /** Milliseconds from publishing `topic.approved` until the handler recorded the hop. */
  readonly elapsedMs: number;
}

/** Result of a handler: the type of the event it published, or a note on its work. */
export type HopOutcome = { published: string } | { note: string };

/** Output function for the run's lines, such as `console.log`. */
export type LineWriter = (line: string) => void;

const SERVICE_COLUMN = 16;
const EVENT_COLUMN = 58;

/**
 * Collects the hops of one run, prints each as it arrives, and resolves `complete` once every
 * expected hop happened. The sample's services can share one recorder because they run in one
 * process. Services in separate processes would report through logs or traces instead.
 */
export class HopRecorder {
  /** Resolves when every expected hop has been recorded at least once. */
  readonly complete: Promise<void>;
  private readonly recorded: Hop[] = [];
  private readonly waitingFor: Map<string, ExpectedHop>;
  private resolveComplete: () => void = () => undefined;
  private startedAt = performance.now();

  constructor(
    expected: readonly ExpectedHop[],
    private readonly write: LineWriter,
  ) {
    this.waitingFor = new Map(expected.map((hop) => [hopKey(hop.service, hop.event), hop]));
    this.complete = new Promise((resolve) => {
      this.resolveComplete = resolve;
    });
  }

  /** Restarts the clock that hop latencies count from. Call it right before publishing the topic. */
  startClock(): void {
    this.startedAt = performance.now();
  }

  /** Milliseconds since `startClock()`. */
  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /**
   * Stores and prints one hop. Handlers call it before publishing their follow-up event, so a hop
   * prints before the hops it causes. A publish that fails after that shows up as the error the
   * transport logs and as missing hops downstream.
   */
  record(service: string, handled: EventEnvelope, outcome: HopOutcome): Hop {
    const hop: Hop = {
      service,
      event: handled.type,
      ...('published' in outcome ? { published: outcome.published } : {}),
      outcome: 'published' in outcome ? outcome.published : outcome.note,
      eventId: handled.id,
      correlationId: handled.correlationId,
      ...(handled.causationId === undefined ? {} : { causationId: handled.causationId }),
      elapsedMs: this.elapsedMs(),
    };
    this.recorded.push(hop);
    this.write(formatHop(hop));

    this.waitingFor.delete(hopKey(service, handled.type));
    if (this.waitingFor.size === 0) {
      this.resolveComplete();
    }
    return hop;
  }

  /** Prints a line that is not a hop, such as the admin notification. */
  print(line: string): void {
    this.write(line);
  }

  /** Hops in the order they were recorded. */
  get hops(): readonly Hop[] {
    return this.recorded;
  }

  /** Expected hops that have not happened yet. */
  missing(): ExpectedHop[] {
    return [...this.waitingFor.values()];
  }
}

/** Formats a hop as `service  event -> outcome  +12 ms`. */
export function formatHop(hop: Hop): string {
  const step = `${hop.event} -> ${hop.outcome}`;
  return `${hop.service.padEnd(SERVICE_COLUMN)}${step.padEnd(EVENT_COLUMN)} +${Math.round(hop.elapsedMs)} ms`;
}

/** Formats an expected hop the same way, without a time. */
export function formatExpectedHop(hop: ExpectedHop): string {
  return `${hop.service.padEnd(SERVICE_COLUMN)}${hop.event} -> ${hop.outcome}`;
}

/** Identifies an expected or recorded hop by service and event type. */
export function hopKey(service: string, event: string): string {
  return `${service}\u0000${event}`;
}
