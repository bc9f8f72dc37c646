import type { WardenEvent } from './event.js';
import { type EventJson, eventJson, parseEventJson } from './json.js';

/** Where batches go: events as eventJson text, in order, in one transaction. */
export interface EventStore {
  appendEventJson(events: EventJson[]): Promise<void>;
}

/** An EventStore over a storage adapter in this thread (used when the store cannot be opened twice). */
export function inlineEventStore(storage: { appendEvents(events: WardenEvent[]): Promise<void> }): EventStore {
  return { appendEventJson: (events) => storage.appendEvents(events.map(parseEventJson)) };
}

export interface EventWriterOptions {
  batchSize: number;
  flushIntervalMs: number;
  queueLimit: number;
}

export interface EventWriterHooks {
  written?(count: number, seconds: number): void;
  dropped?(count: number): void;
  failed?(err: unknown): void;
}

/**
 * Group commit for events, off the request path (the shape of OTel's
 * BatchSpanProcessor): emit() only enqueues; a timer or a full batch triggers
 * one write; a failed write keeps its events at the head of the queue and is
 * retried with backoff; only when the in-memory queue is full are new events
 * dropped, and then they are counted. close() writes everything still queued.
 */
export class EventWriter {
  private queue: EventJson[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;
  private failures = 0;
  private droppedTotal = 0;
  private writtenTotal = 0;
  private lastErrorMessage: string | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly opts: EventWriterOptions,
    private readonly hooks: EventWriterHooks = {},
  ) {}

  /** Never throws, never blocks. */
  emit(event: WardenEvent): void {
    this.emitJson(eventJson(event));
  }

  /** emit() for an event the caller already serialised with eventJson (the request path, which logs the same text). */
  emitJson(event: EventJson): void {
    if (this.queue.length >= this.opts.queueLimit) {
      this.droppedTotal++;
      this.hooks.dropped?.(1);
      return;
    }
    this.queue.push(event);
    if (this.queue.length >= this.opts.batchSize && !this.inFlight && this.failures === 0) this.kick(0);
    else if (!this.timer && !this.inFlight) this.kick(this.opts.flushIntervalMs);
  }

  get depth(): number {
    return this.queue.length;
  }

  stats(): { depth: number; written: number; dropped: number; consecutiveFailures: number; lastError: string | null } {
    return {
      depth: this.queue.length,
      written: this.writtenTotal,
      dropped: this.droppedTotal,
      consecutiveFailures: this.failures,
      lastError: this.lastErrorMessage,
    };
  }

  /** Write everything queued now; resolves when the queue is empty or a write fails. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.inFlight) await this.inFlight;
    while (this.queue.length > 0) {
      await this.writeBatch();
      if (this.failures > 0) return;
    }
  }

  /**
   * Stop the timer and write what is queued, retrying failed writes until
   * `deadlineMs` has passed. Returns how many events could not be written.
   */
  async close(deadlineMs = 10_000): Promise<number> {
    this.closed = true;
    const until = Date.now() + deadlineMs;
    for (;;) {
      await this.flush();
      if (this.queue.length === 0 || Date.now() >= until) break;
      await new Promise((r) => setTimeout(r, Math.min(200, Math.max(0, until - Date.now()))));
    }
    return this.queue.length;
  }

  private kick(delayMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeBatch().then(() => this.scheduleNext());
    }, delayMs);
    this.timer.unref?.();
  }

  private scheduleNext(): void {
    if (this.queue.length === 0 || this.closed) return;
    // After failures, back off exponentially up to 5 s so a dead database is not hammered.
    const backoff = this.failures > 0 ? Math.min(5000, 100 * 2 ** (this.failures - 1)) : 0;
    const full = this.queue.length >= this.opts.batchSize;
    this.kick(this.failures > 0 ? backoff : full ? 0 : this.opts.flushIntervalMs);
  }

  private writeBatch(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.queue.length === 0) return Promise.resolve();
    const batch = this.queue.slice(0, this.opts.batchSize);
    const started = process.hrtime.bigint();
    this.inFlight = this.store
      .appendEventJson(batch)
      .then(
        () => {
          this.queue.splice(0, batch.length);
          this.failures = 0;
          this.writtenTotal += batch.length;
          this.hooks.written?.(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
        },
        (err: unknown) => {
          this.failures++;
          this.lastErrorMessage = err instanceof Error ? err.message : String(err);
          this.hooks.failed?.(err);
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}
