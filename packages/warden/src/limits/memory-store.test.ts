import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MemoryLimitStore } from './memory-store.js';
import type { WindowCheck } from './store.js';
import { BUCKETS } from './window.js';

function clock(start = 1_700_000_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

/** Largest number of admissions inside any closed span [t, t + windowMs]. */
function maxInAnySpan(times: number[], windowMs: number): number {
  const s = [...times].sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < s.length; i++) {
    while (s[i]! - s[j]! > windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/** Deterministic PRNG so a failure reproduces. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const check = (key: string, limit: number, windowMs = 1000, amount = 1): WindowCheck => ({ key, windowMs, limit, amount });

describe('sliding window exactness', () => {
  it('never admits more than the limit in any window-length span, under bursts at every window boundary', () => {
    const c = clock();
    const store = new MemoryLimitStore({ now: c.now });
    const W = 1000;
    const L = 10;
    const admitted: number[] = [];
    const start = c.t;
    // Bursts of 3×L straddling each boundary (1 ms before, at, and 1 ms after), for 20 windows.
    for (let k = 1; k <= 20; k++) {
      for (const offset of [-1, 0, 1, W / BUCKETS - 1, W / 2]) {
        c.t = start + k * W + offset;
        for (let i = 0; i < 3 * L; i++) if (store.reserveNow([check('k', L, W)], [], '').admitted) admitted.push(c.t);
      }
    }
    expect(maxInAnySpan(admitted, W)).toBeLessThanOrEqual(L);
    // And it is not trivially refusing: at least half the limit per window got through.
    expect(admitted.length).toBeGreaterThanOrEqual(20 * L * 0.5);
    void store.close();
  });

  it('holds for random arrival patterns across limits and windows (10 seeds)', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const r = rng(seed);
      const c = clock();
      const store = new MemoryLimitStore({ now: c.now });
      const W = [1000, 60_000][seed % 2]!;
      const L = 1 + Math.floor(r() * 50);
      const admitted: number[] = [];
      for (let i = 0; i < 5000; i++) {
        // Mostly small steps with occasional bursts (many calls in the same ms) and long gaps.
        const u = r();
        c.t += u < 0.3 ? 0 : u < 0.95 ? Math.floor(r() * (W / L)) : Math.floor(r() * W);
        if (store.reserveNow([check('k', L, W)], [], '').admitted) admitted.push(c.t);
      }
      expect(maxInAnySpan(admitted, W), `seed ${seed}, limit ${L}, window ${W}`).toBeLessThanOrEqual(L);
      void store.close();
    }
  });

  it('refuses with a Retry-After that is exactly when room frees up', () => {
    const c = clock(1_000_000); // a bucket boundary: buckets of 50 ms
    const store = new MemoryLimitStore({ now: c.now });
    for (let i = 0; i < 5; i++) expect(store.reserveNow([check('k', 5)], [], '').admitted).toBe(true);
    c.t += 10;
    const refused = store.reserveNow([check('k', 5)], [], '');
    expect(refused.admitted).toBe(false);
    expect(refused.windows[0]).toMatchObject({ used: 5, remaining: 0 });
    // The 5 calls sit in bucket [1 000 000, 1 000 050), which leaves the window after 1 s + one bucket.
    expect(refused.windows[0]!.retryAfterS).toBeCloseTo((1_000_000 + 1000 + 50 - c.t) / 1000, 6);
    c.t = 1_000_000 + 1000 + 49;
    expect(store.reserveNow([check('k', 5)], [], '').admitted).toBe(false);
    c.t = 1_000_000 + 1000 + 50;
    expect(store.reserveNow([check('k', 5)], [], '').admitted).toBe(true);
    void store.close();
  });

  it('charges nothing when any one of the checks refuses (all or nothing)', () => {
    const c = clock();
    const store = new MemoryLimitStore({ now: c.now });
    expect(store.reserveNow([check('small', 1)], [], '').admitted).toBe(true);
    const both = store.reserveNow([check('big', 100), check('small', 1)], [], '');
    expect(both.admitted).toBe(false);
    expect(both.refusedBy).toBe(1);
    expect(store.reserveNow([check('big', 100, 1000, 0)], [], '').windows[0]!.used).toBe(0);
    void store.close();
  });

  it('moves a settled charge to the actual amount, never below zero', () => {
    const c = clock();
    const store = new MemoryLimitStore({ now: c.now });
    const w = [check('t', 1000, 60_000, 400)];
    const r = store.reserveNow(w, [], '');
    store.settleNow(w, r.ticket, [-300]);
    expect(store.reserveNow([check('t', 1000, 60_000, 0)], [], '').windows[0]!.used).toBe(100);
    store.settleNow(w, r.ticket, [-5000]);
    expect(store.reserveNow([check('t', 1000, 60_000, 0)], [], '').windows[0]!.used).toBe(0);
    void store.close();
  });

  it('counts in-flight calls and frees a slot on release', () => {
    const store = new MemoryLimitStore();
    const conc = [{ key: 'c', limit: 2 }];
    expect(store.reserveNow([], conc, 'a').admitted).toBe(true);
    expect(store.reserveNow([], conc, 'b').admitted).toBe(true);
    const third = store.reserveNow([], conc, 'c');
    expect(third).toMatchObject({ admitted: false, refusedBy: 0, inFlight: [2] });
    store.releaseNow(conc);
    expect(store.reserveNow([], conc, 'd').admitted).toBe(true);
    void store.close();
  });
});

describe('memory is bounded', () => {
  it('a million distinct callers: their counters expire after the window and the memory is returned', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const c = clock();
    const store = new MemoryLimitStore({ now: c.now });
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1_000_000; i++) store.reserveNow([check(`caller-${i}`, 10)], [], '');
    expect(store.size).toBe(1_000_000);
    gc();
    const full = process.memoryUsage().heapUsed;
    expect(full - before).toBeGreaterThan(50 * 2 ** 20); // they really were held
    c.t += 1000 + 1000 / BUCKETS; // every bucket has left its 1 s window
    for (let i = 0; i < 25 && store.size > 0; i++) store.sweep();
    expect(store.size).toBe(0);
    gc();
    const after = process.memoryUsage().heapUsed;
    expect(after - before).toBeLessThan((full - before) * 0.1);
    void store.close();
  }, 60_000);
});
