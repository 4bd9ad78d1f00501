export * from './delivery.js';
export * from './event-consumer.js';
export * from './handler-registry.js';
export * from './stream-consumer.js';
export * from './consumer-stats.js';
export * from './entry-processor.js';
