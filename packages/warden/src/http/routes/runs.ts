import { randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WardenError } from '../../errors/index.js';
import { CreateRun, evaluateRun, EventBatch, FinalizeRun, type EventResult, type IngestCaller } from '../../ingest/index.js';
import { spanTree } from '../../otlp/index.js';
import { denialCause } from '../../policy/index.js';
import { securityEvent } from '../context.js';
import { newRun, type RunRecord, type RunStatus } from '../../storage/index.js';
import { requestRisk } from '../guard.js';
import type { ServerDeps } from '../server.js';
import { orgOf, principalOf } from './scope.js';

const STATUSES = new Set<RunStatus>(['running', 'completed', 'failed']);
const TracePage = Type.Object({ view: Type.Optional(Type.Union([Type.Literal('events'), Type.Literal('tree')])), limit: Type.Optional(Type.String({ maxLength: 10 })), cursor: Type.Optional(Type.String({ maxLength: 200 })), org_id: Type.Optional(Type.String({ maxLength: 500 })) });

function traceCursor(cursor: string): { seq: number; id: number } {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && Number.isSafeInteger(v[0]) && Number.isSafeInteger(v[1])) return { seq: v[0] as number, id: v[1] as number };
  } catch {
    // fall through
  }
  throw new WardenError('invalid_cursor');
}
/** A trace read's page size: 1,000 by default, at most 10,000 events or spans. */
function traceLimit(v: string | undefined): number {
  const limit = v === undefined ? 1000 : Number(v);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new WardenError('invalid_request', 'limit is an integer from 1 to 10000.');
  return limit;
}
/** One value per parameter: a repeated one (?agent=a&agent=b) is refused, not passed on as a list. */
const Param = Type.String({ maxLength: 500 });
const ListRuns = Type.Object({
  agent: Type.Optional(Param),
  scenario: Type.Optional(Param),
  status: Type.Optional(Param),
  from: Type.Optional(Param),
  to: Type.Optional(Param),
  cursor: Type.Optional(Param),
  limit: Type.Optional(Param),
  org_id: Type.Optional(Param),
});

function publicRun(r: RunRecord): Record<string, unknown> {
  return {
    id: r.id,
    agent: r.agent,
    scenario: r.scenario,
    seed: r.seed,
    metadata: r.metadata,
    status: r.status,
    project_id: r.projectId,
    created_by: r.createdBy,
    created_at: new Date(r.createdAt).toISOString(),
    finalized_at: r.finalizedAt === null ? null : new Date(r.finalizedAt).toISOString(),
    last_seq: r.lastSeq,
    events: r.eventCount,
    errors: r.errorCount,
    flagged: r.flaggedCount,
    usage: { input_tokens: r.tokensIn, output_tokens: r.tokensOut, cost_usd: Math.round(r.costUsd * 1e6) / 1e6 },
    evaluation: r.evaluation,
  };
}

/**
 * Who is ingesting, with the policy check on each event: Cedar `trace:ingest`
 * on the run, with the event's type, actor and tool and the request's risk in
 * the context. A denial refuses that event alone and is recorded like any
 * policy decision (config.policy.decision_events).
 */
export function ingestCaller(request: FastifyRequest, deps: ServerDeps): IngestCaller {
  const p = principalOf(request);
  const ctx = request.warden;
  const risk = Math.round(requestRisk(request, deps.limits.risk).score * 100) / 100;
  const decided = new Map<string, string | null>();
  return {
    orgId: orgOf(request),
    projectId: p.projectId,
    principalId: p.id,
    agentId: p.agentId,
    // One decision per distinct run, type, actor and tool in a request: a batch is mostly alike.
    authorize: (runId, event) => {
      const key = `${runId}\u0000${event.type}\u0000${event.actor}\u0000${event.tool}`;
      let answer = decided.get(key);
      if (answer !== undefined) return answer;
      const verdict = deps.policies.engine.decide({
        principal: p,
        action: 'trace:ingest',
        resource: { type: 'Run', id: runId },
        context: { now: ctx.ts, clientIp: request.ip, route: ctx.route, risk, event },
      });
      deps.decisionEvent(request, 'trace:ingest', { type: 'Run', id: runId }, verdict);
      answer = verdict.decision === 'allow' ? null : `A policy does not allow storing this ${event.type} event in run "${runId}"${denialCause(verdict)}.`;
      decided.set(key, answer);
      return answer;
    },
  };
}

