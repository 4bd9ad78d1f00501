import { Logger } from '@nestjs/common';
import { ClientProxy, type MsPattern, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import { UnsupportedOperationError } from '../errors/index.js';
import type { PublisherOptions } from '../options/index.js';
import { EventPublisher, type PublishResult } from '../publisher/index.js';
import type { EventCatalog, PayloadInput } from '../catalog/index.js';

/** Options of `RedisStreamsClient`: an existing publisher, or what to build one from. */
export type RedisStreamsClientOptions<TCatalog extends object = EventCatalog> =
  { publisher: EventPublisher<TCatalog> } | ({ source: string } & PublisherOptions);

/**
 * A Nest `ClientProxy` whose `emit()` publishes an event to the stream. Request-response
 * (`send()`) is not supported: the bus is for events.
 */
export class RedisStreamsClient<TCatalog extends object = EventCatalog> extends ClientProxy {
  private readonly logger = new Logger(RedisStreamsClient.name);
  private readonly publisher: EventPublisher<TCatalog>;
  private readonly ownsPublisher: boolean;

  constructor(options: RedisStreamsClientOptions<TCatalog>) {
    super();
    if ('publisher' in options) {
      this.publisher = options.publisher;
      this.ownsPublisher = false;
    } else {
      const { source, ...publisherOptions } = options;
      this.publisher = new EventPublisher<TCatalog>(source, publisherOptions);
      this.ownsPublisher = true;
    }
  }

  /**
   * Publishes an event; the Observable completes once Redis stored it. The type name and the
   * payload are checked against the catalog by the compiler and again at run time.
   */
  override emit<TResult = PublishResult, T extends keyof TCatalog & string = keyof TCatalog & string>(
    pattern: T,
    data: PayloadInput<TCatalog[T]>,
  ): Observable<TResult> {
    return super.emit<TResult>(pattern, data);
  }

  /** Resolves at once, because the publisher connects on its own. */
  connect(): Promise<void> {
    return Promise.resolve();
  }

  /** Closes the publisher if this client created it. */
  async close(): Promise<void> {
    if (this.ownsPublisher) {
      await this.publisher.close();
    }
  }

  /** Returns the underlying `EventPublisher`. */
  unwrap<T>(): T {
    return this.publisher as T;
  }

  /** Always throws: the event bus has no replies. Use `emit()` to publish an event. */
  override send<TResult = never, TInput = unknown>(pattern: unknown, _data: TInput): Observable<TResult> {
    throw new UnsupportedOperationError(
      `RedisStreamsClient does not support send() (request-response) for pattern ${JSON.stringify(pattern)}; use emit() to publish an event.`,
    );
  }

  protected publish(_packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({ err: new UnsupportedOperationError('RedisStreamsClient does not support request-response; use emit().'), isDisposed: true });
    return () => undefined;
  }

  protected async dispatchEvent<T = PublishResult>(packet: ReadPacket): Promise<T> {
    const type = typeof packet.pattern === 'string' ? packet.pattern : this.normalizePattern(packet.pattern as MsPattern);
    try {
      // emit() typed the pattern and data; publish() validates both again at run time.
      return (await this.publisher.publish(
        type as keyof TCatalog & string,
        packet.data as PayloadInput<TCatalog[keyof TCatalog & string]>,
      )) as T;
    } catch (error) {
      this.logger.error(`emit("${type}") failed: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }
}
