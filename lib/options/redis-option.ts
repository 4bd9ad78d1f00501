import { InvalidOptionError } from '../errors/index.js';
import { isRedisClient, maskRedisUrl, type RedisConnection } from '../redis/index.js';

/** Accepts a redis:// or rediss:// URL, an ioredis instance, or an ioredis options object. */
export function validateRedisConnection(value: unknown): RedisConnection | undefined {
  if (value === undefined || isRedisClient(value)) {
    return value;
  }
  if (typeof value === 'string') {
    if (!/^(redis|rediss):\/\/[^\s]*$/i.test(value)) {
      throw new InvalidOptionError('redis', maskRedisUrl(value), 'a URL starting with redis:// or rediss://');
    }
    return value;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return value;
  }
  throw new InvalidOptionError('redis', value, 'a redis:// URL, an ioredis instance or ioredis options');
}
