export * from './events.error.js';
export * from './invalid-option.error.js';
export * from './publish.error.js';
export * from './unsupported-operation.error.js';
export * from './non-retryable-event.error.js';
