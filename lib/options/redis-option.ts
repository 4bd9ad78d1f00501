import { InvalidOptionError } from '../errors/index.js';
import { isRedisClient, maskRedisUrl, type RedisConnection } from '../redis/index.js';

/** Accepts a redis:// or rediss:// URL, an ioredis instance, or ioredis options with an optional `url`. */
export function validateRedisConnection(value: unknown): RedisConnection | undefined {
  if (value === undefined || isRedisClient(value)) {
    return value;
  }
  if (typeof value === 'string') {
    validateUrl('redis', value);
    return value;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const { url } = value as { url?: unknown };
    if (url !== undefined) {
      validateUrl('redis.url', url);
    }
    return value;
  }
  throw new InvalidOptionError('redis', value, 'a redis:// URL, an ioredis instance or ioredis options');
}

function validateUrl(option: string, value: unknown): void {
  if (typeof value !== 'string' || !/^(redis|rediss):\/\/[^\s]*$/i.test(value)) {
    throw new InvalidOptionError(
      option,
      typeof value === 'string' ? maskRedisUrl(value) : value,
      'a URL starting with redis:// or rediss://',
    );
  }
}
