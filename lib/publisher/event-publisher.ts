import { Logger } from '@nestjs/common';
import { createEnvelope, encodeEnvelope, type EventEnvelope, type EventLineage } from '../envelope/index.js';
import { EventsError, PublishError, PublishTimeoutError, RedisOutOfMemoryError } from '../errors/index.js';
import { errorMessage } from '../logging/index.js';
import { resolvePublisherOptions, type PublisherOptions, type ResolvedPublisherOptions } from '../options/index.js';
import { validateName } from '../options/validate.js';
import { openManagedConnection, type ManagedConnection } from '../redis/index.js';
import type { PublishResult } from './publish-result.js';
import { EventSchemas, EventTooLargeError, type EventCatalog, type PayloadInput } from '../catalog/index.js';

/**
 * Appends events to the stream. One publisher per service is enough: it shares one connection
 * and is safe to call concurrently.
 */
export class EventPublisher<TCatalog extends object = EventCatalog> {
  private readonly logger = new Logger(EventPublisher.name);
  private readonly options: ResolvedPublisherOptions;
  private readonly connection: ManagedConnection;
  private closing: Promise<void> | undefined;
  private waiting = 0;
  private readonly schemas: EventSchemas;

  /**
   * @param source name of the publishing service, stored in every event's `source` field
   * @param options where Redis is, the stream key and trimming; see `PublisherOptions`
   */
  constructor(source: string, options: PublisherOptions = {}) {
    this.options = resolvePublisherOptions(source, options);
    this.schemas = new EventSchemas(options);
    // Without an offline queue and without resending after a reconnect, nothing is sent behind
    // the caller's back: publish() waits for the connection itself, bounded by publishTimeoutMs,
    // and an XADD whose reply was lost is reported, not silently written twice.
    this.connection = openManagedConnection(this.options.redis, {
      overrides: { enableOfflineQueue: false, autoResendUnfulfilledCommands: false, commandTimeout: this.options.publishTimeoutMs },
      dedicated: false,
      logger: this.logger,
      label: `Publisher "${this.options.source}"`,
    });
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
   * Validates the payload against the catalog, appends one event, and resolves once Redis stored
   * it. Rejects with `UnknownEventTypeError`, `InvalidPayloadError` or `EventTooLargeError`
   * before writing anything, and with `PublishError` when Redis cannot be reached in time or
   * rejects the write.
   */
  async publish<T extends keyof TCatalog & string>(
    type: T,
    payload: PayloadInput<TCatalog[T]>,
    lineage: EventLineage = {},
  ): Promise<PublishResult> {
    if (this.closing) {
      throw new EventsError(`Cannot publish "${type}": publisher "${this.options.source}" is closed.`);
    }
    validateName('type', type);
    const checked = this.schemas.checkForPublish(type, payload);
    const envelope = createEnvelope({
      type,
      source: this.options.source,
      payload: checked,
      schemaVersion: this.schemas.versionOf(type),
      ...lineage,
    });
    const serialized = this.serializePayload(envelope);
    const bytes = Buffer.byteLength(serialized);
    if (bytes > this.schemas.maxEventBytes) {
      throw new EventTooLargeError(type, bytes, this.schemas.maxEventBytes);
    }
    const fields = encodeEnvelope(envelope, serialized);
    const trim = this.options.maxLength === undefined ? [] : ['MAXLEN', '~', String(this.options.maxLength)];

    const deadline = Date.now() + this.options.publishTimeoutMs;
    let entryId: string | null;
    for (;;) {
      await this.waitUntilReady(envelope, deadline);
      try {
        entryId = await this.connection.client.xadd(this.options.stream, ...trim, '*', ...fields);
        break;
      } catch (error) {
        // ioredis rejects without sending when the socket is not writable (the offline queue is
        // off), so waiting for the reconnect and sending again cannot duplicate the event.
        if (!errorMessage(error).includes('enableOfflineQueue') || Date.now() >= deadline) {
          throw this.writeError(envelope, error);
        }
      }
    }
    if (entryId === null) {
      throw new PublishError(`Redis did not store event ${envelope.id} of type "${type}".`, type, envelope.id, this.options.stream);
    }
    return { eventId: envelope.id, entryId };
  }

  /** Closes the connection this publisher opened; a connection passed in by the caller stays open. */
  close(): Promise<void> {
    this.closing ??= this.connection.close();
    return this.closing;
  }

  /**
   * Waits for the connection to be ready, up to `publishTimeoutMs`, with at most
   * `maxWaitingPublishes` callers waiting at once.
   */
  private async waitUntilReady(envelope: EventEnvelope, deadline: number): Promise<void> {
    const client = this.connection.client;
    if (client.status === 'ready') {
      return;
    }
    const { stream, publishTimeoutMs, maxWaitingPublishes } = this.options;
    if (this.waiting >= maxWaitingPublishes) {
      throw new PublishError(
        `Cannot publish event ${envelope.id} of type "${envelope.type}": Redis is unreachable and ${this.waiting} publishes already wait for it (maxWaitingPublishes). Retry later or raise the limit.`,
        envelope.type,
        envelope.id,
        stream,
      );
    }
    this.waiting += 1;
    try {
      const ready = await new Promise<boolean>((resolve) => {
        const finish = (value: boolean): void => {
          clearTimeout(timer);
          client.off('ready', onReady);
          client.off('end', onEnd);
          resolve(value);
        };
        const onReady = (): void => finish(true);
        const onEnd = (): void => finish(false);
        const timer = setTimeout(() => finish(false), Math.max(0, deadline - Date.now()));
        client.on('ready', onReady);
        client.on('end', onEnd);
      });
      if (!ready) {
        throw new PublishTimeoutError(
          `Cannot publish event ${envelope.id} of type "${envelope.type}": Redis did not become reachable within ${publishTimeoutMs} ms (connection ${client.status}); nothing was written.`,
          envelope.type,
          envelope.id,
          stream,
        );
      }
    } finally {
      this.waiting -= 1;
    }
  }

  private writeError(envelope: EventEnvelope, error: unknown): PublishError {
    const { stream, publishTimeoutMs } = this.options;
    const message = errorMessage(error);
    const prefix = `Failed to publish event ${envelope.id} of type "${envelope.type}" to stream "${stream}"`;
    if (message.startsWith('OOM')) {
      return new RedisOutOfMemoryError(
        `${prefix}: Redis is out of memory (maxmemory reached). Free memory, raise maxmemory, or cap the stream with the maxLength option.`,
        envelope.type,
        envelope.id,
        stream,
        { cause: error },
      );
    }
    if (message.includes('timed out')) {
      return new PublishTimeoutError(
        `${prefix}: no reply within ${publishTimeoutMs} ms; the event may or may not be stored, so a retry can duplicate it.`,
        envelope.type,
        envelope.id,
        stream,
        { cause: error },
      );
    }
    return new PublishError(`${prefix}: ${message}`, envelope.type, envelope.id, stream, { cause: error });
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
