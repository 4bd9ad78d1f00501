import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { RedisStreamsClient, RedisStreamsTransport } from '../nest/index.js';
import { EventPublisher } from '../publisher/index.js';
import { ConfigurableEventsModule, EVENTS_MODULE_OPTIONS } from './events-module.definition.js';
import { resolveEventsModuleOptions, type EventsModuleOptions } from './events-module-options.js';

/**
 * Wires the event bus into a Nest application: an `EventPublisher` whose source is the service,
 * a `RedisStreamsClient` for `emit()`, and a `RedisStreamsTransport` for the service's consumer
 * group, which `main.ts` connects with `app.connectMicroservice({ strategy })`.
 */
@Module({
  providers: [
    {
      provide: EventPublisher,
      inject: [EVENTS_MODULE_OPTIONS],
      useFactory: (options: EventsModuleOptions) => {
        const { service, publisher } = resolveEventsModuleOptions(options);
        return new EventPublisher(service, publisher);
      },
    },
    {
      provide: RedisStreamsClient,
      inject: [EventPublisher],
      useFactory: (publisher: EventPublisher) => new RedisStreamsClient({ publisher }),
    },
    {
      provide: RedisStreamsTransport,
      inject: [EVENTS_MODULE_OPTIONS],
      useFactory: (options: EventsModuleOptions) => new RedisStreamsTransport(resolveEventsModuleOptions(options).transport),
    },
  ],
  exports: [EventPublisher, RedisStreamsClient, RedisStreamsTransport, EVENTS_MODULE_OPTIONS],
})
export class EventsModule extends ConfigurableEventsModule implements OnApplicationShutdown {
  constructor(@Inject(EventPublisher) private readonly publisher: EventPublisher) {
    super();
  }

  /** Closes the publisher after Nest closed the transport, so handlers can publish until the end. */
  async onApplicationShutdown(): Promise<void> {
    await this.publisher.close();
  }
}
