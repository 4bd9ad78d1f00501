export * from './error-details.js';
export * from './rate-limited-logger.js';
