import type { LoggerService } from '@nestjs/common';
import type { Redis, RedisOptions } from 'ioredis';
import { logConnectionEvents } from './connection-logging.js';
import {
  closeRedisConnection,
  describeRedisConnection,
  openRedisConnection,
  resolveRedisConnection,
  type RedisConnection,
} from './redis-connection.js';

/** A client opened for one role, with its masked address and its connection logging. */
export interface ManagedConnection {
  readonly client: Redis;
  /** True when this package opened the client and so closes it. */
  readonly owned: boolean;
  /** The Redis address with any password masked, for logs and error messages. */
  readonly address: string;
  /** Closes an owned client and stops its logging; a borrowed client stays open. */
  close(): Promise<void>;
}

export interface ManagedConnectionOptions {
  /** ioredis options for a client this package opens; ignored for a borrowed shared client. */
  readonly overrides?: RedisOptions;
  /** Open a connection of its own even when the caller passed a client. */
  readonly dedicated: boolean;
  readonly logger: LoggerService;
  /** Name of the connection's user in log lines, such as `Publisher "topic-engine"`. */
  readonly label: string;
}

/**
 * Resolves the connection option (falling back to `REDIS_URL`), opens the client, and logs its
 * connects, outages and recoveries when this package owns it.
 */
export function openManagedConnection(connection: RedisConnection | undefined, options: ManagedConnectionOptions): ManagedConnection {
  const resolved = resolveRedisConnection(connection);
  const address = describeRedisConnection(resolved);
  const opened = openRedisConnection(resolved, options.overrides ?? {}, { dedicated: options.dedicated });
  const stopLogging = opened.owned ? logConnectionEvents(opened.client, options.logger, options.label, address) : () => undefined;
  let closing: Promise<void> | undefined;
  return {
    client: opened.client,
    owned: opened.owned,
    address,
    close: () => {
      closing ??= closeRedisConnection(opened).finally(stopLogging);
      return closing;
    },
  };
}
