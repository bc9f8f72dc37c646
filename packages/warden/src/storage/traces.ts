import type { Kysely, Selectable } from 'kysely';
import { WardenError } from '../errors/index.js';
import type { Database, RunsTable, SpansTable, TraceEventsTable } from './schema.js';

export type RunStatus = 'running' | 'completed' | 'failed';

/** An agent run: who ran what, and what its events added up to. */
export interface RunRecord {
  id: string;
  orgId: string;
  projectId: string | null;
  agent: string;
  scenario: string | null;
  seed: string | null;
  metadata: Record<string, unknown> | null;
  status: RunStatus;
  /** The key, user or agent that created it. */
  createdBy: string | null;
  createdAt: number;
  finalizedAt: number | null;
  /** Highest sequence number stored so far. */
  lastSeq: number | null;
  eventCount: number;
  errorCount: number;
  /** Events stored with a flag (sequence gap, out of order, guardrail finding…). */
  flaggedCount: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  /** The post-run evaluation (ingest/evaluate.ts), set once the run is finalized; null before. */
  evaluation: Record<string, unknown> | null;
}

/** One event to store, validated and inspected by the ingest stage. */
export interface TraceEventInput {
  orgId: string;
  runId: string;
  seq: number;
  t: number;
  actor: string;
  type: string;
  /** JSON text, or null when the payload went to the blob store. */
  payload: string | null;
  blob: string | null;
  /** JSON object text. */
  meta: string | null;
  idempotencyKey: string | null;
  /** Flags the ingest stage already set (e.g. `guard`); sequence flags are added here. */
  flags: string[];
  receivedAt: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  /**
   * Take the next sequence number of the run when stored (`seq` is ignored):
   * for events made from spans (OTLP), which carry no sequence of their own.
   */
  autoSeq?: boolean;
}

export interface TraceEventRecord {
  /** Storage order: ties between equal sequence numbers, and the trace's cursor. */
  id: number;
  runId: string;
  seq: number;
  t: number;
  actor: string;
  type: string;
  payload: unknown;
  blob: string | null;
  meta: Record<string, unknown> | null;
  idempotencyKey: string | null;
  flags: string[];
  receivedAt: number;
}

/** A new run: running, with nothing counted yet. */
export function newRun(fields: Pick<RunRecord, 'id' | 'orgId' | 'agent'> & Partial<RunRecord>): RunRecord {
  return {
    projectId: null,
    scenario: null,
    seed: null,
    metadata: null,
    status: 'running',
    createdBy: null,
    createdAt: Date.now(),
    finalizedAt: null,
    lastSeq: null,
    eventCount: 0,
    errorCount: 0,
    flaggedCount: 0,
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
    evaluation: null,
    ...fields,
  };
}

/** One progress report of a run. */
export interface ProgressRecord {
  orgId: string;
  runId: string;
  /** Epoch ms when Warden received it. */
  t: number;
  percent: number;
  status: string | null;
  message: string | null;
  step: string | null;
}

/** An OpenTelemetry span as kept: ids in lowercase hex, times in Unix nanoseconds (decimal text). */
export interface SpanRecord {
  orgId: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  runId: string | null;
  name: string;
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startNs: string;
  endNs: string;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  statusMessage: string | null;
  attributes: Record<string, unknown>;
  events: unknown[];
  links: unknown[];
  resource: Record<string, unknown> | null;
  scope: { name?: string; version?: string } | null;
  receivedAt: number;
}

/** What happened to one event of a batch, in the batch's order. */
export type AppendOutcome = { status: 'stored'; flags: string[] } | { status: 'duplicate' } | { status: 'run_not_found' };

export interface RunQuery {
  orgId: string;
  agent?: string;
  scenario?: string;
  status?: RunStatus;
  /** Inclusive lower / exclusive upper bound on created_at (epoch ms). */
  from?: number;
  to?: number;
  cursor?: string;
  limit: number;
}

export interface RunPage {
  items: RunRecord[];
  nextCursor: string | null;
}

