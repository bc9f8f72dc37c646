import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryLimitStore } from './memory-store.js';
import { RedisLimitStore } from './redis-store.js';
import type { WindowCheck } from './store.js';
import { bucketWidth } from './window.js';

// Real Redis on purpose: an unreachable server fails these tests rather than skipping them.
const REDIS_URL = process.env.WARDEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `warden:test:${randomUUID()}:`;
let store: RedisLimitStore;
let admin: Redis;

beforeAll(() => {
  store = new RedisLimitStore({ url: REDIS_URL, prefix });
  admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 1000, enableOfflineQueue: true });
  admin.on('error', () => undefined);
});

afterAll(async () => {
  await store.close();
  const keys = await admin.keys(`${prefix}*`).catch(() => []);
  if (keys.length) await admin.del(...keys);
  admin.disconnect();
});

/** A key no other test touches. */
function key(): string {
  return randomUUID();
}

function win(k: string, limit: number, amount: number, windowMs = 60_000): WindowCheck {
  return { key: k, windowMs, limit, amount };
}

async function usedOf(k: string, windowMs = 60_000): Promise<number> {
  const r = await store.reserve([win(k, Number.MAX_SAFE_INTEGER, 0, windowMs)], [], '', 1000);
  return r.windows[0]!.used;
}

describe('RedisLimitStore windows', () => {
  it('admits calls within the limit and refuses the next with retryAfterS > 0 and remaining 0', async () => {
    const k = key();
    for (let i = 1; i <= 3; i++) {
      const r = await store.reserve([win(k, 3, 1)], [], '', 1000);
      expect(r.admitted).toBe(true);
      expect(r.windows[0]).toMatchObject({ used: i, remaining: 3 - i, retryAfterS: 0 });
      expect(r.windows[0]!.resetS).toBeGreaterThan(0);
    }
    const refused = await store.reserve([win(k, 3, 1)], [], '', 1000);
    expect(refused.admitted).toBe(false);
    expect(refused.refusedBy).toBe(0);
    expect(refused.windows[0]!.remaining).toBe(0);
    expect(refused.windows[0]!.retryAfterS).toBeGreaterThan(0);
    expect(refused.windows[0]!.retryAfterS).toBeLessThanOrEqual(63);
  });

  it('charges nothing for a refused call', async () => {
    const k = key();
    await store.reserve([win(k, 5, 4)], [], '', 1000);
    const refused = await store.reserve([win(k, 5, 2)], [], '', 1000);
    expect(refused.admitted).toBe(false);
    expect(refused.windows[0]!.used).toBe(4);
    expect(await usedOf(k)).toBe(4);
  });

  it('refuses an amount larger than the limit with retryAfterS Infinity', async () => {
    const r = await store.reserve([win(key(), 5, 6)], [], '', 1000);
    expect(r.admitted).toBe(false);
    expect(r.windows[0]!.retryAfterS).toBe(Infinity);
  });

  it('charges neither window when one of two is full', async () => {
    const roomy = key();
    const full = key();
    await store.reserve([win(full, 2, 2)], [], '', 1000);
    const r = await store.reserve([win(roomy, 10, 1), win(full, 2, 1)], [], '', 1000);
    expect(r.admitted).toBe(false);
    expect(r.refusedBy).toBe(1);
    expect(r.windows.map((w) => w.used)).toEqual([0, 2]);
    expect(r.windows[0]!.retryAfterS).toBe(0);
    expect(await usedOf(roomy)).toBe(0);
    expect(await usedOf(full)).toBe(2);
  });

  it('names the current bucket of each window in the ticket', async () => {
    const r = await store.reserve([win(key(), 10, 1, 1000), win(key(), 10, 1, 60_000)], [], 'h', 1000);
    expect(r.ticket.buckets).toEqual([Math.floor(r.serverNowMs / 50), Math.floor(r.serverNowMs / 3000)]);
    expect(r.ticket.holder).toBe('h');
  });

  it('sums fractional USD amounts exactly and refuses what would pass a fractional limit', async () => {
    const k = key();
    for (const amount of [0.25, 0.5, 0.125]) expect((await store.reserve([win(k, 1, amount)], [], '', 1000)).admitted).toBe(true);
    expect(await usedOf(k)).toBe(0.875);
    const over = await store.reserve([win(k, 1, 0.2)], [], '', 1000);
    expect(over.admitted).toBe(false);
    expect(over.windows[0]!.remaining).toBe(0.125);
    expect((await store.reserve([win(k, 1, 0.125)], [], '', 1000)).windows[0]!.used).toBe(1);
  });

  it('keeps a sum of decimal amounts within a float rounding of the exact total', async () => {
    const k = key();
    for (let i = 0; i < 10; i++) await store.reserve([win(k, 100, 0.1)], [], '', 1000);
    expect(await usedOf(k)).toBeCloseTo(1, 12);
  });
});

