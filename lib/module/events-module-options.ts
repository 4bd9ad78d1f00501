import { hostname } from 'node:os';
import { InvalidOptionError } from '../errors/index.js';
import type { ConsumerOptions, PublisherOptions } from '../options/index.js';
import { validateName } from '../options/validate.js';
import type { RedisStreamsTransportOptions } from '../nest/index.js';

/** Options of `EventsModule.forRoot()`, or what the `forRootAsync()` factory returns. */
export interface EventsModuleOptions
  extends ConsumerOptions, Pick<PublisherOptions, 'maxLength' | 'publishTimeoutMs' | 'maxWaitingPublishes'> {
  /** Name of this service, such as `script-engine`: the source of its events and the base of its group name. */
  service: string;
  /** Consumer group. Default: `<service>-group`. */
  group?: string;
  /**
   * Consumer name within the group, unique per running replica. Default:
   * `<service>-<host name>-<process id>`.
   */
  consumer?: string;
}

/** Module options that the publisher takes; the transport takes the rest. */
const PUBLISHER_KEYS = [
  'redis',
  'stream',
  'maxLength',
  'publishTimeoutMs',
  'maxWaitingPublishes',
  'registry',
  'strict',
  'maxEventBytes',
] as const;

/** Module options split into what the publisher and the transport take. */
export interface ResolvedEventsModuleOptions {
  readonly service: string;
  readonly publisher: PublisherOptions;
  readonly transport: RedisStreamsTransportOptions;
}

/** Checks the service name and derives the group and consumer names that were not set. */
export function resolveEventsModuleOptions(options: EventsModuleOptions): ResolvedEventsModuleOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionError('EventsModule options', options, 'an object with at least { service }');
  }
  const service = validateName('service', options.service);
  const { group, consumer, maxLength, publishTimeoutMs, maxWaitingPublishes, service: _service, ...consumerOptions } = options;
  const publisher: PublisherOptions = {};
  for (const key of PUBLISHER_KEYS) {
    if (options[key] !== undefined) {
      Object.assign(publisher, { [key]: options[key] });
    }
  }
  return {
    service,
    publisher,
    transport: { ...consumerOptions, group: group ?? `${service}-group`, consumer: consumer ?? defaultConsumerName(service) },
  };
}

/** Returns a consumer name that differs between replicas and between restarts on one host. */
export function defaultConsumerName(service: string): string {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '_') || 'host';
  return `${service}-${host}-${process.pid}`;
}
