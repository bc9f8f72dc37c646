import { WardenError } from '../errors/catalogue.js';
import { MemoryLimitStore } from './memory-store.js';
import type { ConcurrencyCheck, LimitStore, ReservationTicket, ReserveResult, WindowCheck } from './store.js';

/** The shared store is unreachable and limits fail closed: the call is refused with a 503. */
export class LimitStoreUnavailableError extends WardenError {
  constructor(cause?: unknown) {
    super('limits_unavailable');
    this.name = 'LimitStoreUnavailableError';
    if (cause !== undefined) this.cause = cause;
  }
}

export interface FailoverOptions {
  /** `closed`: refuse while the primary is away. `open`: each replica enforces its share of every limit locally. */
  mode: 'open' | 'closed';
  /** Replicas sharing the limits (>= 1); the local share of a limit is limit / replicas. */
  replicas: number;
  /** While degraded, at most one call per interval tries the primary again. */
  probeIntervalMs?: number;
  /** A primary call that has not answered by then counts as failed (a backstop to the store's own timeout). */
  callTimeoutMs?: number;
  /** Once per outage, with the error that started it. */
  onUnavailable?(err: Error): void;
  /** Once per recovery. */
  onRecovered?(): void;
}

const DEFAULT_PROBE_INTERVAL_MS = 1000;
/** Above the Redis store's own command timeout (config allows up to 10 s), which normally fires first. */
const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/**
 * The shared store with a local fallback. While the primary answers, every
 * call goes to it. The first failure marks the store degraded; from then on
 * calls are refused (closed) or decided by an in-process MemoryLimitStore on
 * this replica's share of each limit (open), and one call per probe interval
 * tries the primary again, switching back as soon as it answers.
 *
 * settle() and release() follow the reservation to the store that made it
 * and never throw: a charge that cannot be moved is lost, a slot that cannot
 * be freed runs out with its lease.
 */
export class FailoverLimitStore implements LimitStore {
  readonly kind: LimitStore['kind'];
  readonly #primary: LimitStore;
  readonly #local = new MemoryLimitStore();
  /** Tickets the local store issued; every other ticket belongs to the primary. */
  readonly #localTickets = new WeakSet<ReservationTicket>();
  readonly #opts: FailoverOptions;
  readonly #probeIntervalMs: number;
  readonly #callTimeoutMs: number;
  #degraded = false;
  #nextProbeAt = 0;
  #probing = false;
  #updateErrors = 0;

