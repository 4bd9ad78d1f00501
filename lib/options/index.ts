export * from './consumer-options.js';
export * from './defaults.js';
export * from './publisher-options.js';
export * from './retry-policy.js';
