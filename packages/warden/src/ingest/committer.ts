import { WardenError } from '../errors/index.js';
import { WriterThreadLost } from '../events/index.js';
import type { AppendOutcome, TraceEventInput, TraceStore } from '../storage/index.js';

interface Pending {
  events: readonly TraceEventInput[];
  resolve(outcomes: AppendOutcome[]): void;
  reject(err: unknown): void;
}

/**
 * Group commit for acknowledged writes: every request's batch that arrives
 * while a transaction is being written joins the next one, so many requests
 * share one commit (one fsync on PostgreSQL, one write lock on SQLite).
 * Unlike the event writer's, a caller waits: commit() resolves only when its
 * events are committed, and rejects if that transaction fails, so nothing is
 * acknowledged that is not stored. When a shared transaction fails, each
 * batch in it is retried in a transaction of its own, so one bad batch
 * fails alone.
 */
export class GroupCommitter {
  #queue: Pending[] = [];
  #lastRefusal = 0;
  #queued = 0;
  #writing = false;

  constructor(
    private readonly store: Pick<TraceStore, 'appendTraceEvents'>,
    /** Events per transaction, at most; a larger group is split. */
    private readonly maxEvents = 5000,
    /** Events waiting, at most: beyond it a batch is refused at once (503, Retry-After) instead of queued without bound. */
    private readonly maxQueued = 50_000,
  ) {}

  commit(events: readonly TraceEventInput[]): Promise<AppendOutcome[]> {
    if (this.#queued + events.length > this.maxQueued && this.#queued > 0) {
      this.#lastRefusal = Date.now();
      return Promise.reject(new WardenError('ingest_overloaded', undefined, { 'retry-after': '1' }));
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      this.#queued += events.length;
      if (!this.#writing) {
        this.#writing = true;
        // Let the requests already parsed in this turn of the event loop join the group.
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const group: Pending[] = [];
      let n = 0;
      while (this.#queue.length > 0 && (group.length === 0 || n + this.#queue[0]!.events.length <= this.maxEvents)) {
        const p = this.#queue.shift()!;
        group.push(p);
        n += p.events.length;
      }
      this.#queued -= n;
      try {
        const outcomes = await this.store.appendTraceEvents(group.flatMap((p) => p.events));
        let at = 0;
        for (const p of group) {
          p.resolve(outcomes.slice(at, at + p.events.length));
          at += p.events.length;
        }
      } catch (err) {
        // One request's batch must not fail the others it shared a transaction with: each is tried alone.
        // Unless the transaction may have committed (the writer thread died unanswered): then none is retried.
        if (group.length === 1 || err instanceof WriterThreadLost) for (const p of group) p.reject(err);
        else for (const p of group) await this.store.appendTraceEvents(p.events).then(p.resolve, p.reject);
      }
    }
    this.#writing = false;
    for (const wake of this.#idle.splice(0)) wake();
  }

  #idle: Array<() => void> = [];

  /** Resolves once nothing is queued or being written (shutdown waits for it before closing the store). */
  idle(): Promise<void> {
    if (!this.#writing && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Events waiting for the next transaction. */
  get depth(): number {
    return this.#queued;
  }

  /** When a batch was last refused for a full queue (ms since the epoch; 0: never). */
  get lastRefusal(): number {
    return this.#lastRefusal;
  }

  /** Events that may wait before a batch is refused. */
  get capacity(): number {
    return this.maxQueued;
  }
}
