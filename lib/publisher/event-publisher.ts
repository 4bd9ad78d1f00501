import { Logger } from '@nestjs/common';
import { createEnvelope, encodeEnvelope, type EventEnvelope, type EventLineage } from '../envelope/index.js';
import { EventsError, PublishError } from '../errors/index.js';
import { errorMessage } from '../logging/index.js';
import { resolvePublisherOptions, type PublisherOptions, type ResolvedPublisherOptions } from '../options/index.js';
import { validateName } from '../options/validate.js';
import {
  closeRedisConnection,
  describeRedisConnection,
  logConnectionEvents,
  openRedisConnection,
  resolveRedisConnection,
  type OpenedConnection,
} from '../redis/index.js';
import type { PublishResult } from './publish-result.js';

/**
 * Appends events to the stream. One publisher per service is enough: it shares one connection
 * and is safe to call concurrently.
 */
export class EventPublisher {
  private readonly logger = new Logger(EventPublisher.name);
  private readonly options: ResolvedPublisherOptions;
  private readonly connection: OpenedConnection;
  private readonly stopLogging: () => void;
  private closing: Promise<void> | undefined;

  /**
   * @param source name of the publishing service, stored in every event's `source` field
   * @param options where Redis is, the stream key and trimming; see `PublisherOptions`
   */
  constructor(source: string, options: PublisherOptions = {}) {
    this.options = resolvePublisherOptions(source, options);
    const redis = resolveRedisConnection(this.options.redis);
    this.connection = openRedisConnection(redis, {}, { dedicated: false });
    this.stopLogging = this.connection.owned
      ? logConnectionEvents(this.connection.client, this.logger, `Publisher "${this.options.source}"`, describeRedisConnection(redis))
      : () => undefined;
  }

  /** Name of the service stored as every event's source. */
  get source(): string {
    return this.options.source;
  }

  /** Key of the stream this publisher writes to. */
  get stream(): string {
    return this.options.stream;
  }

  /**
   * Appends one event and resolves once Redis stored it. Rejects with `PublishError` when the
   * payload cannot be serialized or Redis rejects the write; nothing is written in that case.
   */
  async publish<TPayload>(type: string, payload: TPayload, lineage: EventLineage = {}): Promise<PublishResult> {
    if (this.closing) {
      throw new EventsError(`Cannot publish "${type}": publisher "${this.options.source}" is closed.`);
    }
    validateName('type', type);
    const envelope = createEnvelope({ type, source: this.options.source, payload, ...lineage });
    const fields = encodeEnvelope(envelope, this.serializePayload(envelope));
    const trim = this.options.maxLength === undefined ? [] : ['MAXLEN', '~', String(this.options.maxLength)];

    let entryId: string | null;
    try {
      entryId = await this.connection.client.xadd(this.options.stream, ...trim, '*', ...fields);
    } catch (error) {
      throw new PublishError(
        `Failed to publish event ${envelope.id} of type "${type}" to stream "${this.options.stream}": ${errorMessage(error)}`,
        type,
        envelope.id,
        this.options.stream,
        { cause: error },
      );
    }
    if (entryId === null) {
      throw new PublishError(`Redis did not store event ${envelope.id} of type "${type}".`, type, envelope.id, this.options.stream);
    }
    return { eventId: envelope.id, entryId };
  }

  /** Closes the connection this publisher opened; a connection passed in by the caller stays open. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await closeRedisConnection(this.connection);
      this.stopLogging();
    })();
    return this.closing;
  }

  private serializePayload(envelope: EventEnvelope): string {
    let json: string | undefined;
    try {
      json = JSON.stringify(envelope.payload);
    } catch (error) {
      throw new PublishError(
        `Cannot publish event of type "${envelope.type}": its payload is not serializable to JSON (${errorMessage(error)}).`,
        envelope.type,
        envelope.id,
        this.options.stream,
        { cause: error },
      );
    }
    if (json === undefined) {
      throw new PublishError(
        `Cannot publish event of type "${envelope.type}": the payload is undefined or a function; pass a JSON value.`,
        envelope.type,
        envelope.id,
        this.options.stream,
      );
    }
    return json;
  }
}
