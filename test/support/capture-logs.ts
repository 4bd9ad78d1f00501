import { Logger, type LoggerService } from '@nestjs/common';

export interface CapturedLine {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  text: string;
}

/**
 * Routes every Nest `Logger` call into memory, so a test can assert on what the package logs
 * (and the run stays quiet). Call `restore()` in `afterEach`.
 */
export function captureLogs(): { lines: CapturedLine[]; text: () => string; restore: () => void } {
  const lines: CapturedLine[] = [];
  const record =
    (level: CapturedLine['level']) =>
    (...parts: unknown[]): void => {
      lines.push({ level, text: parts.map((part) => (part instanceof Error ? `${part.message}\n${part.stack}` : String(part))).join(' ') });
    };
  const logger: LoggerService = {
    log: record('log'),
    error: record('error'),
    warn: record('warn'),
    debug: record('debug'),
    verbose: record('verbose'),
    fatal: record('fatal'),
  };
  Logger.overrideLogger(logger);
  return {
    lines,
    text: () => lines.map((line) => `${line.level}: ${line.text}`).join('\n'),
    restore: () => Logger.overrideLogger(false),
  };
}
