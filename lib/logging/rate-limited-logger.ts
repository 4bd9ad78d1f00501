import type { LoggerService } from '@nestjs/common';

/** How long repeats of one message key stay suppressed after it was logged. */
export const DEFAULT_LOG_REPEAT_WINDOW_MS = 30_000;

type Level = 'error' | 'warn';

interface WindowState {
  startedAt: number;
  suppressed: number;
}

/**
 * Logs a message once per window per key and counts the repeats in between, so an outage or a
 * poison event produces a few lines instead of one per retry.
 */
export class RateLimitedLogger {
  private readonly windows = new Map<string, WindowState>();

  constructor(
    private readonly logger: LoggerService,
    private readonly windowMs = DEFAULT_LOG_REPEAT_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  error(key: string, message: string, stack?: string): void {
    this.log('error', key, message, stack);
  }

  warn(key: string, message: string): void {
    this.log('warn', key, message);
  }

  /** Forgets a key, so the next message with it is logged at once (for example after a recovery). */
  reset(key: string): void {
    this.windows.delete(key);
  }

  private log(level: Level, key: string, message: string, stack?: string): void {
    const now = this.now();
    const state = this.windows.get(key);
    if (state && now - state.startedAt < this.windowMs) {
      state.suppressed += 1;
      return;
    }
    const repeats = state?.suppressed
      ? ` (${state.suppressed} similar messages suppressed in the previous ${Math.round(this.windowMs / 1000)} s)`
      : '';
    this.windows.set(key, { startedAt: now, suppressed: 0 });
    if (level === 'error' && stack !== undefined) {
      this.logger.error(message + repeats, stack);
    } else if (level === 'error') {
      this.logger.error(message + repeats);
    } else {
      this.logger.warn(message + repeats);
    }
  }
}
