export * from './dead-letter-entry.js';
export * from './dead-letter-store.js';