describe('RedisLimitStore settle', () => {
  it('moves a charge from the estimate to the actual amount (estimate 100, actual 30: used drops by 70)', async () => {
    const k = key();
    const w = win(k, 1000, 100);
    await store.reserve([win(k, 1000, 50)], [], '', 1000);
    const r = await store.reserve([w], [], '', 1000);
    expect(r.windows[0]!.used).toBe(150);
    await store.settle([w], r.ticket, [30 - 100]);
    expect(await usedOf(k)).toBe(80);
  });

  it('never takes a bucket below zero', async () => {
    const k = key();
    const w = win(k, 1000, 10);
    const r = await store.reserve([w], [], '', 1000);
    await store.settle([w], r.ticket, [-500]);
    expect(await usedOf(k)).toBe(0);
  });

  it('adds a positive delta to a bucket whose hash was deleted meanwhile', async () => {
    const k = key();
    const w = win(k, 1000, 10);
    const r = await store.reserve([w], [], '', 1000);
    await admin.del(`${prefix}w:${k}`);
    await store.settle([w], r.ticket, [7]);
    expect(await usedOf(k)).toBe(7);
    expect(await admin.pttl(`${prefix}w:${k}`)).toBeGreaterThan(0);
  });

  it('ignores a delta for a bucket that has left its window', async () => {
    const k = key();
    const w = win(k, 100, 1, 200);
    const r = await store.reserve([w], [], '', 1000);
    await sleep(260);
    await store.settle([w], r.ticket, [5]);
    expect(await admin.exists(`${prefix}w:${k}`)).toBe(0);
  });
});

describe('RedisLimitStore concurrency', () => {
  it('admits three holders at limit 3, refuses a fourth, and admits one more after a release', async () => {
    const c = [{ key: key(), limit: 3 }];
    const tickets = [];
    for (let i = 1; i <= 3; i++) {
      const r = await store.reserve([], c, `h${i}`, 60_000);
      expect(r.admitted).toBe(true);
      expect(r.inFlight).toEqual([i]);
      tickets.push(r.ticket);
    }
    const fourth = await store.reserve([], c, 'h4', 60_000);
    expect(fourth).toMatchObject({ admitted: false, refusedBy: 0, inFlight: [3] });
    await store.release(c, tickets[1]!);
    const fifth = await store.reserve([], c, 'h5', 60_000);
    expect(fifth).toMatchObject({ admitted: true, inFlight: [3] });
  });

  it('frees the slot of a holder whose lease expired without a release', async () => {
    const c = [{ key: key(), limit: 1 }];
    expect((await store.reserve([], c, 'dead-replica', 200)).admitted).toBe(true);
    expect((await store.reserve([], c, 'other', 200)).admitted).toBe(false);
    await sleep(260);
    expect(await store.reserve([], c, 'other', 200)).toMatchObject({ admitted: true, inFlight: [1] });
  });

  it('reports refusedBy past the windows for a full concurrency counter and charges no window', async () => {
    const k = key();
    const c = [{ key: key(), limit: 1 }];
    await store.reserve([], c, 'a', 60_000);
    const r = await store.reserve([win(k, 10, 1)], c, 'b', 60_000);
    expect(r).toMatchObject({ admitted: false, refusedBy: 1 });
    expect(await usedOf(k)).toBe(0);
  });
});

