import { CircuitBreaker, type CircuitPolicy, type CircuitState } from './circuit.js';
import { Deliverer, type Delivery, type RetryPolicy } from './delivery.js';
import { WardenSdkError } from './errors.js';
import { Spool } from './spool.js';
import type { Op, Transport } from './transport.js';
import type { EventRejection } from './types.js';

/**
 * The one ordered queue between the SDK's callers and Warden, like
 * OpenTelemetry's BatchSpanProcessor: recording never blocks nor throws,
 * events gather into batches sealed by count, size or age, and a single
 * worker sends them one at a time, so a run's create always reaches Warden
 * before its events and its finalize after them.
 *
 * When Warden cannot be reached the queue moves to the spool (when there is
 * one), whose entries are older than anything left in memory: the worker
 * always replays the spool first, so order holds across outages and
 * restarts.
 */

export interface PipelineOptions {
  transport: Transport;
  maxBatchEvents: number;
  maxBatchBytes: number;
  flushIntervalMs: number;
  retry: RetryPolicy;
  circuit: CircuitPolicy;
  spoolDir: string | undefined;
  maxSpoolBytes: number;
  maxQueuedEvents: number;
  report: (err: WardenSdkError) => void;
  onRejected: (rejections: EventRejection[]) => void;
  random?: () => number;
}

export interface PipelineStats {
  circuit: CircuitState;
  /** Events waiting in memory. */
  queuedEvents: number;
  /** Files waiting in the spool. */
  spooledBatches: number;
  /** Events dropped because the queue was full with nowhere to spool them. */
  droppedEvents: number;
}

type EntryState = 'queued' | 'acked' | 'dropped' | 'spooled' | 'held';

/** An op waiting in memory, and what became of it. */
export class Entry {
  state: EntryState = 'queued';
  /** Set once a copy is in the spool (the op in flight keeps its place in memory as well). */
  spoolName: string | undefined;
  result: unknown;
  private waiters: Array<() => void> = [];

  constructor(readonly op: Op) {}

  get events(): number {
    return this.op.kind === 'events' ? this.op.events.length : 0;
  }

  settle(state: Exclude<EntryState, 'queued'>, result?: unknown): void {
    this.state = state;
    this.result = result;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once the op is acknowledged, dropped, spooled, or held in memory while Warden is away. */
  settled(): Promise<void> {
    return this.state === 'queued' ? new Promise((resolve) => this.waiters.push(resolve)) : Promise.resolve();
  }
}

interface OpenBatch {
  events: string[];
  bytes: number;
  timer: NodeJS.Timeout;
}

type Next = { entry: Entry; op: Op } | { spoolName: string; op: Op };

const PUMP_RETRY_MS = 1000;
const EMPTY_BATCH_BYTES = Buffer.byteLength('{"events":[]}');

export class DeliveryPipeline {
  private readonly memory: Entry[] = [];
  private open: OpenBatch | undefined;
  private queued = 0;
  private inflight: Entry | undefined;
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  private spilling: Promise<void> | undefined;
  private wake: NodeJS.Timeout | undefined;
  private spool: Spool | undefined;
  private readonly spoolReady: Promise<void>;
  private readonly stop = new AbortController();
  private readonly circuit: CircuitBreaker;
  private readonly deliverer: Deliverer;
  private waiters: Array<{ done: () => boolean; resolve: () => void }> = [];
  private rescanDue = false;
  private dropped = 0;
  private overflowing = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly o: PipelineOptions) {
    // A probe that gets through means Warden is back: look again for files other processes left.
    this.circuit = new CircuitBreaker(o.circuit, Date.now, (from, to) => {
      if (from === 'half_open' && to === 'closed') this.rescanDue = true;
    });
    this.deliverer = new Deliverer({ transport: o.transport, circuit: this.circuit, retry: o.retry, stop: this.stop.signal, report: o.report, onRejected: o.onRejected, ...(o.random && { random: o.random }) });
    this.spoolReady =
      o.spoolDir === undefined
        ? Promise.resolve()
        : Spool.open(o.spoolDir, o.maxSpoolBytes).then(
            (s) => {
              this.spool = s;
              // What a previous process left is replayed as soon as Warden answers.
              if (s.count > 0) this.kick();
            },
            (err: unknown) => o.report(new WardenSdkError('spool_error', `The spool directory ${o.spoolDir} cannot be used: ${(err as Error).message}. Continuing without it.`, { cause: err })),
          );
  }