/** Runs and their trace events. Both adapters implement it over the same tables. */
export interface TraceStore {
  /** 'exists' when a run with this id is already there (a retried create): nothing changes. */
  createRun(run: RunRecord): Promise<'created' | 'exists'>;
  getRun(orgId: string, id: string): Promise<RunRecord | undefined>;
  listRuns(query: RunQuery): Promise<RunPage>;
  /** Sets the final status once; a run already final keeps its first. Undefined when there is no such run. */
  finalizeRun(orgId: string, id: string, status: Exclude<RunStatus, 'running'>, at: number): Promise<RunRecord | undefined>;
  /** Stores the evaluation unless the run already has one; true when this call stored it. */
  setEvaluation(orgId: string, id: string, evaluation: Record<string, unknown>): Promise<boolean>;
  addProgress(p: ProgressRecord): Promise<void>;
  /** A run's progress reports, oldest first; the newest `limit` of them. */
  progress(orgId: string, runId: string, limit: number): Promise<ProgressRecord[]>;
  /**
   * Stores a batch in one transaction. Events whose idempotency key is already stored (or
   * repeats within the batch) are duplicates and change nothing; sequence gaps, repeated
   * sequence numbers and late arrivals are stored and flagged. Resolves once committed.
   */
  appendTraceEvents(events: readonly TraceEventInput[]): Promise<AppendOutcome[]>;
  /** A run's events in sequence order (then arrival), at most `limit`, after `after` (a previous page's last seq and id). */
  runEvents(orgId: string, runId: string, limit: number, after?: { seq: number; id: number }): Promise<TraceEventRecord[]>;
  /** Whether an event of this run holds the blob reference. */
  hasBlob(orgId: string, runId: string, ref: string): Promise<boolean>;
  /** Stores spans; one already stored (same org, trace and span id) is left as it is. Resolves with how many were new, once committed. */
  appendSpans(spans: readonly SpanRecord[]): Promise<number>;
  /** A trace's spans by start time, at most `limit`. */
  traceSpans(orgId: string, traceId: string, limit: number): Promise<SpanRecord[]>;
  /** The spans of every trace that has a span mapped to the run, by start time, at most `limit`. */
  runSpans(orgId: string, runId: string, limit: number): Promise<SpanRecord[]>;
}

/** What a transaction reads before it decides: the runs (by `runKey`), the keys and the sequence numbers already stored. */
export interface AppendState {
  runs: Map<string, { status: string; lastSeq: number | null }>;
  /** `idemKey(orgId, key)` of the batch's idempotency keys already stored. */
  keys: Set<string>;
  /** `seqKey(orgId, runId, seq)` of stored events whose seq is not above their run's last. */
  seqs: Set<string>;
}

export interface RunDelta {
  orgId: string;
  runId: string;
  lastSeq: number | null;
  events: number;
  errors: number;
  flagged: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
}

export interface AppendPlan {
  rows: Array<{ input: TraceEventInput; flags: string[] }>;
  outcomes: AppendOutcome[];
  deltas: Map<string, RunDelta>;
}

/** Runs are keyed by org and id: run ids are each org's own. */
export const runKey = (orgId: string, runId: string): string => `${orgId}\u0000${runId}`;
export const seqKey = (orgId: string, runId: string, seq: number): string => `${orgId}\u0000${runId}\u0000${seq}`;
/** Idempotency keys are unique per org: a committed group can hold several orgs' batches. */
export const idemKey = (orgId: string, key: string): string => `${orgId}\u0000${key}`;

/** The runs a batch names, once each, as [orgId, runId]. */
export function batchRuns(events: readonly TraceEventInput[]): Array<[string, string]> {
  const seen = new Map<string, [string, string]>();
  for (const e of events) seen.set(runKey(e.orgId, e.runId), [e.orgId, e.runId]);
  return [...seen.values()];
}

/** The stored seqs worth looking up, as events: only those not above their run's last can already exist. */
export function seqCandidates(events: readonly TraceEventInput[], runs: AppendState['runs']): TraceEventInput[] {
  return events.filter((e) => {
    const last = runs.get(runKey(e.orgId, e.runId))?.lastSeq;
    return !e.autoSeq && last !== null && last !== undefined && e.seq <= last;
  });
}

