import type { Redis } from 'ioredis';
import type { GroupStartPosition } from '../options/index.js';

/** Converts the start position option to the id that `XGROUP CREATE` expects. */
export function groupStartId(startFrom: GroupStartPosition): string {
  if (startFrom === 'new') {
    return '$';
  }
  return startFrom === 'all' ? '0' : startFrom;
}

/**
 * Creates the consumer group, and the stream with it (MKSTREAM). Returns false when the group
 * already existed, which is the normal case after the first start.
 */
export async function ensureConsumerGroup(client: Redis, stream: string, group: string, startFrom: GroupStartPosition): Promise<boolean> {
  try {
    await client.xgroup('CREATE', stream, group, groupStartId(startFrom), 'MKSTREAM');
    return true;
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('BUSYGROUP')) {
      return false;
    }
    throw error;
  }
}

/** Tells whether a Redis error means the stream or the group is gone (deleted, flushed, evicted). */
export function isMissingGroupError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOGROUP');
}

/**
 * Reads the id of the last entry delivered to the group (`XINFO GROUPS`), the position to recreate
 * the group at if it disappears. Returns undefined when the group is not found.
 */
export async function lastDeliveredId(client: Redis, stream: string, group: string): Promise<string | undefined> {
  const groups = (await client.xinfo('GROUPS', stream)) as unknown[];
  for (const info of groups) {
    if (!Array.isArray(info)) {
      continue;
    }
    const fields = new Map<string, unknown>();
    for (let index = 0; index + 1 < info.length; index += 2) {
      fields.set(String(info[index]), info[index + 1]);
    }
    if (fields.get('name') === group) {
      const id = fields.get('last-delivered-id');
      return typeof id === 'string' ? id : undefined;
    }
  }
  return undefined;
}