  stats(): PipelineStats {
    return { circuit: this.circuit.current, queuedEvents: this.queued, spooledBatches: this.spool?.count ?? 0, droppedEvents: this.dropped };
  }

  /** Queue a run create or finalize. A finalize first seals the batch holding the run's last events. */
  enqueue(op: Exclude<Op, { kind: 'events' }>): Entry {
    const entry = new Entry(op);
    if (this.closing) {
      this.o.report(new WardenSdkError('closed', `The client is closed: ${op.kind === 'create_run' ? `run ${op.run.id} was not created` : `run ${op.runId} was not finalized`}.`, { operation: op.kind }));
      entry.settle('dropped');
      return entry;
    }
    if (op.kind === 'finalize_run') this.seal();
    this.push(entry);
    return entry;
  }

  /** Add one serialised event to the open batch. Never throws, never waits. */
  addEvent(json: string): void {
    if (this.closing) {
      this.o.report(new WardenSdkError('closed', 'An event was recorded after close(): it was dropped.', { operation: 'events', events: 1 }));
      return;
    }
    if (this.queued >= this.o.maxQueuedEvents) {
      if (this.spool) void this.spill();
      else return this.overflow();
    } else this.overflowing = false;
    const bytes = Buffer.byteLength(json) + 1;
    if (this.open && this.open.bytes + bytes > this.o.maxBatchBytes) this.seal();
    this.open ??= { events: [], bytes: EMPTY_BATCH_BYTES, timer: setTimeout(() => this.seal(), this.o.flushIntervalMs).unref() };
    this.open.events.push(json);
    this.open.bytes += bytes;
    this.queued++;
    if (this.open.events.length >= this.o.maxBatchEvents) this.seal();
  }

  /** Close the open batch and hand it to the worker. */
  seal(): void {
    const open = this.open;
    if (!open) return;
    clearTimeout(open.timer);
    this.open = undefined;
    this.push(new Entry({ kind: 'events', events: open.events }));
  }

  /**
   * Resolves once everything queued now (in memory and in the spool) is
   * acknowledged or dropped, or, while Warden cannot be reached, spooled or
   * held in memory.
   */
  async flush(): Promise<void> {
    this.seal();
    await this.spoolReady;
    const target = this.memory.at(-1);
    const spooled = this.spool?.last;
    this.kick();
    const done = () => (target === undefined || target.state !== 'queued') && (spooled === undefined || !this.spool!.has(spooled) || this.circuit.waitMs() > 0);
    if (!done()) await new Promise<void>((resolve) => this.waiters.push({ done, resolve }));
  }

  /**
   * Deliver what can be delivered within `timeoutMs`; spool the rest, or
   * report it lost when there is no spool. Events recorded after this are dropped.
   */
  close(timeoutMs: number): Promise<void> {
    this.closing ??= this.shutDown(timeoutMs);
    return this.closing;
  }