/** Decides, for one batch, what is stored, what is a duplicate and how each run's counters move. Pure. */
export function planAppend(events: readonly TraceEventInput[], state: AppendState): AppendPlan {
  const rows: AppendPlan['rows'] = [];
  const outcomes: AppendOutcome[] = [];
  const deltas = new Map<string, RunDelta>();
  const keys = new Set(state.keys);
  const seqs = new Set(state.seqs);
  for (const e of events) {
    const rk = runKey(e.orgId, e.runId);
    const run = state.runs.get(rk);
    if (!run) {
      outcomes.push({ status: 'run_not_found' });
      continue;
    }
    if (e.idempotencyKey !== null) {
      const k = idemKey(e.orgId, e.idempotencyKey);
      if (keys.has(k)) {
        outcomes.push({ status: 'duplicate' });
        continue;
      }
      keys.add(k);
    }
    let d = deltas.get(rk);
    if (!d) deltas.set(rk, (d = { orgId: e.orgId, runId: e.runId, lastSeq: run.lastSeq, events: 0, errors: 0, flagged: 0, tokensIn: 0, tokensOut: 0, costUsd: 0 }));
    const flags = [...e.flags];
    const seq = e.autoSeq ? (d.lastSeq ?? 0) + 1 : e.seq;
    const sk = seqKey(e.orgId, e.runId, seq);
    if (seqs.has(sk)) flags.push('duplicate_seq');
    else if (d.lastSeq !== null && seq < d.lastSeq) flags.push('out_of_order');
    else if (seq > (d.lastSeq ?? 0) + 1) flags.push('gap');
    if (run.status !== 'running') flags.push('after_finalize');
    seqs.add(sk);
    d.lastSeq = Math.max(d.lastSeq ?? seq, seq);
    d.events++;
    if (e.type === 'error') d.errors++;
    if (flags.length > 0) d.flagged++;
    d.tokensIn += e.tokensIn;
    d.tokensOut += e.tokensOut;
    d.costUsd += e.costUsd;
    rows.push({ input: seq === e.seq ? e : { ...e, seq }, flags });
    outcomes.push({ status: 'stored', flags });
  }
  return { rows, outcomes, deltas };
}

export function runToRow(r: RunRecord): Selectable<RunsTable> {
  return {
    id: r.id,
    org_id: r.orgId,
    project_id: r.projectId,
    agent: r.agent,
    scenario: r.scenario,
    seed: r.seed,
    metadata: r.metadata ? JSON.stringify(r.metadata) : null,
    status: r.status,
    created_by: r.createdBy,
    created_at: r.createdAt,
    finalized_at: r.finalizedAt,
    last_seq: r.lastSeq,
    event_count: r.eventCount,
    error_count: r.errorCount,
    flagged_count: r.flaggedCount,
    tokens_in: r.tokensIn,
    tokens_out: r.tokensOut,
    cost_usd: r.costUsd,
    evaluation: r.evaluation ? JSON.stringify(r.evaluation) : null,
  };
}

export function rowToRun(r: Selectable<RunsTable>): RunRecord {
  return {
    id: r.id,
    orgId: r.org_id,
    projectId: r.project_id,
    agent: r.agent,
    scenario: r.scenario,
    seed: r.seed,
    metadata: r.metadata ? (JSON.parse(r.metadata) as Record<string, unknown>) : null,
    status: r.status as RunStatus,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    finalizedAt: r.finalized_at === null ? null : Number(r.finalized_at),
    lastSeq: r.last_seq === null ? null : Number(r.last_seq),
    eventCount: Number(r.event_count),
    errorCount: Number(r.error_count),
    flaggedCount: Number(r.flagged_count),
    tokensIn: Number(r.tokens_in),
    tokensOut: Number(r.tokens_out),
    costUsd: Number(r.cost_usd),
    evaluation: r.evaluation ? (JSON.parse(r.evaluation) as Record<string, unknown>) : null,
  };
}

