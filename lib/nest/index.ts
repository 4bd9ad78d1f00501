export * from './event-errors.filter.js';
export * from './redis-streams.client.js';
export * from './redis-streams.context.js';
export * from './redis-streams.transport.js';
