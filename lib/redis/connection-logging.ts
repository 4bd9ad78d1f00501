import type { LoggerService } from '@nestjs/common';
import type { Redis } from 'ioredis';

/**
 * Logs a client's connection life: the first connect, one error line when an outage starts
 * (further errors of the same outage are only counted), and one line on recovery with the count
 * and duration. Returns a function that removes the listeners.
 */
export function logConnectionEvents(client: Redis, logger: LoggerService, label: string, address: string): () => void {
  let connectedBefore = false;
  let outageStartedAt: number | undefined;
  let outageErrors = 0;

  const onReady = (): void => {
    if (outageStartedAt !== undefined) {
      const seconds = ((Date.now() - outageStartedAt) / 1000).toFixed(1);
      logger.log(`${label} reconnected to ${address} after ${seconds} s and ${outageErrors} connection errors`);
    } else if (!connectedBefore) {
      logger.log(`${label} connected to ${address}`);
    }
    connectedBefore = true;
    outageStartedAt = undefined;
    outageErrors = 0;
  };
  const onError = (error: Error): void => {
    outageErrors += 1;
    if (outageStartedAt === undefined) {
      outageStartedAt = Date.now();
      logger.error(`${label} connection to ${address} failed: ${error.message}; reconnecting until it answers again`);
    }
  };

  // A dropped socket may reconnect without any 'error' event, so the outage can also start here.
  const onReconnecting = (): void => {
    if (outageStartedAt === undefined) {
      outageStartedAt = Date.now();
      logger.warn(`${label} lost its connection to ${address}; reconnecting`);
    }
  };

  client.on('ready', onReady);
  client.on('error', onError);
  client.on('reconnecting', onReconnecting);
  return () => {
    client.off('ready', onReady);
    client.off('error', onError);
    client.off('reconnecting', onReconnecting);
  };
}
