export * from './consumer/index.js';
export * from './envelope/index.js';
export * from './errors/index.js';
export * from './module/index.js';
export * from './nest/index.js';
export * from './options/index.js';
export * from './publisher/index.js';
export { DEFAULT_REDIS_URL, maskRedisUrl, type RedisConnection } from './redis/index.js';
export * from './catalog/index.js';