  private async shutDown(timeoutMs: number): Promise<void> {
    this.seal();
    await this.spoolReady;
    const deadline = setTimeout(() => this.stop.abort(), timeoutMs);
    deadline.unref();
    const drained = () => this.memory.length === 0 && (this.spool === undefined || this.spool.count === 0 || this.circuit.waitMs() > 0);
    this.kick();
    await new Promise<void>((resolve) => {
      if (drained() || this.stop.signal.aborted) return resolve();
      this.waiters.push({ done: drained, resolve });
      this.stop.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    clearTimeout(deadline);
    this.stop.abort();
    clearTimeout(this.wake);
    await this.pumping;
    await this.spill();
    const lost = this.memory.splice(0);
    const events = lost.reduce((n, e) => n + e.events, 0);
    for (const e of lost) e.settle('dropped');
    this.queued = 0;
    if (lost.length > 0) this.o.report(new WardenSdkError('lost_at_close', `close() ended with Warden unreachable and no spoolDir: ${lost.length} request${lost.length === 1 ? '' : 's'} (${events} events) were not delivered.`, { events }));
  }

  /** `queued` already counts a batch's events: they were counted as they were added. */
  private push(entry: Entry): void {
    this.memory.push(entry);
    this.kick();
  }

  private overflow(): void {
    this.dropped++;
    if (this.overflowing) return;
    this.overflowing = true;
    this.o.report(new WardenSdkError('queue_full', `More than ${this.o.maxQueuedEvents} events are waiting for Warden and there is no spoolDir: new events are dropped until the queue drains (stats().droppedEvents counts them).`, { operation: 'events', events: 1 }));
  }

  private kick(): void {
    if (this.stop.signal.aborted) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = this.pump()
      .catch((err: unknown) => {
        // Most likely the spool's disk; try again shortly rather than leave the queue stuck.
        this.o.report(new WardenSdkError('spool_error', `Delivery paused on an error: ${(err as Error).message}. Trying again in ${PUMP_RETRY_MS} ms.`, { cause: err }));
        clearTimeout(this.wake);
        this.wake = setTimeout(() => this.kick(), PUMP_RETRY_MS).unref();
      })
      .finally(() => {
        this.pumping = undefined;
        this.notify();
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.kick();
        }
      });
  }

  private async pump(): Promise<void> {
    await this.spoolReady;
    while (!this.stop.signal.aborted) {
      const wait = this.circuit.waitMs();
      if (wait > 0) return this.pause(wait);
      if (this.rescanDue && this.spool) {
        this.rescanDue = false;
        await this.spool.rescan();
      }
      const next = await this.next();
      if (!next) return;
      const result = await this.deliverer.deliver(next.op);
      if (this.inflight) this.inflight = undefined;
      await this.complete(next, result);
      this.notify();
    }
  }

  /** The circuit is open: move the queue to the spool (or hold it in memory) and come back after the cooldown. */
  private async pause(wait: number): Promise<void> {
    await this.spill();
    for (const e of this.memory) if (e.state === 'queued') e.settle('held');
    clearTimeout(this.wake);
    this.wake = setTimeout(() => this.kick(), wait).unref();
  }

  /** The oldest op: the spool's head, else memory's. */
  private async next(): Promise<Next | undefined> {
    if (this.spool && this.spool.count > 0) {
      const head = await this.spool.head((name, err) => this.o.report(new WardenSdkError('spool_corrupt', `The spool file ${name} could not be read and was renamed ${name}.corrupt: ${(err as Error).message}`, { cause: err })));
      if (head) return { spoolName: head.name, op: head.op };
    }
    const entry = this.memory[0];
    if (!entry) return undefined;
    this.inflight = entry;
    return { entry, op: entry.op };
  }

  private async complete(next: Next, result: Delivery): Promise<void> {
    const finished = result.kind === 'acked' || result.kind === 'dropped';
    if ('spoolName' in next) {
      if (finished) await this.spool!.remove(next.spoolName);
      return;
    }
    const e = next.entry;
    // Kept only when it is still to be sent and has no copy in the spool.
    if (!finished && e.spoolName === undefined) return;
    this.forget(e);
    if (e.spoolName !== undefined && finished) await this.spool!.remove(e.spoolName);
    if (result.kind === 'acked') e.settle('acked', result.body);
    else e.settle(result.kind === 'dropped' ? 'dropped' : 'spooled');
  }

  /**
   * Write memory's ops to the spool, oldest first. The op in flight is
   * copied and keeps its place; the worker deletes the copy if it is
   * acknowledged after all.
   */
  private spill(): Promise<void> {
    if (!this.spool) return Promise.resolve();
    this.spilling ??= this.spillAll().finally(() => {
      this.spilling = undefined;
      this.notify();
    });
    return this.spilling;
  }

  private async spillAll(): Promise<void> {
    const spool = this.spool!;
    for (let e = this.memory.find((x) => x.spoolName === undefined); e; e = this.memory.find((x) => x.spoolName === undefined)) {
      let written;
      try {
        written = await spool.append(e.op);
      } catch (err) {
        this.o.report(new WardenSdkError('spool_error', `A batch could not be written to the spool ${spool.dir}: ${(err as Error).message}. It stays in memory.`, { events: e.events, cause: err }));
        return;
      }
      if (!written.ok) {
        this.o.report(new WardenSdkError('spool_full', `The spool ${spool.dir} holds maxSpoolBytes (${this.o.maxSpoolBytes}) already: ${e.events > 0 ? `${e.events} events were` : 'a run create or finalize was'} dropped.`, { operation: e.op.kind, events: e.events }));
        this.forget(e);
        e.settle('dropped');
        continue;
      }
      if (e.state === 'acked') {
        await spool.remove(written.name); // acknowledged while its copy was being written
        continue;
      }
      e.spoolName = written.name;
      if (e !== this.inflight) {
        this.forget(e);
        e.settle('spooled');
      }
    }
  }

  private forget(e: Entry): void {
    const i = this.memory.indexOf(e);
    if (i < 0) return;
    this.memory.splice(i, 1);
    this.queued -= e.events;
  }

  private notify(): void {
    if (this.waiters.length === 0) return;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) {
      if (w.done()) w.resolve();
      else this.waiters.push(w);
    }
  }
}
