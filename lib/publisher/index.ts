export * from './event-publisher.js';
export * from './publish-result.js';
