/**
 * Runs tasks with at most `concurrency` at once. Tasks that share an ordering key run one after
 * another in submission order; tasks without a key only wait for a free slot.
 */
export class HandlerPool {
  private readonly running = new Set<Promise<void>>();
  private readonly lastByKey = new Map<string, Promise<void>>();
  private readonly activeIds = new Set<string>();

  constructor(private readonly concurrency: number) {}

  /** Number of tasks submitted and not finished, including those waiting for their key. */
  get size(): number {
    return this.running.size;
  }

  /** Tells whether a task for this entry id is submitted and not finished. */
  has(id: string): boolean {
    return this.activeIds.has(id);
  }

  /** Ids of the entries whose tasks are submitted and not finished. */
  ids(): string[] {
    return [...this.activeIds];
  }

  /**
   * Waits for a free slot, then starts the task. Resolves once the task has started (or is queued
   * behind its key), not when it finishes. `task` must not reject.
   */
  async submit(id: string, key: string | undefined, task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.concurrency) {
      await Promise.race(this.running);
    }
    const previous = key === undefined ? undefined : this.lastByKey.get(key);
    const run = (previous ? previous.then(task) : task()).finally(() => {
      this.running.delete(run);
      this.activeIds.delete(id);
      if (key !== undefined && this.lastByKey.get(key) === run) {
        this.lastByKey.delete(key);
      }
    });
    this.activeIds.add(id);
    this.running.add(run);
    if (key !== undefined) {
      this.lastByKey.set(key, run);
    }
  }

  /** Resolves when every submitted task has finished. */
  async drain(): Promise<void> {
    while (this.running.size > 0) {
      await Promise.allSettled(this.running);
    }
  }
}
