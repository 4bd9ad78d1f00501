/**
 * Runs tasks with at most `concurrency` at once. Tasks that share an ordering key run one after
 * another in submission order; tasks without a key only wait for a free slot.
 */
export class HandlerPool {
  private readonly running = new Set<Promise<void>>();
  private readonly lastByKey = new Map<string, Promise<void>>();

  constructor(private readonly concurrency: number) {}

  /** Number of tasks submitted and not finished, including those waiting for their key. */
  get size(): number {
    return this.running.size;
  }

  /**
   * Waits for a free slot, then starts the task. Resolves once the task has started (or is queued
   * behind its key), not when it finishes. `task` must not reject.
   */
  async submit(key: string | undefined, task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.concurrency) {
      await Promise.race(this.running);
    }
    const previous = key === undefined ? undefined : this.lastByKey.get(key);
    const run = (previous ? previous.then(task) : task()).finally(() => {
      this.running.delete(run);
      if (key !== undefined && this.lastByKey.get(key) === run) {
        this.lastByKey.delete(key);
      }
    });
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