/** Insert column values of one planned row, in TRACE_EVENT_COLUMNS order. */
export const TRACE_EVENT_COLUMNS = ['org_id', 'run_id', 'seq', 't', 'actor', 'type', 'payload', 'blob', 'meta', 'idempotency_key', 'flags', 'received_at'] as const;
export function traceEventValues(row: AppendPlan['rows'][number]): unknown[] {
  const e = row.input;
  return [e.orgId, e.runId, e.seq, e.t, e.actor, e.type, e.payload, e.blob, e.meta, e.idempotencyKey, row.flags.length ? row.flags.join(',') : null, e.receivedAt];
}

const SPAN_CHUNK = 500;
const json = (v: unknown): string | null => (v === null || (Array.isArray(v) && v.length === 0) ? null : JSON.stringify(v));

function spanToRow(s: SpanRecord): Selectable<SpansTable> {
  return {
    org_id: s.orgId,
    trace_id: s.traceId,
    span_id: s.spanId,
    parent_span_id: s.parentSpanId,
    run_id: s.runId,
    name: s.name,
    kind: s.kind,
    start_ns: s.startNs,
    end_ns: s.endNs,
    status_code: s.statusCode,
    status_message: s.statusMessage,
    attributes: JSON.stringify(s.attributes),
    events: json(s.events),
    links: json(s.links),
    resource: json(s.resource),
    scope: json(s.scope),
    received_at: s.receivedAt,
  };
}

function rowToSpan(r: Selectable<SpansTable>): SpanRecord {
  return {
    orgId: r.org_id,
    traceId: r.trace_id,
    spanId: r.span_id,
    parentSpanId: r.parent_span_id,
    runId: r.run_id,
    name: r.name,
    kind: Number(r.kind),
    startNs: r.start_ns,
    endNs: r.end_ns,
    statusCode: Number(r.status_code),
    statusMessage: r.status_message,
    attributes: JSON.parse(r.attributes) as Record<string, unknown>,
    events: r.events ? (JSON.parse(r.events) as unknown[]) : [],
    links: r.links ? (JSON.parse(r.links) as unknown[]) : [],
    resource: r.resource ? (JSON.parse(r.resource) as Record<string, unknown>) : null,
    scope: r.scope ? (JSON.parse(r.scope) as SpanRecord['scope']) : null,
    receivedAt: Number(r.received_at),
  };
}

function rowToTraceEvent(r: Selectable<TraceEventsTable>): TraceEventRecord {
  return {
    id: Number(r.id),
    runId: r.run_id,
    seq: Number(r.seq),
    t: Number(r.t),
    actor: r.actor,
    type: r.type,
    payload: r.payload === null ? null : (JSON.parse(r.payload) as unknown),
    blob: r.blob,
    meta: r.meta ? (JSON.parse(r.meta) as Record<string, unknown>) : null,
    idempotencyKey: r.idempotency_key,
    flags: r.flags ? r.flags.split(',') : [],
    receivedAt: Number(r.received_at),
  };
}

/** Runs newest first: the cursor is the last row's created_at and id. */
function encodeCursor(r: RunRecord): string {
  return Buffer.from(JSON.stringify([r.createdAt, r.id])).toString('base64url');
}
function decodeCursor(cursor: string): [number, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && Number.isSafeInteger(v[0]) && typeof v[1] === 'string') return [v[0] as number, v[1]];
  } catch {
    // fall through
  }
  throw new WardenError('invalid_cursor');
}

/** The reads and the run writes, the same on both databases; appends are each adapter's own. */
export abstract class KyselyTraceStore implements TraceStore {
  constructor(protected readonly db: Kysely<Database>) {}

  abstract appendTraceEvents(events: readonly TraceEventInput[]): Promise<AppendOutcome[]>;

  async createRun(run: RunRecord): Promise<'created' | 'exists'> {
    const res = await this.db.insertInto('runs').values(runToRow(run)).onConflict((oc) => oc.columns(['org_id', 'id']).doNothing()).executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0 ? 'created' : 'exists';
  }

  async getRun(orgId: string, id: string): Promise<RunRecord | undefined> {
    const row = await this.db.selectFrom('runs').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
    return row ? rowToRun(row) : undefined;
  }

