export * from './idempotency-guard.js';
export * from './idempotency-locked.error.js';
export { IDEMPOTENCY_DEFAULTS, IDEMPOTENCY_LIMITS, type IdempotencyGuardOptions } from './idempotency-options.js';
