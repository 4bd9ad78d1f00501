import type { Redis } from 'ioredis';
import { IdempotencyGuard, IdempotencyLockedError, type IdempotencyGuardOptions } from '../../lib/idempotency/index.js';
import { EventsError, InvalidOptionError, type Delivery, type EventEnvelope } from '../../lib/index.js';
import { captureLogs } from '../support/capture-logs.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { inspectorClient } from '../support/stream-helpers.js';
import { uniqueKey, waitFor } from '../support/wait-for.js';

const DAY_MS = 24 * 60 * 60 * 1000;

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** A promise that never settles: work of a runner that crashed mid-way and never returns. */
function never(): Promise<never> {
  return new Promise<never>(() => undefined);
}

async function deleteKeysWithPrefix(client: Redis, prefix: string): Promise<void> {
  const keys: string[] = [];
  for await (const batch of client.scanStream({ match: `${prefix}:*`, count: 100 })) {
    keys.push(...(batch as string[]));
  }
  if (keys.length > 0) {
    await client.del(...keys);
  }
}

describe('IdempotencyGuard', () => {
  let redis: Redis;
  let keyPrefix: string;
  let guards: IdempotencyGuard[];
  let logs: ReturnType<typeof captureLogs>;

  beforeAll(() => {
    redis = inspectorClient();
  });

  afterAll(async () => {
    await redis.quit();
  });

  beforeEach(() => {
    logs = captureLogs();
    keyPrefix = uniqueKey('idempotency');
    guards = [];
  });

  afterEach(async () => {
    await Promise.all(guards.map((guard) => guard.close()));
    await deleteKeysWithPrefix(redis, keyPrefix);
    logs.restore();
  });

  function createGuard(options: IdempotencyGuardOptions = {}): IdempotencyGuard {
    const guard = new IdempotencyGuard({ keyPrefix, ...options });
    guards.push(guard);
    return guard;
  }

  it('runs once, then skips the same event', async () => {
    const guard = createGuard();
    let runs = 0;
    const work = async (): Promise<string> => {
      runs += 1;
      return 'sent';
    };

    const first = await guard.runOnce('mailer-group', 'event-1', work);
    const second = await guard.runOnce('mailer-group', 'event-1', work);

    expect(first).toEqual({ ran: true, result: 'sent' });
    expect(second).toEqual({ ran: false, reason: 'done' });
    expect(runs).toBe(1);
  });

  it('accepts synchronous work', async () => {
    const guard = createGuard();

    await expect(guard.runOnce('mailer-group', 'event-1', () => 42)).resolves.toEqual({ ran: true, result: 42 });
  });

  it('stores the marker under keyPrefix, group and event id', async () => {
    const guard = createGuard();

    await guard.runOnce('mailer-group', 'event-1', () => undefined);

    expect(guard.keyFor('mailer-group', 'event-1')).toBe(`${keyPrefix}:mailer-group:event-1`);
    expect(await redis.exists(`${keyPrefix}:mailer-group:event-1`)).toBe(1);
  });

  it('keeps the done marker for 7 days by default', async () => {
    const guard = createGuard();

    await guard.runOnce('mailer-group', 'event-1', () => undefined);

    const ttl = await redis.pttl(guard.keyFor('mailer-group', 'event-1'));
    expect(ttl).toBeGreaterThan(7 * DAY_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(7 * DAY_MS);
  });

  it('holds the lock for lockMs while work runs', async () => {
    const guard = createGuard({ lockMs: 60_000 });
    const gate = deferred();
    const started = deferred();

    const run = guard.runOnce('mailer-group', 'event-1', async () => {
      started.resolve();
      await gate.promise;
    });
    await started.promise;

    const ttl = await redis.pttl(guard.keyFor('mailer-group', 'event-1'));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);

    gate.resolve();
    await run;
  });

  it('runs again for another group', async () => {
    const guard = createGuard();
    const groups: string[] = [];

    await guard.runOnce('mailer-group', 'event-1', () => groups.push('mailer-group'));
    const other = await guard.runOnce('audit-group', 'event-1', () => groups.push('audit-group'));

    expect(other.ran).toBe(true);
    expect(groups).toEqual(['mailer-group', 'audit-group']);
  });

  it('runs again for another event id', async () => {
    const guard = createGuard();
    let runs = 0;

    await guard.runOnce('mailer-group', 'event-1', () => (runs += 1));
    await guard.runOnce('mailer-group', 'event-2', () => (runs += 1));

    expect(runs).toBe(2);
  });

  it('rethrows a failure and stays runnable', async () => {
    const guard = createGuard();
    const failure = new Error('SMTP server rejected the message');

    await expect(
      guard.runOnce('mailer-group', 'event-1', async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await redis.exists(guard.keyFor('mailer-group', 'event-1'))).toBe(0);

    const retry = await guard.runOnce('mailer-group', 'event-1', () => 'sent');
    expect(retry).toEqual({ ran: true, result: 'sent' });
  });

  it('rethrows a synchronous throw and stays runnable', async () => {
    const guard = createGuard();
    const failure = new TypeError('bad template');

    await expect(
      guard.runOnce('mailer-group', 'event-1', () => {
        throw failure;
      }),
    ).rejects.toBe(failure);

    expect(await redis.exists(guard.keyFor('mailer-group', 'event-1'))).toBe(0);
  });

  it('runs concurrent calls exactly once', async () => {
    // Two guards have two connections, like two consumers handling one claimed event.
    const first = createGuard();
    const second = createGuard();
    const gate = deferred();
    let runs = 0;
    const work = async (): Promise<string> => {
      runs += 1;
      await gate.promise;
      return 'sent';
    };

    const outcomes: Array<'fulfilled' | 'rejected'> = [];
    const calls = [first.runOnce('mailer-group', 'event-1', work), second.runOnce('mailer-group', 'event-1', work)].map((call) =>
      call.then(
        (value) => {
          outcomes.push('fulfilled');
          return value;
        },
        (error: unknown) => {
          outcomes.push('rejected');
          throw error;
        },
      ),
    );
    await waitFor(() => outcomes.length === 1, { message: 'one of the two calls to be rejected' });
    gate.resolve();
    const settled = await Promise.allSettled(calls);

    expect(runs).toBe(1);
    const fulfilled = settled.filter((result) => result.status === 'fulfilled');
    const rejected = settled.filter((result) => result.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(fulfilled[0]).toEqual({ status: 'fulfilled', value: { ran: true, result: 'sent' } });
    expect(rejected).toHaveLength(1);
    const error = (rejected[0] as PromiseRejectedResult).reason as unknown;
    expect(error).toBeInstanceOf(IdempotencyLockedError);
    expect(error).toBeInstanceOf(EventsError);
    const locked = error as IdempotencyLockedError;
    expect(locked.group).toBe('mailer-group');
    expect(locked.eventId).toBe('event-1');
    expect(locked.retryAfterMs).toBeGreaterThan(0);
    expect(locked.message).toContain('event-1');
    expect(locked.message).toContain('"mailer-group"');
    expect(locked.message).toContain('retried after the lock expires');
  });

  it('runs work once under many racing calls', async () => {
    const runners = [createGuard(), createGuard(), createGuard()];
    let runs = 0;
    const work = async (): Promise<void> => {
      runs += 1;
      await new Promise((resolve) => setImmediate(resolve));
    };

    const calls = Array.from({ length: 30 }, (_, index) => runners[index % runners.length]!.runOnce('mailer-group', 'event-1', work));
    const settled = await Promise.allSettled(calls);

    expect(runs).toBe(1);
    const ran = settled.filter((result) => result.status === 'fulfilled' && result.value.ran);
    expect(ran).toHaveLength(1);
    for (const result of settled) {
      if (result.status === 'rejected') {
        expect(result.reason).toBeInstanceOf(IdempotencyLockedError);
      } else if (!result.value.ran) {
        expect(result.value.reason).toBe('done');
      }
    }
  });

  it('retakes a lock whose holder died', async () => {
    const crashed = createGuard({ lockMs: 500 });
    const survivor = createGuard({ lockMs: 500 });
    const started = deferred();

    void crashed.runOnce('mailer-group', 'event-1', () => {
      started.resolve();
      return never();
    });
    await started.promise;
    await expect(survivor.runOnce('mailer-group', 'event-1', () => 'sent')).rejects.toBeInstanceOf(IdempotencyLockedError);

    let outcome: unknown;
    await waitFor(
      async () => {
        try {
          outcome = await survivor.runOnce('mailer-group', 'event-1', () => 'sent');
          return true;
        } catch (error) {
          if (error instanceof IdempotencyLockedError) {
            return false;
          }
          throw error;
        }
      },
      { timeoutMs: 5_000, message: 'the dead holder lock to expire' },
    );
    expect(outcome).toEqual({ ran: true, result: 'sent' });
  });

  it('forgets the done marker after ttlMs', async () => {
    const guard = createGuard({ ttlMs: 500 });
    const key = guard.keyFor('mailer-group', 'event-1');
    let runs = 0;

    await guard.runOnce('mailer-group', 'event-1', () => (runs += 1));
    expect(await redis.pttl(key)).toBeGreaterThan(0);
    expect(await redis.pttl(key)).toBeLessThanOrEqual(500);

    await waitFor(async () => (await redis.exists(key)) === 0, { timeoutMs: 5_000, message: 'the done marker to expire' });
    const again = await guard.runOnce('mailer-group', 'event-1', () => (runs += 1));

    expect(again.ran).toBe(true);
    expect(runs).toBe(2);
  });

  it('keeps a retaken lock when a late runner finishes', async () => {
    const slow = createGuard({ lockMs: 200 });
    const next = createGuard({ lockMs: 60_000 });
    const observer = createGuard();
    const key = slow.keyFor('mailer-group', 'event-1');
    const slowGate = deferred();
    const slowStarted = deferred();
    const nextGate = deferred();
    const nextStarted = deferred();

    const slowRun = slow.runOnce('mailer-group', 'event-1', async () => {
      slowStarted.resolve();
      await slowGate.promise;
      return 'slow';
    });
    await slowStarted.promise;
    await waitFor(async () => (await redis.exists(key)) === 0, { timeoutMs: 5_000, message: 'the slow runner lock to expire' });

    const nextRun = next.runOnce('mailer-group', 'event-1', async () => {
      nextStarted.resolve();
      await nextGate.promise;
      return 'next';
    });
    await nextStarted.promise;

    slowGate.resolve();
    // The slow runner's work did run, so it reports its result even though its lock was lost.
    await expect(slowRun).resolves.toEqual({ ran: true, result: 'slow' });
    expect(logs.text()).toContain('its lock expired first (lockMs 200)');

    // Had the slow runner written its done marker, this call would be skipped as 'done'.
    await expect(observer.runOnce('mailer-group', 'event-1', () => 'observer')).rejects.toBeInstanceOf(IdempotencyLockedError);
    expect(await redis.pttl(key)).toBeGreaterThan(50_000);

    nextGate.resolve();
    await expect(nextRun).resolves.toEqual({ ran: true, result: 'next' });
    await expect(observer.runOnce('mailer-group', 'event-1', () => 'observer')).resolves.toEqual({ ran: false, reason: 'done' });
  });

  it('wraps a bus handler by group and event id', async () => {
    const guard = createGuard();
    const calls: Array<[EventEnvelope<{ topicId: string }>, Delivery]> = [];
    const handler = guard.wrap<{ topicId: string }>((event, delivery) => {
      calls.push([event, delivery]);
    });
    const event: EventEnvelope<{ topicId: string }> = {
      id: 'c1a4a6f0-3d3b-4a57-9c55-0c2f2d1b7e10',
      type: 'topic.approved',
      source: 'topic-engine',
      occurredAt: '2024-01-01T00:00:00.000Z',
      schemaVersion: 1,
      correlationId: 'c1a4a6f0-3d3b-4a57-9c55-0c2f2d1b7e10',
      payload: { topicId: '123' },
    };
    const delivery: Delivery = {
      entryId: '1700000000000-0',
      stream: 'events',
      group: 'mailer-group',
      consumer: 'mailer-1',
      deliveryCount: 1,
    };
    const redelivery: Delivery = { ...delivery, consumer: 'mailer-2', deliveryCount: 2 };
    const otherGroup: Delivery = { ...delivery, group: 'audit-group' };

    await expect(handler(event, delivery)).resolves.toEqual({ ran: true, result: undefined });
    await expect(handler(event, redelivery)).resolves.toEqual({ ran: false, reason: 'done' });
    await expect(handler(event, otherGroup)).resolves.toEqual({ ran: true, result: undefined });

    expect(calls).toEqual([
      [event, delivery],
      [event, otherGroup],
    ]);
    expect(await redis.exists(guard.keyFor('mailer-group', event.id))).toBe(1);
  });

  it('rejects invalid options', () => {
    const cases: Array<[IdempotencyGuardOptions, string, string]> = [
      [{ keyPrefix: '' }, 'keyPrefix', 'a non-empty string'],
      [{ keyPrefix: 'has space' }, 'keyPrefix', 'without spaces'],
      [{ ttlMs: 0 }, 'ttlMs', 'an integer from 1 to 31622400000'],
      [{ ttlMs: 1.5 }, 'ttlMs', 'an integer from 1'],
      [{ ttlMs: 367 * DAY_MS }, 'ttlMs', 'to 31622400000'],
      [{ lockMs: -1 }, 'lockMs', 'an integer from 1 to 86400000'],
      [{ lockMs: Number.NaN }, 'lockMs', 'an integer from 1'],
      [{ lockMs: DAY_MS + 1 }, 'lockMs', 'to 86400000'],
      [{ lockMs: '5000' as unknown as number }, 'lockMs', 'got "5000"'],
      [{ redis: 'http://127.0.0.1:6379' }, 'redis', 'redis://'],
    ];
    for (const [options, option, expected] of cases) {
      let thrown: unknown;
      try {
        new IdempotencyGuard(options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InvalidOptionError);
      expect((thrown as InvalidOptionError).option).toBe(option);
      expect((thrown as InvalidOptionError).message).toContain(`"${option}"`);
      expect((thrown as InvalidOptionError).message).toContain(expected);
    }
  });

  it('rejects an invalid group, event id or work', async () => {
    const guard = createGuard();
    let runs = 0;

    await expect(guard.runOnce('', 'event-1', () => (runs += 1))).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(guard.runOnce('mailer-group', 'event 1', () => (runs += 1))).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(guard.runOnce('mailer-group', 'event-1', 'not a function' as unknown as () => number)).rejects.toThrow(
      'must be a function',
    );

    expect(runs).toBe(0);
    expect(await redis.exists(guard.keyFor('mailer-group', 'event-1'))).toBe(0);
  });

  it('rejects a key with foreign data', async () => {
    const guard = createGuard();
    const key = guard.keyFor('mailer-group', 'event-1');
    await redis.set(key, 'written by something else');
    let runs = 0;

    const call = guard.runOnce('mailer-group', 'event-1', () => (runs += 1));

    await expect(call).rejects.toThrow('Set keyPrefix to a prefix that no other data uses');
    await expect(call).rejects.not.toBeInstanceOf(IdempotencyLockedError);
    expect(runs).toBe(0);
    expect(await redis.get(key)).toBe('written by something else');
  });

  it('leaves a caller-owned client open', async () => {
    const client = inspectorClient();
    try {
      const guard = createGuard({ redis: client });
      await guard.runOnce('mailer-group', 'event-1', () => 'sent');

      await guard.close();

      expect(client.status).toBe('ready');
      expect(await client.ping()).toBe('PONG');
    } finally {
      await client.quit();
    }
  });

  it('rejects runOnce after close', async () => {
    const guard = createGuard();
    await guard.close();
    let runs = 0;

    await expect(guard.runOnce('mailer-group', 'event-1', () => (runs += 1))).rejects.toThrow('the idempotency guard is closed');
    expect(runs).toBe(0);
  });

  describe('with Redis failing', () => {
    let server: RedisServer;

    beforeAll(async () => {
      server = await startRedisServer();
    });

    afterAll(async () => {
      await server.stop();
    });

    beforeEach(async () => {
      if (!server.running) {
        await server.restart();
      }
    });

    // Fails commands at once instead of queueing them until Redis returns. Without the offline
    // queue, commands also fail before the first connect, so it waits for one call to pass.
    async function createFailFastGuard(): Promise<IdempotencyGuard> {
      const guard = createGuard({
        redis: { host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 100 },
      });
      await waitFor(() => guard.runOnce('mailer-group', 'warm-up', () => undefined).then(() => true), {
        message: 'the guard to connect to the throwaway Redis',
      });
      return guard;
    }

    it('returns the result when the done write fails', async () => {
      const guard = await createFailFastGuard();

      const outcome = await guard.runOnce('mailer-group', 'event-1', async () => {
        await server.kill();
        return 'sent';
      });

      expect(outcome).toEqual({ ran: true, result: 'sent' });
      expect(logs.text()).toContain('was handled, but writing its done marker');
      expect(logs.text()).toContain('A later delivery of the event can run the work again');
    });

    it('rethrows the work error when release fails', async () => {
      const guard = await createFailFastGuard();
      const failure = new Error('SMTP server rejected the message');

      const call = guard.runOnce('mailer-group', 'event-1', async () => {
        await server.kill();
        throw failure;
      });

      await expect(call).rejects.toBe(failure);
      expect(logs.text()).toContain('Failed to release the lock of event event-1');
    });

    it('skips work when the claim fails', async () => {
      const guard = await createFailFastGuard();
      await server.kill();
      let runs = 0;

      const call = guard.runOnce('mailer-group', 'event-1', () => (runs += 1));

      await expect(call).rejects.toBeInstanceOf(EventsError);
      await expect(call).rejects.toThrow('Failed to claim event event-1 of group "mailer-group"');
      expect(runs).toBe(0);

      await server.restart();
      await waitFor(
        async () => {
          try {
            await guard.runOnce('mailer-group', 'event-1', () => (runs += 1));
            return true;
          } catch {
            return false;
          }
        },
        { message: 'the claim to work after Redis restarted' },
      );
      expect(runs).toBe(1);
    });
  });
});
