import { retryDelay, sleep, type BackoffPolicy } from './backoff.js';
import type { CircuitBreaker } from './circuit.js';
import { WardenSdkError } from './errors.js';
import type { Op, Outcome, Transport } from './transport.js';
import type { EventRejection, TraceEvent } from './types.js';

export interface RetryPolicy extends BackoffPolicy {
  /** Attempts per request, the first included. */
  maxAttempts: number;
  /** The longest Retry-After honoured; a longer one is taken as this. */
  maxRetryAfterMs: number;
}

/** How delivering one op ended. */
export type Delivery =
  | { kind: 'acked'; body: unknown }
  /**
   * Warden answered no, and would answer the same again: not retried. Not
   * reported yet: what becomes of the op (dropped, kept in the spool, moved
   * aside) is the pipeline's to say.
   */
  | { kind: 'refused'; error: WardenSdkError }
  /** Warden could not be reached: the circuit is open; keep the op for later. */
  | { kind: 'unavailable' }
  /** close() stopped waiting. */
  | { kind: 'aborted' };

export interface DelivererOptions {
  transport: Transport;
  circuit: CircuitBreaker;
  retry: RetryPolicy;
  stop: AbortSignal;
  report: (err: WardenSdkError) => void;
  onRejected: (rejections: EventRejection[]) => void;
  random?: () => number;
}

interface BatchAnswer {
  results?: Array<{ index: number; status: string; error?: { code?: string; field?: string; message?: string } }>;
}

/**
 * A refusal of who sent the request or where, not of what it says: the key
 * (401), its role or a policy (403), or a url Warden has no route for (a 404
 * other than `run_not_found`). Put right, the same request can succeed.
 */
export function refusedForAccess(err: WardenSdkError): boolean {
  return err.status === 401 || err.status === 403 || (err.status === 404 && err.serverCode !== 'run_not_found');
}

/** One op to Warden: retried with backoff through the circuit breaker; a batch too large is halved. */
export class Deliverer {
  constructor(private readonly o: DelivererOptions) {}

  async deliver(op: Op): Promise<Delivery> {
    const prepared = await this.o.transport.prepare(op);
    for (let attempt = 1; ; attempt++) {
      if (this.o.circuit.waitMs() > 0) return { kind: 'unavailable' };
      const out = await this.o.transport.send(prepared, this.o.stop);
      if (out.kind === 'aborted') return out;
      if (out.kind !== 'retry') {
        // Any answer other than "try later" means Warden is up.
        this.o.circuit.success();
        return this.settle(op, out);
      }
      this.o.circuit.failure();
      // Retry-After (RFC 9110 §10.2.3) is honoured up to maxRetryAfterMs. A wait
      // longer than our own longest backoff is not slept here, holding up the
      // whole queue: Warden is taken to be away that long. The circuit opens,
      // the queue moves to the spool, and a probe goes out when it ends.
      const asked = out.retryAfterMs === undefined ? undefined : Math.min(out.retryAfterMs, this.o.retry.maxRetryAfterMs);
      if (asked !== undefined && asked > this.o.retry.maxMs) {
        this.o.circuit.trip(asked);
        return { kind: 'unavailable' };
      }
      if (attempt >= this.o.retry.maxAttempts) {
        this.o.circuit.trip();
        return { kind: 'unavailable' };
      }
      if (this.o.circuit.waitMs() > 0) return { kind: 'unavailable' };
      if (!(await sleep(retryDelay(attempt, this.o.retry, asked, this.o.random), this.o.stop))) return { kind: 'aborted' };
    }
  }

  private async settle(op: Op, out: Exclude<Outcome, { kind: 'retry' | 'aborted' }>): Promise<Delivery> {
    const events = op.kind === 'events' ? op.events.length : 0;
    switch (out.kind) {
      case 'ok':
        if (op.kind === 'events' && out.status === 207) this.rejections(op.events, out.body as BatchAnswer);
        return { kind: 'acked', body: out.body };
      case 'too_large':
        if (op.kind === 'events' && op.events.length > 1) return this.halves(op.events);
        return { kind: 'refused', error: new WardenSdkError(op.kind === 'events' ? 'event_too_large' : 'refused', `Warden refused ${describe(op)} as larger than its body limit (413).`, { status: 413, serverCode: 'body_too_large', operation: op.kind, events }) };
      case 'refused':
        return { kind: 'refused', error: new WardenSdkError('refused', `Warden refused ${describe(op)} (${out.status}${out.serverCode ? ` ${out.serverCode}` : ''}): ${out.message}`, { status: out.status, ...(out.serverCode !== undefined && { serverCode: out.serverCode }), operation: op.kind, events }) };
    }
  }

  /**
   * A 413: send each half on its own, in order. If Warden goes away midway,
   * or refuses our access, the whole batch is kept (or refused) and sent
   * again later; the halves already stored then come back as duplicates,
   * which change nothing. A half refused for what it holds (one event too
   * large) is reported and the rest goes on.
   */
  private async halves(events: string[]): Promise<Delivery> {
    const mid = Math.ceil(events.length / 2);
    for (const half of [events.slice(0, mid), events.slice(mid)]) {
      const r = await this.deliver({ kind: 'events', events: half });
      if (r.kind === 'unavailable' || r.kind === 'aborted') return r;
      if (r.kind === 'refused') {
        if (refusedForAccess(r.error)) return r;
        this.o.report(r.error);
      }
    }
    return { kind: 'acked', body: undefined };
  }

  private rejections(events: string[], body: BatchAnswer | undefined): void {
    const refused: EventRejection[] = [];
    for (const r of body?.results ?? []) {
      const json = events[r.index];
      if (r.status !== 'rejected' || json === undefined) continue;
      refused.push({
        event: JSON.parse(json) as TraceEvent,
        code: r.error?.code ?? 'rejected',
        message: r.error?.message ?? 'Warden refused this event.',
        ...(r.error?.field !== undefined && { field: r.error.field }),
      });
    }
    if (refused.length > 0) this.o.onRejected(refused);
  }
}

function describe(op: Op): string {
  if (op.kind === 'create_run') return `the creation of run ${op.run.id}`;
  if (op.kind === 'finalize_run') return `the finalization of run ${op.runId}`;
  return `a batch of ${op.events.length} event${op.events.length === 1 ? '' : 's'}`;
}
