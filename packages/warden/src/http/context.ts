import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { type EventDraft, type EventWriter, type WardenEvent, newDraft, uuidv7 } from '../events/index.js';
import type { KeyRecord } from '../storage/types.js';
import type { GatewayMetrics } from '../telemetry/index.js';

/** Per-request state the edge keeps: correlation ids, timing, caller, and the event draft. */
export interface RequestContext {
  requestId: string;
  traceId: string | null;
  /** The incoming traceparent, forwarded upstream unchanged. */
  traceparent: string | null;
  ts: number;
  startedAt: bigint;
  key: KeyRecord | null;
  draft: EventDraft;
  /** Whether this request becomes an audit event (health and metrics scrapes do not). */
  audited: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    warden: RequestContext;
  }
  interface FastifyContextConfig {
    /** 'none' (public), 'key' (any valid key), 'admin' (admin role). */
    auth?: 'none' | 'key' | 'admin';
    audited?: boolean;
    /** Render errors in Anthropic's envelope variant. */
    anthropic?: boolean;
  }
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
/** W3C Trace Context §3.2: version-traceid-parentid-flags, all lowercase hex. */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** Honour a well-formed incoming x-request-id; otherwise mint one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && SAFE_REQUEST_ID.test(header) ? header : uuidv7();
}

export function startContext(request: FastifyRequest): RequestContext {
  const tp = request.headers.traceparent;
  const m = typeof tp === 'string' ? TRACEPARENT.exec(tp) : null;
  const traceId = m && !/^0+$/.test(m[1]!) ? m[1]! : null;
  const audited = request.routeOptions.config?.audited ?? false;
  return {
    requestId: request.id,
    traceId,
    traceparent: traceId ? (tp as string) : null,
    ts: Date.now(),
    startedAt: process.hrtime.bigint(),
    key: null,
    draft: newDraft(request.url.startsWith('/v1/') ? 'llm.request' : 'api.request'),
    audited,
  };
}

export interface FinalizeDeps {
  writer: EventWriter;
  metrics: GatewayMetrics;
  logger: Logger;
}

/** When the response is over (sent or aborted): one event, one log line, the metrics. */
export function finalize(request: FastifyRequest, reply: FastifyReply, deps: FinalizeDeps): void {
  const ctx = request.warden;
  const d = ctx.draft;
  const raw = reply.raw;
  const aborted = !raw.writableFinished;
  const durationMs = Number(process.hrtime.bigint() - ctx.startedAt) / 1e6;
  const route = request.routeOptions.url ?? 'unmatched';
  // 499: the client went away before the response was complete (nginx's convention).
  const status = aborted ? 499 : raw.statusCode;
  const event: WardenEvent = {
    id: uuidv7(ctx.ts),
    ts: ctx.ts,
    requestId: ctx.requestId,
    traceId: ctx.traceId,
    kind: d.kind,
    method: request.method,
    route,
    status,
    durationMs: round3(durationMs),
    upstreamMs: d.upstreamMs === null ? null : round3(d.upstreamMs),
    ttftMs: d.ttftMs === null ? null : round3(d.ttftMs),
    keyId: d.keyId,
    userId: d.userId,
    agentId: d.agentId,
    orgId: d.orgId,
    model: d.model,
    provider: d.provider,
    tokensIn: d.tokensIn,
    tokensOut: d.tokensOut,
    costUsd: d.costUsd,
    clientIp: request.ip ?? null,
    userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'].slice(0, 512) : null,
    errorType: d.errorType,
    errorCode: d.errorCode ?? (aborted ? 'client_closed' : null),
    decision: d.decision,
    detail: d.detail,
  };
  if (ctx.audited || d.kind === 'auth.failure') deps.writer.emit(event);
  observe(deps.metrics, event, route);
  deps.logger.info(logLine(event), 'request');
}

function observe(m: GatewayMetrics, e: WardenEvent, route: string): void {
  m.requests.inc({ route, method: e.method ?? '', status: String(e.status) });
  m.requestDuration.observe({ route }, (e.durationMs ?? 0) / 1000);
  if (e.provider) {
    if (e.upstreamMs !== null) m.upstreamDuration.observe({ provider: e.provider }, e.upstreamMs / 1000);
    if (e.ttftMs !== null) m.timeToFirstToken.observe({ provider: e.provider }, e.ttftMs / 1000);
    const model = e.model ?? '';
    if (e.tokensIn) m.tokens.inc({ provider: e.provider, model, direction: 'input' }, e.tokensIn);
    if (e.tokensOut) m.tokens.inc({ provider: e.provider, model, direction: 'output' }, e.tokensOut);
    if (e.costUsd) m.cost.inc({ provider: e.provider, model }, e.costUsd);
    if (e.errorType === 'upstream' && e.errorCode && e.errorCode !== 'client_closed') {
      m.upstreamErrors.inc({ provider: e.provider, code: e.errorCode });
    }
  }
}

/** The event's fields without nulls: one compact JSON line per request. */
function logLine(e: WardenEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (v !== null) out[k] = v;
  return out;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
