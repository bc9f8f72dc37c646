import type { ConcurrencyCheck, LimitStore, ReservationTicket, ReserveResult, WindowCheck, WindowState } from './store.js';
import { BUCKETS, bucketIndex, resetS, retryAfterS } from './window.js';

/** One window's charged buckets: [index, amount, index, amount, …] in rising index order, expired ones pruned on use. */
interface Counter {
  windowMs: number;
  b: number[];
}

export interface MemoryStoreOptions {
  /** Clock in ms (tests drive it). */
  now?: () => number;
  /** How often the sweeper runs; every counter is visited within about 20 runs. */
  sweepIntervalMs?: number;
}

/**
 * Counters in this process: the default store, exact for one replica. A
 * counter whose buckets have all left its window is deleted by an
 * incremental sweep (a slice of the map per tick), so memory follows the
 * number of subjects active within their windows, not the number ever seen.
 */
export class MemoryLimitStore implements LimitStore {
  readonly kind = 'memory' as const;
  readonly #windows = new Map<string, Counter>();
  readonly #inFlight = new Map<string, number>();
  readonly #now: () => number;
  #sweep: Iterator<[string, Counter]> | undefined;
  #sweepBudget = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(opts: MemoryStoreOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#timer = setInterval(() => this.sweep(), opts.sweepIntervalMs ?? 250);
    this.#timer.unref();
  }

  /** Counters held now (for tests and the memory metric). */
  get size(): number {
    return this.#windows.size + this.#inFlight.size;
  }

  reserve(windows: WindowCheck[], concurrency: ConcurrencyCheck[], holder: string): Promise<ReserveResult> {
    return Promise.resolve(this.reserveNow(windows, concurrency, holder));
  }

  /** reserve() without the promise (the in-process limiter calls this directly). */
  reserveNow(windows: WindowCheck[], concurrency: ConcurrencyCheck[], holder: string): ReserveResult {
    const now = this.#now();
    const states: WindowState[] = [];
    const buckets: number[] = [];
    let refusedBy = -1;
    for (let i = 0; i < windows.length; i++) {
      const c = windows[i]!;
      const current = bucketIndex(now, c.windowMs);
      const counter = this.#live(c.key, c.windowMs, current);
      const used = sumOf(counter);
      buckets.push(current);
      const fits = used + c.amount <= c.limit;
      if (!fits && refusedBy < 0) refusedBy = i;
      states.push({ used, remaining: 0, retryAfterS: fits ? 0 : retryAfterS(pairs(counter), used, c.amount, c.limit, now, c.windowMs), resetS: 0 });
    }
    const inFlight = concurrency.map((c) => this.#inFlight.get(c.key) ?? 0);
    if (refusedBy < 0) {
      const full = concurrency.findIndex((c, i) => inFlight[i]! + 1 > c.limit);
      if (full >= 0) refusedBy = windows.length + full;
    }
    const admitted = refusedBy < 0;
    for (let i = 0; i < windows.length; i++) {
      const c = windows[i]!;
      const s = states[i]!;
      const counter = this.#windows.get(c.key);
      if (admitted && c.amount !== 0) {
        const counted = counter ?? { windowMs: c.windowMs, b: [] };
        if (!counter) this.#windows.set(c.key, counted);
        charge(counted, buckets[i]!, c.amount);
        s.used += c.amount;
      }
      s.remaining = Math.max(0, c.limit - s.used);
      const b = this.#windows.get(c.key)?.b;
      s.resetS = resetS(b && b.length ? b[b.length - 2] : undefined, now, c.windowMs);
    }
    if (admitted) {
      for (let i = 0; i < concurrency.length; i++) {
        const k = concurrency[i]!.key;
        this.#inFlight.set(k, (inFlight[i] = inFlight[i]! + 1));
      }
    }
    return { admitted, windows: states, inFlight, refusedBy, ticket: { buckets, holder } };
  }

  settle(windows: WindowCheck[], ticket: ReservationTicket, deltas: number[]): Promise<void> {
    this.settleNow(windows, ticket, deltas);
    return Promise.resolve();
  }

  settleNow(windows: WindowCheck[], ticket: ReservationTicket, deltas: number[]): void {
    for (let i = 0; i < windows.length; i++) {
      const d = deltas[i] ?? 0;
      if (d === 0) continue;
      const c = windows[i]!;
      const counter = this.#windows.get(c.key);
      const bucket = ticket.buckets[i]!;
      if (counter) adjust(counter, bucket, d);
      else if (d > 0 && bucketIndex(this.#now(), c.windowMs) - BUCKETS <= bucket) {
        // Swept meanwhile (a long stream): charge what was produced to a fresh counter.
        const fresh = { windowMs: c.windowMs, b: [] as number[] };
        charge(fresh, bucket, d);
        this.#windows.set(c.key, fresh);
      }
    }
  }

  release(concurrency: ConcurrencyCheck[]): Promise<void> {
    this.releaseNow(concurrency);
    return Promise.resolve();
  }

  releaseNow(concurrency: ConcurrencyCheck[]): void {
    for (const c of concurrency) {
      const n = (this.#inFlight.get(c.key) ?? 0) - 1;
      if (n > 0) this.#inFlight.set(c.key, n);
      else this.#inFlight.delete(c.key);
    }
  }

  /** Visits a slice of the counters and deletes those whose whole window has passed. */
  sweep(): void {
    const now = this.#now();
    if (!this.#sweep) {
      // Sized per pass, so one pass over any number of counters takes about 20 ticks.
      this.#sweepBudget = Math.max(5000, Math.ceil(this.#windows.size / 20));
      this.#sweep = this.#windows.entries();
    }
    for (let i = 0; i < this.#sweepBudget; i++) {
      const next = this.#sweep.next();
      if (next.done) {
        this.#sweep = undefined;
        return;
      }
      const [key, counter] = next.value;
      const b = counter.b;
      if (b.length === 0 || b[b.length - 2]! < bucketIndex(now, counter.windowMs) - BUCKETS) this.#windows.delete(key);
    }
  }

  close(): Promise<void> {
    clearInterval(this.#timer);
    this.#windows.clear();
    this.#inFlight.clear();
    return Promise.resolve();
  }

  /** The key's counter with its expired buckets dropped (undefined when it holds nothing). */
  #live(key: string, windowMs: number, current: number): Counter | undefined {
    const counter = this.#windows.get(key);
    if (!counter) return undefined;
    const oldest = current - BUCKETS;
    const b = counter.b;
    let drop = 0;
    while (drop < b.length && b[drop]! < oldest) drop += 2;
    if (drop > 0) b.splice(0, drop);
    if (b.length === 0 || counter.windowMs !== windowMs) {
      this.#windows.delete(key);
      return undefined;
    }
    return counter;
  }
}

function sumOf(counter: Counter | undefined): number {
  if (!counter) return 0;
  let s = 0;
  for (let i = 1; i < counter.b.length; i += 2) s += counter.b[i]!;
  return s;
}

function pairs(counter: Counter | undefined): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (!counter) return out;
  for (let i = 0; i < counter.b.length; i += 2) out.push([counter.b[i]!, counter.b[i + 1]!]);
  return out;
}

function charge(counter: Counter, bucket: number, amount: number): void {
  const b = counter.b;
  if (b.length && b[b.length - 2] === bucket) b[b.length - 1]! += amount;
  else if (!b.length || b[b.length - 2]! < bucket) b.push(bucket, amount);
  else adjust(counter, bucket, amount);
}

/** Adds `delta` to bucket `bucket` if it is still held (never below zero). */
function adjust(counter: Counter, bucket: number, delta: number): void {
  const b = counter.b;
  for (let i = 0; i < b.length; i += 2) {
    if (b[i] === bucket) {
      b[i + 1] = Math.max(0, b[i + 1]! + delta);
      return;
    }
    if (b[i]! > bucket) {
      if (delta > 0) b.splice(i, 0, bucket, delta);
      return;
    }
  }
  if (delta > 0) b.push(bucket, delta);
}
