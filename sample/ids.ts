import { randomUUID } from 'node:crypto';

/** Returns a short id such as `script-1a2b3c4d`, unique enough for one sample run. */
export function newId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
