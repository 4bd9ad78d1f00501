export * from './decode-entry.js';
export * from './encode-envelope.js';
export * from './event-envelope.js';
