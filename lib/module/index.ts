export * from './events-module-options.js';
export * from './events-module.definition.js';
export * from './events.module.js';
