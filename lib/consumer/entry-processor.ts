import type { LoggerService } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { decodeEntry } from '../envelope/index.js';
import { errorMessage, errorStack, RateLimitedLogger } from '../logging/index.js';
import type { ResolvedConsumerOptions } from '../options/index.js';
import type { Dispatcher } from './delivery.js';
import type { StreamEntry } from './stream-reply.js';

/**
 * Handles one stream entry: decodes it, dispatches it, and acknowledges it only after every
 * handler succeeded. It never throws, so one bad entry cannot stop the read loop.
 */
export class EntryProcessor {
  private readonly limited: RateLimitedLogger;

  constructor(
    private readonly options: ResolvedConsumerOptions,
    private readonly commands: Redis,
    private readonly dispatch: Dispatcher,
    private readonly logger: LoggerService,
  ) {
    this.limited = new RateLimitedLogger(logger);
  }

  async process([entryId, fields]: StreamEntry, deliveryCount: number): Promise<void> {
    if (fields === null) {
      this.logger.warn(`Entry ${entryId} was deleted from stream "${this.options.stream}" while pending; acknowledging it`);
      await this.ack(entryId, 'deleted entry');
      return;
    }

    const decoded = decodeEntry(fields);
    if (!decoded.ok) {
      // NOTE: malformed entries stay pending until dead-lettering exists; they are logged here.
      this.limited.error(`malformed:${decoded.reason}`, `Entry ${entryId} is malformed and stays pending: ${decoded.message}`);
      return;
    }

    const { envelope } = decoded;
    const delivery = {
      entryId,
      stream: this.options.stream,
      group: this.options.group,
      consumer: this.options.consumer,
      deliveryCount,
    };
    try {
      const outcome = await this.dispatch(envelope, delivery);
      if (outcome === 'no-handler') {
        this.logger.debug?.(`No handler for "${envelope.type}" in group "${this.options.group}"; acknowledging event ${envelope.id}`);
      }
    } catch (error) {
      this.limited.error(
        `handler:${envelope.type}:${errorMessage(error)}`,
        `Handler failed for event ${envelope.id} of type "${envelope.type}" (entry ${entryId}, delivery ${deliveryCount}); it stays pending: ${errorMessage(error)}`,
        errorStack(error),
      );
      return;
    }
    await this.ack(entryId, `event ${envelope.id} of type "${envelope.type}"`);
  }

  private async ack(entryId: string, what: string): Promise<void> {
    try {
      await this.commands.xack(this.options.stream, this.options.group, entryId);
    } catch (error) {
      this.limited.error(
        'ack',
        `Failed to acknowledge ${what} (entry ${entryId}); it stays pending and will be delivered again: ${errorMessage(error)}`,
      );
    }
  }
}