  async listRuns(q: RunQuery): Promise<RunPage> {
    let query = this.db.selectFrom('runs').selectAll().where('org_id', '=', q.orgId);
    if (q.agent !== undefined) query = query.where('agent', '=', q.agent);
    if (q.scenario !== undefined) query = query.where('scenario', '=', q.scenario);
    if (q.status !== undefined) query = query.where('status', '=', q.status);
    if (q.from !== undefined) query = query.where('created_at', '>=', q.from);
    if (q.to !== undefined) query = query.where('created_at', '<', q.to);
    if (q.cursor !== undefined) {
      const [at, id] = decodeCursor(q.cursor);
      query = query.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]));
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit + 1).execute();
    const items = rows.slice(0, q.limit).map(rowToRun);
    return { items, nextCursor: rows.length > q.limit ? encodeCursor(items[items.length - 1]!) : null };
  }

  async finalizeRun(orgId: string, id: string, status: Exclude<RunStatus, 'running'>, at: number): Promise<RunRecord | undefined> {
    await this.db.updateTable('runs').set({ status, finalized_at: at }).where('org_id', '=', orgId).where('id', '=', id).where('status', '=', 'running').execute();
    return this.getRun(orgId, id);
  }

  async setEvaluation(orgId: string, id: string, evaluation: Record<string, unknown>): Promise<boolean> {
    const res = await this.db.updateTable('runs').set({ evaluation: JSON.stringify(evaluation) }).where('org_id', '=', orgId).where('id', '=', id).where('evaluation', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async addProgress(p: ProgressRecord): Promise<void> {
    await this.db.insertInto('run_progress').values({ org_id: p.orgId, run_id: p.runId, t: p.t, percent: p.percent, status: p.status, message: p.message, step: p.step }).execute();
  }

  async progress(orgId: string, runId: string, limit: number): Promise<ProgressRecord[]> {
    const rows = await this.db.selectFrom('run_progress').selectAll().where('org_id', '=', orgId).where('run_id', '=', runId).orderBy('t', 'desc').limit(limit).execute();
    return rows.reverse().map((r) => ({ orgId: r.org_id, runId: r.run_id, t: Number(r.t), percent: Number(r.percent), status: r.status, message: r.message, step: r.step }));
  }

  async hasBlob(orgId: string, runId: string, ref: string): Promise<boolean> {
    const row = await this.db.selectFrom('trace_events').select('id').where('org_id', '=', orgId).where('run_id', '=', runId).where('blob', '=', ref).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async appendSpans(spans: readonly SpanRecord[]): Promise<number> {
    let stored = 0;
    for (let i = 0; i < spans.length; i += SPAN_CHUNK) {
      const rows = spans.slice(i, i + SPAN_CHUNK).map(spanToRow);
      const res = await this.db
        .insertInto('spans')
        .values(rows)
        .onConflict((oc) => oc.columns(['org_id', 'trace_id', 'span_id']).doNothing())
        .executeTakeFirst();
      stored += Number(res.numInsertedOrUpdatedRows ?? 0);
    }
    return stored;
  }

  async traceSpans(orgId: string, traceId: string, limit: number): Promise<SpanRecord[]> {
    const rows = await this.db.selectFrom('spans').selectAll().where('org_id', '=', orgId).where('trace_id', '=', traceId).orderBy('start_ns').orderBy('span_id').limit(limit).execute();
    return rows.map(rowToSpan);
  }

  async runSpans(orgId: string, runId: string, limit: number): Promise<SpanRecord[]> {
    const traces = this.db.selectFrom('spans').select('trace_id').where('org_id', '=', orgId).where('run_id', '=', runId);
    const rows = await this.db
      .selectFrom('spans')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('trace_id', 'in', traces)
      .orderBy('start_ns')
      .orderBy('span_id')
      .limit(limit)
      .execute();
    return rows.map(rowToSpan);
  }

  async runEvents(orgId: string, runId: string, limit: number, after?: { seq: number; id: number }): Promise<TraceEventRecord[]> {
    let q = this.db.selectFrom('trace_events').selectAll().where('org_id', '=', orgId).where('run_id', '=', runId);
    if (after) q = q.where((eb) => eb.or([eb('seq', '>', after.seq), eb.and([eb('seq', '=', after.seq), eb('id', '>', after.id)])]));
    const rows = await q
      .orderBy('seq')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(rowToTraceEvent);
  }
}
