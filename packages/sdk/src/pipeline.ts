import { MAX_TIMER_MS } from './backoff.js';
import { CircuitBreaker, type CircuitPolicy, type CircuitState } from './circuit.js';
import { Deliverer, refusedForAccess, type Delivery, type RetryPolicy } from './delivery.js';
import { Entry } from './entry.js';
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
 * restarts. A spool file is deleted only once Warden acknowledges it.
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
  /** Events dropped for want of room: the queue full with nowhere to spool them, or the spool full. */
  droppedEvents: number;
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
  /** When writing to the spool last failed; undefined while it works. */
  private spoolFailedAt: number | undefined;
  /** The spool file last reported as held (refused for access), so it is reported once, not every cooldown. */
  private heldFile: string | undefined;
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
      const full = this.overLimit();
      if (full) return this.overflow(full);
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
    // Nothing is sent after close(): a flush then has its answer when close() has.
    if (this.closing) return this.closing;
    this.seal();
    await this.spoolReady;
    if (this.closing) return this.closing;
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
    try {
      await this.drainAndSpill(timeoutMs);
    } finally {
      // Nothing more will be delivered: every flush() still waiting has its answer.
      for (const w of this.waiters.splice(0)) w.resolve();
    }
  }

  private async drainAndSpill(timeoutMs: number): Promise<void> {
    this.seal();
    await this.spoolReady;
    const deadline = setTimeout(() => this.stop.abort(), Math.max(0, Math.min(timeoutMs, MAX_TIMER_MS)));
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
    if (lost.length > 0) this.o.report(new WardenSdkError('lost_at_close', `close() ended with Warden unreachable and ${this.spool ? 'a spool that could not take them' : 'no spoolDir'}: ${lost.length} request${lost.length === 1 ? '' : 's'} (${events} events) were not delivered.`, { events }));
  }

  /** `queued` already counts a batch's events: they were counted as they were added. */
  private push(entry: Entry): void {
    this.memory.push(entry);
    this.kick();
  }

  /**
   * maxQueuedEvents wait in memory: move them to the spool, and say why a
   * new event cannot be taken, if it cannot. A healthy spool takes the queue
   * shortly, so events keep coming in meanwhile, up to twice the limit; a
   * spool that fails takes nothing, and memory stays at the limit.
   */
  private overLimit(): string | undefined {
    if (!this.spool) return 'there is no spoolDir';
    const failedAt = this.spoolFailedAt;
    // A failing disk is tried again at most once every PUMP_RETRY_MS, not once an event.
    if (failedAt === undefined || Date.now() - failedAt >= PUMP_RETRY_MS) void this.spill();
    if (failedAt !== undefined) return 'the spool cannot be written';
    if (this.queued >= 2 * this.o.maxQueuedEvents) return 'the spool cannot keep up';
    return undefined;
  }

  private overflow(why: string): void {
    this.dropped++;
    if (this.overflowing) return;
    this.overflowing = true;
    this.o.report(new WardenSdkError('queue_full', `More than ${this.o.maxQueuedEvents} events are waiting for Warden and ${why}: new events are dropped until the queue drains (stats().droppedEvents counts them).`, { operation: 'events', events: 1 }));
  }

  /** The spool could not be read or written: reported once, until a write succeeds again. */
  private spoolFailed(err: unknown, what: string): void {
    const first = this.spoolFailedAt === undefined;
    this.spoolFailedAt = Date.now();
    if (first) this.o.report(new WardenSdkError('spool_error', `${what} the spool ${this.spool!.dir}: ${(err as Error).message}. What is not spooled stays in memory, up to maxQueuedEvents; beyond it new events are dropped (stats().droppedEvents). Not reported again until the spool works.`, { cause: err }));
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
        await this.spool.rescan().catch((err: unknown) => this.spoolFailed(err, 'Could not list'));
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
    this.wake = setTimeout(() => this.kick(), Math.min(wait, MAX_TIMER_MS)).unref();
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
    if (result.kind === 'acked') this.heldFile = undefined;
    if ('spoolName' in next) {
      if (result.kind === 'acked') await this.spool!.remove(next.spoolName);
      else if (result.kind === 'refused') await this.refusedFile(next.spoolName, result.error);
      return;
    }
    const e = next.entry;
    if (result.kind === 'unavailable' || result.kind === 'aborted') {
      // Kept in memory to be sent again, unless its copy in the spool will be.
      if (e.spoolName === undefined) return;
      this.forget(e);
      e.settle('spooled');
      return;
    }
    this.forget(e);
    if (result.kind === 'acked') {
      if (e.spoolName !== undefined) await this.spool!.remove(e.spoolName);
      e.settle('acked', result.body);
    } else if (e.spoolName !== undefined) {
      // Its copy is a spool file like any other.
      e.settle((await this.refusedFile(e.spoolName, result.error)) ? 'spooled' : 'dropped');
    } else {
      this.o.report(result.error);
      e.settle('dropped');
    }
  }

  /**
   * A spooled request Warden refused; its file goes only once Warden has
   * acknowledged it. Refused for access (the key, its role, the url), it is
   * held: the file stays, the circuit opens, and after the cooldown the same
   * file is the probe, with everything else waiting behind it in order.
   * Refused for what it holds (400, 409, 422, 404 run_not_found, an event too
   * large), it never will be taken: the file is moved aside as
   * `<name>.rejected`. Returns whether the file is still queued.
   */
  private async refusedFile(name: string, err: WardenSdkError): Promise<boolean> {
    if (refusedForAccess(err)) {
      this.circuit.trip();
      if (this.heldFile !== name) {
        this.heldFile = name;
        this.o.report(new WardenSdkError(err.code, `${err.message} The spool file ${name} is kept; it, and everything queued behind it, is tried again every ${this.o.circuit.cooldownMs} ms until Warden takes it.`, err.details));
      }
      return true;
    }
    const rejected = await this.spool!.reject(name);
    this.o.report(new WardenSdkError(err.code, `${err.message} It is not sent again: its spool file was moved aside to ${rejected}.`, err.details));
    return false;
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
    // The op in flight when the spool is full is passed over, not dropped: it may yet be delivered.
    const passed = new Set<Entry>();
    const unspooled = () => this.memory.find((x) => x.spoolName === undefined && x.state !== 'acked' && x.state !== 'dropped' && !passed.has(x));
    for (let e = unspooled(); e; e = unspooled()) {
      let written;
      try {
        written = await spool.append(e.op);
      } catch (err) {
        this.spoolFailed(err, `${e.events > 0 ? `A batch of ${e.events} events` : 'A run create or finalize'} could not be written to`);
        return;
      }
      this.spoolFailedAt = undefined;
      if (!written.ok) {
        if (e === this.inflight) {
          passed.add(e);
          continue;
        }
        this.o.report(new WardenSdkError('spool_full', `The spool ${spool.dir} holds maxSpoolBytes (${this.o.maxSpoolBytes}) already: ${e.events > 0 ? `${e.events} events were` : 'a run create or finalize was'} dropped.`, { operation: e.op.kind, events: e.events }));
        this.forget(e);
        this.dropped += e.events;
        e.settle('dropped');
        continue;
      }
      if (e.state === 'acked' || e.state === 'dropped') {
        // Acknowledged, or refused and reported, while its copy was being written: not to be sent again.
        await spool.remove(written.name);
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
