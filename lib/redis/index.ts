export * from './mask-url.js';
export * from './redis-connection.js';
export * from './connection-logging.js';
export * from './managed-connection.js';