  constructor(primary: LimitStore, opts: FailoverOptions) {
    if (!Number.isInteger(opts.replicas) || opts.replicas < 1) throw new RangeError(`replicas must be an integer >= 1, got ${opts.replicas}`);
    this.#primary = primary;
    this.kind = primary.kind;
    this.#opts = opts;
    this.#probeIntervalMs = opts.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    this.#callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  /** True while the primary is considered unreachable. */
  get degraded(): boolean {
    return this.#degraded;
  }

  /** settle()/release() calls that failed and were dropped (for a metric). */
  get updateErrors(): number {
    return this.#updateErrors;
  }

  async reserve(windows: WindowCheck[], concurrency: ConcurrencyCheck[], holder: string, leaseMs: number): Promise<ReserveResult> {
    if (!this.#degraded) {
      try {
        return await this.#primaryReserve(windows, concurrency, holder, leaseMs);
      } catch (err) {
        this.#markDegraded(err);
        return this.#fallback(windows, concurrency, holder, err);
      }
    }
    if (!this.#probing && Date.now() >= this.#nextProbeAt) {
      const answer = await this.#probe(windows, concurrency, holder, leaseMs);
      if (answer) return answer;
    }
    return this.#fallback(windows, concurrency, holder);
  }

  async settle(windows: WindowCheck[], ticket: ReservationTicket, deltas: number[]): Promise<void> {
    if (this.#localTickets.has(ticket)) {
      this.#local.settleNow(windows, ticket, deltas);
      return;
    }
    await this.#bestEffort(() => this.#primary.settle(windows, ticket, deltas));
  }

  async release(concurrency: ConcurrencyCheck[], ticket: ReservationTicket): Promise<void> {
    if (this.#localTickets.has(ticket)) {
      // The memory store counts in-flight per key; the scaled limits do not matter here.
      this.#local.releaseNow(concurrency);
      return;
    }
    await this.#bestEffort(() => this.#primary.release(concurrency, ticket));
  }

  async close(): Promise<void> {
    await Promise.all([this.#primary.close(), this.#local.close()]);
  }

  /** One try at the primary while degraded; the result when it answered, undefined when it is still away. */
  async #probe(windows: WindowCheck[], concurrency: ConcurrencyCheck[], holder: string, leaseMs: number): Promise<ReserveResult | undefined> {
    this.#probing = true;
    try {
      const result = await this.#primaryReserve(windows, concurrency, holder, leaseMs);
      this.#degraded = false;
      notify(() => this.#opts.onRecovered?.());
      return result;
    } catch {
      return undefined;
    } finally {
      this.#probing = false;
      this.#nextProbeAt = Date.now() + this.#probeIntervalMs;
    }
  }

  #primaryReserve(windows: WindowCheck[], concurrency: ConcurrencyCheck[], holder: string, leaseMs: number): Promise<ReserveResult> {
    const call = this.#primary.reserve(windows, concurrency, holder, leaseMs);
    return this.#bounded(call, () => {
      // Timed out here but may still land: give back what it took so the shared counters do not keep a call that was answered elsewhere.
      call.then(
        (late) => {
          if (!late.admitted) return;
          void this.#primary.settle(windows, late.ticket, windows.map((c) => -c.amount)).catch(() => undefined);
          void this.#primary.release(concurrency, late.ticket).catch(() => undefined);
        },
        () => undefined,
      );
    });
  }

  /** A settle or release on the primary: counted and dropped when it fails. */
  async #bestEffort(update: () => Promise<void>): Promise<void> {
    try {
      await this.#bounded(update());
    } catch {
      this.#updateErrors++;
    }
  }

  #markDegraded(err: unknown): void {
    if (this.#degraded) return;
    this.#degraded = true;
    this.#nextProbeAt = Date.now() + this.#probeIntervalMs;
    const error = err instanceof Error ? err : new Error(String(err));
    notify(() => this.#opts.onUnavailable?.(error));
  }

  #fallback(windows: WindowCheck[], concurrency: ConcurrencyCheck[], holder: string, cause?: unknown): ReserveResult {
    if (this.#opts.mode === 'closed') throw new LimitStoreUnavailableError(cause);
    const n = this.#opts.replicas;
    const result = this.#local.reserveNow(
      windows.map((c) => ({ ...c, limit: shareOf(c.limit, n, Number.isInteger(c.limit) && Number.isInteger(c.amount)) })),
      concurrency.map((c) => ({ ...c, limit: shareOf(c.limit, n, true) })),
      holder,
    );
    this.#localTickets.add(result.ticket);
    return result;
  }

  /** `p`, or a rejection once callTimeoutMs has passed (then `onLate` runs). */
  #bounded<T>(p: Promise<T>, onLate?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        onLate?.();
        reject(new Error(`The limit store did not answer within ${this.#callTimeoutMs} ms`));
      }, this.#callTimeoutMs);
      timer.unref();
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }
}

/**
 * This replica's share of a limit. Counts (requests, tokens, slots) stay
 * whole and at least 1, so a small limit is not shut off entirely; amounts
 * that are not whole (USD) are divided exactly. A window is taken as a count
 * when both its limit and this call's amount are integers.
 */
function shareOf(limit: number, replicas: number, whole: boolean): number {
  return whole ? Math.max(1, Math.floor(limit / replicas)) : limit / replicas;
}

/** A hook that throws must not turn a limit decision into an error. */
function notify(hook: () => void): void {
  try {
    hook();
  } catch {
    // The caller's hook failed; the store's state has already changed and stays correct.
  }
}
