import type { LoggerService } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RateLimitedLogger } from '../logging/index.js';

/**
 * Logs a client's connection life: the first connect, one error line per outage (repeats are
 * counted, not printed), and the recovery. Returns a function that removes the listeners.
 */
export function logConnectionEvents(client: Redis, logger: LoggerService, label: string, address: string): () => void {
  const limited = new RateLimitedLogger(logger);
  let connectedBefore = false;
  let failing = false;

  const onReady = (): void => {
    if (failing) {
      logger.log(`${label} reconnected to ${address}`);
    } else if (!connectedBefore) {
      logger.log(`${label} connected to ${address}`);
    }
    connectedBefore = true;
    failing = false;
    limited.reset('error');
  };
  const onError = (error: Error): void => {
    failing = true;
    limited.error('error', `${label} connection to ${address} failed: ${error.message}; ioredis keeps reconnecting`);
  };

  client.on('ready', onReady);
  client.on('error', onError);
  return () => {
    client.off('ready', onReady);
    client.off('error', onError);
  };
}