describe('RedisLimitStore across replicas and time', () => {
  it('admits exactly 50 of 400 concurrent reserves from four connections at limit 50', async () => {
    const stores = [0, 1, 2, 3].map(() => new RedisLimitStore({ url: REDIS_URL, prefix, commandTimeoutMs: 5000 }));
    try {
      await Promise.all(stores.map((s) => s.ready(5000)));
      const k = key();
      const results = await Promise.all(Array.from({ length: 400 }, (_, i) => stores[i % 4]!.reserve([win(k, 50, 1)], [], '', 1000)));
      expect(results.filter((r) => r.admitted)).toHaveLength(50);
      expect(await usedOf(k)).toBe(50);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('never admits more than 10 in any 1 s span over 3 s of bursts at window boundaries (real clock)', async () => {
    const k = key();
    const admittedAt: number[] = [];
    const fire = async (n: number): Promise<void> => {
      const rs = await Promise.all(Array.from({ length: n }, () => store.reserve([win(k, 10, 1, 1000)], [], '', 1000)));
      for (const r of rs) if (r.admitted) admittedAt.push(r.serverNowMs);
    };
    const start = Date.now();
    while (Date.now() - start < 3200) {
      const phase = Date.now() % 1000;
      // Heavy bursts just before and after each whole second and mid-window; a trickle between.
      const nearEdge = phase > 985 || phase < 15 || (phase > 490 && phase < 510);
      await fire(nearEdge ? 15 : 2);
      await sleep(5);
    }
    admittedAt.sort((a, b) => a - b);
    let worst = 0;
    for (let i = 0, j = 0; i < admittedAt.length; i++) {
      while (admittedAt[i]! - admittedAt[j]! > 1000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(worst).toBeLessThanOrEqual(10);
    // Not vacuous: the window did keep admitting as buckets slid out.
    expect(admittedAt.length).toBeGreaterThanOrEqual(25);
  });

  it('lets the window hash expire one bucket after a whole window', async () => {
    const k = key();
    const windowMs = 400;
    await store.reserve([win(k, 10, 1, windowMs)], [], '', 1000);
    const ttl = await admin.pttl(`${prefix}w:${k}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(windowMs + bucketWidth(windowMs));
    await sleep(windowMs + bucketWidth(windowMs) + 30);
    expect(await admin.exists(`${prefix}w:${k}`)).toBe(0);
  });

  it('drops buckets that left the window from a hash that is still in use', async () => {
    const k = key();
    const windowMs = 1000;
    const first = await store.reserve([win(k, 10, 1, windowMs)], [], '', 1000);
    await sleep(600);
    await store.reserve([win(k, 10, 1, windowMs)], [], '', 1000);
    // The first bucket leaves at most 21 widths (1050 ms) after its charge; the second stays until at least 600 + 1000 ms.
    await sleep(500);
    const third = await store.reserve([win(k, 10, 1, windowMs)], [], '', 1000);
    expect(third.windows[0]!.used).toBe(2);
    expect(await admin.hexists(`${prefix}w:${k}`, String(first.ticket.buckets[0]))).toBe(0);
    expect(await admin.hlen(`${prefix}w:${k}`)).toBe(2);
  });

  it('lets the concurrency zset expire after the lease', async () => {
    const c = [{ key: key(), limit: 5 }];
    await store.reserve([], c, 'h', 200);
    expect(await admin.pttl(`${prefix}c:${c[0]!.key}`)).toBeGreaterThan(0);
    await sleep(250);
    expect(await admin.exists(`${prefix}c:${c[0]!.key}`)).toBe(0);
  });

  it('decides a sequence of calls as MemoryLimitStore does', async () => {
    const memory = new MemoryLimitStore();
    try {
      const a = key();
      const b = key();
      const c = [{ key: key(), limit: 2 }];
      // An hour-long window: both stores stay in one bucket whatever their clocks.
      const calls = [3, 4, 1, 2.5, 0, 5, 0.5].map((amount) => [win(a, 8, amount, 3_600_000), win(b, 20, 1, 3_600_000)]);
      for (const [i, ws] of calls.entries()) {
        const got = await store.reserve(ws, i % 3 === 0 ? c : [], `h${i}`, 60_000);
        const want = memory.reserveNow(ws, i % 3 === 0 ? c : [], `h${i}`);
        expect({ admitted: got.admitted, refusedBy: got.refusedBy, inFlight: got.inFlight }).toEqual({ admitted: want.admitted, refusedBy: want.refusedBy, inFlight: want.inFlight });
        for (const [j, w] of want.windows.entries()) {
          expect(got.windows[j]).toMatchObject({ used: w.used, remaining: w.remaining });
          expect(got.windows[j]!.retryAfterS).toBeCloseTo(w.retryAfterS, 0);
          expect(got.windows[j]!.resetS).toBeCloseTo(w.resetS, 0);
        }
      }
    } finally {
      await memory.close();
    }
  });
});