/**
 * 202 when every event is committed (stored now, or already stored: a retry);
 * 207 with the same per-event results when any was refused. Either way the
 * accepted events are committed before the answer is sent.
 */
function answer(reply: FastifyReply, results: EventResult[]): Record<string, unknown> {
  const count = (s: EventResult['status']) => results.filter((r) => r.status === s).length;
  const rejected = count('rejected');
  void reply.code(rejected > 0 ? 207 : 202);
  return { stored: count('stored'), duplicates: count('duplicate'), rejected, results };
}

/** Runs, their trace events, and the whole trace read back. */
export function runRoutes(deps: ServerDeps) {
  const traces = deps.storage.traces;
  return async function register(app: FastifyInstance): Promise<void> {
    const needs = (permission: 'runs:read' | 'runs:write') => ({ config: { permission } });
    const callerOf = (request: FastifyRequest) => ingestCaller(request, deps);
    const runOf = async (request: FastifyRequest): Promise<RunRecord> => {
      const { id } = request.params as { id: string };
      const run = await traces.getRun(orgOf(request), id);
      if (!run) throw new WardenError('run_not_found');
      return run;
    };

    app.post('/api/v1/runs', { ...needs('runs:write'), schema: { body: CreateRun } }, async (request, reply) => {
      const body = request.body as Static<typeof CreateRun>;
      const p = principalOf(request);
      const run = newRun({
        id: body.id ?? `run_${randomUUID()}`,
        orgId: orgOf(request),
        projectId: p.projectId,
        agent: body.agent,
        scenario: body.scenario ?? null,
        seed: body.seed === undefined ? null : String(body.seed),
        metadata: body.metadata ?? null,
        createdBy: p.id,
      });
      // A retried create of the same id answers with the run as it is (200), not a second one.
      const created = (await traces.createRun(run)) === 'created';
      const stored = created ? run : await traces.getRun(run.orgId, run.id);
      if (!stored) throw new WardenError('conflict', `The run id "${run.id}" is taken.`);
      void reply.code(created ? 201 : 200);
      return publicRun(stored);
    });

    app.get('/api/v1/runs', { ...needs('runs:read'), schema: { querystring: ListRuns } }, async (request) => {
      const q = request.query as Record<string, string | undefined>;
      const limit = q.limit === undefined ? 50 : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new WardenError('invalid_request', 'limit is an integer from 1 to 500.');
      if (q.status !== undefined && !STATUSES.has(q.status as RunStatus)) throw new WardenError('invalid_request', 'status is running, completed or failed.');
      const time = (name: string, v: string | undefined): number | undefined => {
        if (v === undefined) return undefined;
        const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
        if (!Number.isSafeInteger(t)) throw new WardenError('invalid_request', `${name} is epoch milliseconds or an ISO 8601 time.`);
        return t;
      };
      const page = await traces.listRuns({
        orgId: orgOf(request),
        ...(q.agent !== undefined && { agent: q.agent }),
        ...(q.scenario !== undefined && { scenario: q.scenario }),
        ...(q.status !== undefined && { status: q.status as RunStatus }),
        ...(q.from !== undefined && { from: time('from', q.from) }),
        ...(q.to !== undefined && { to: time('to', q.to) }),
        ...(q.cursor !== undefined && { cursor: q.cursor }),
        limit,
      });
      return { data: page.items.map(publicRun), next_cursor: page.nextCursor };
    });

    app.get('/api/v1/runs/:id', needs('runs:read'), async (request) => publicRun(await runOf(request)));

    app.post('/api/v1/runs/:id/finalize', { ...needs('runs:write'), schema: { body: FinalizeRun } }, async (request) => {
      const { id } = request.params as { id: string };
      const { status } = request.body as Static<typeof FinalizeRun>;
      const at = Date.now();
      const run = await traces.finalizeRun(orgOf(request), id, status, at);
      if (!run) throw new WardenError('run_not_found');
      // Evaluated once: by the first finalize, or by a later one if that one failed before storing it.
      if (run.evaluation) return publicRun(run);
      const evaluation = evaluateRun(run, await traces.runEvents(run.orgId, run.id, 100_000), deps.evaluation, at);
      if (!(await traces.setEvaluation(run.orgId, run.id, evaluation as unknown as Record<string, unknown>))) return publicRun((await traces.getRun(run.orgId, run.id)) ?? run);
      securityEvent(request, deps, 'run.evaluation', { run_id: run.id, agent: run.agent, scenario: run.scenario, status: run.status, severity: evaluation.severity, findings: evaluation.findings, events: evaluation.events });
      return publicRun({ ...run, evaluation: evaluation as unknown as Record<string, unknown> });
    });

    app.post('/api/v1/runs/:id/events', { ...needs('runs:write'), schema: { body: EventBatch } }, async (request, reply) => {
      const run = await runOf(request);
      const { events } = request.body as Static<typeof EventBatch>;
      return answer(reply, await deps.ingest.ingest(callerOf(request), events, run.id));
    });

    app.post('/api/v1/trace-events/batch', { ...needs('runs:write'), schema: { body: EventBatch } }, async (request, reply) => {
      const { events } = request.body as Static<typeof EventBatch>;
      return answer(reply, await deps.ingest.ingest(callerOf(request), events, null));
    });

    app.get('/api/v1/runs/:id/trace', { ...needs('runs:read'), schema: { querystring: TracePage } }, async (request) => {
      const run = await runOf(request);
      const q = request.query as Static<typeof TracePage>;
      const limit = traceLimit(q.limit);
      // The span-shaped view: every span of the run's traces, as trees (OTLP data; runs sent as events have none).
      if (q.view === 'tree') {
        const spans = await traces.runSpans(run.orgId, run.id, limit + 1);
        return { run: publicRun(run), truncated: spans.length > limit, span_count: Math.min(spans.length, limit), spans: spanTree(spans.slice(0, limit)) };
      }
      const events = await traces.runEvents(run.orgId, run.id, limit + 1, q.cursor === undefined ? undefined : traceCursor(q.cursor));
      const page = events.slice(0, limit);
      const last = page.at(-1);
      return {
        run: publicRun(run),
        next_cursor: events.length > limit && last ? Buffer.from(JSON.stringify([last.seq, last.id])).toString('base64url') : null,
        events: page.map((e) => ({
          seq: e.seq,
          t: new Date(e.t).toISOString(),
          actor: e.actor,
          type: e.type,
          payload: e.payload,
          ...(e.blob && { blob: e.blob }),
          meta: { ...e.meta, ...(e.idempotencyKey && { idempotency_key: e.idempotencyKey }) },
          flags: e.flags,
          received_at: new Date(e.receivedAt).toISOString(),
        })),
      };
    });

    app.get('/api/v1/traces/:trace_id', { ...needs('runs:read'), schema: { querystring: TracePage } }, async (request) => {
      const { trace_id: traceId } = request.params as { trace_id: string };
      if (!/^[0-9a-f]{32}$/.test(traceId)) throw new WardenError('invalid_request', 'A trace id is 32 lowercase hex digits.');
      const q = request.query as Static<typeof TracePage>;
      const limit = traceLimit(q.limit);
      const spans = await traces.traceSpans(orgOf(request), traceId, limit + 1);
      if (spans.length === 0) throw new WardenError('not_found', 'Your organization has no spans of this trace.');
      return { trace_id: traceId, truncated: spans.length > limit, span_count: Math.min(spans.length, limit), spans: spanTree(spans.slice(0, limit)) };
    });

    // A large payload, only through a run of the caller's org that holds its reference.
    app.get('/api/v1/runs/:id/blobs/:ref', needs('runs:read'), async (request, reply) => {
      const run = await runOf(request);
      const { ref } = request.params as { ref: string };
      const bytes = (await traces.hasBlob(run.orgId, run.id, ref)) ? await deps.ingest.blob(ref) : undefined;
      if (!bytes) throw new WardenError('not_found', 'This run holds no payload with that reference.');
      return reply.type('application/json').send(bytes);
    });
  };
}
