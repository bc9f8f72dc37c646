import type { FastifyReply, FastifyRequest } from 'fastify';
import { type EventDraft, type EventWriter, type WardenEvent, blankEvent, eventJson, newDraft, uuidv7 } from '../events/index.js';
import type { Permission, Principal } from '../identity/index.js';
import type { GuardVerdict } from '../guard/guard.js';
import type { Admission, Limiter, RiskLedger } from '../limits/index.js';
import type { Risk } from '../guard/risk.js';
import { requestRisk } from './guard.js';
import { settleLimits } from './limits.js';
import type { GatewayMetrics, RequestLog } from '../telemetry/index.js';

/** Per-request state the edge keeps: correlation ids, timing, caller, and the event draft. */
export interface RequestContext {
  requestId: string;
  traceId: string | null;
  /** The incoming traceparent, forwarded upstream unchanged. */
  traceparent: string | null;
  ts: number;
  startedAt: bigint;
  /** Who is calling, once authenticated. */
  principal: Principal | null;
  /** Set when authentication waits for the body (an HMAC-signed request). */
  signed: boolean;
  draft: EventDraft;
  /** The matched route's template (e.g. /v1/chat/completions), or 'unmatched'. */
  route: string;
  /** The matched route's Warden options (`audited`: whether it becomes an audit event; health and metrics scrapes do not). */
  config: import('fastify').FastifyContextConfig;
  /** Called once if the client goes away before the response is complete (cancels upstream work). */
  onAbort: (() => void) | null;
  /** The limits stage's reservation, settled when the request is over. */
  admission: Admission | null;
  /** RateLimit-Policy / RateLimit fields for the response, as [name, value, name, value]. */
  limitHeaders: string[] | null;
  /** What the guardrails found in the request (null: not inspected). */
  guard: GuardVerdict | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    warden: RequestContext;
    /** The body's exact bytes, for JSON and form bodies (HMAC signatures cover them). */
    rawBody: Buffer | null;
  }
  interface FastifyContextConfig {
    /** 'none': public. Otherwise every caller must authenticate. */
    auth?: 'none' | 'required';
    /** The role permission the route needs (implies auth). */
    permission?: Permission;
    audited?: boolean;
    /** Render errors in Anthropic's envelope variant. */
    anthropic?: boolean;
    /** Render errors as OTLP/HTTP does: a google.rpc.Status in the request's encoding. */
    otlp?: boolean;
    /** The handler applies rate limits itself (the LLM routes: limits can depend on the model and the body). */
    limitsInHandler?: boolean;
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
  // routeOptions is a getter that builds a fresh object on every read: read it once per request.
  const options = request.routeOptions;
  const config = options.config ?? {};
  return {
    requestId: request.id,
    traceId,
    traceparent: traceId ? (tp as string) : null,
    ts: Date.now(),
    startedAt: process.hrtime.bigint(),
    principal: null,
    signed: false,
    draft: newDraft(request.url.startsWith('/v1/') ? 'llm.request' : 'api.request'),
    route: options.url ?? 'unmatched',
    config,
    onAbort: null,
    admission: null,
    limitHeaders: null,
    guard: null,
  };
}

export interface FinalizeDeps {
  limits: { limiter: Limiter | null; risk: RiskLedger };
  writer: EventWriter;
  metrics: GatewayMetrics;
  requestLog: RequestLog;
}

/** When the response is over (sent or aborted): one event, one log line, the metrics. */
export function finalize(request: FastifyRequest, reply: FastifyReply, deps: FinalizeDeps): void {
  const ctx = request.warden;
  const d = ctx.draft;
  const raw = reply.raw;
  const aborted = !raw.writableFinished;
  if (aborted) ctx.onAbort?.();
  settleLimits(request, deps.limits.limiter);
  const durationMs = Number(process.hrtime.bigint() - ctx.startedAt) / 1e6;
  const route = ctx.route;
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
    detail: withRisk(d.kind, d.detail, requestRisk(request, deps.limits.risk)),
  };
  deps.metrics.observe(event, route);
  const audit = ctx.config.audited === true || SECURITY_KINDS.has(d.kind);
  if (!audit && !deps.requestLog.enabled) return;
  // One serialisation serves both the audit event and the log line.
  const json = eventJson(event);
  if (audit) deps.writer.emitJson(json);
  deps.requestLog.write(json);
}

/** Every request event carries its risk score and level (docs/guardrails.md); security events also a severity, a description and the risk's indicators. */
function withRisk(kind: string, detail: Record<string, unknown> | null, r: Risk): Record<string, unknown> {
  const out = detail === null ? { risk: r.score, risk_level: r.level } : { ...detail, risk: r.score, risk_level: r.level };
  return SECURITY_KINDS.has(kind) ? securityFields(kind, out, r) : out;
}

/** What every security event says of itself, where its producer did not already: severity (the risk level), a sentence, and the risk indicators. */
function securityFields(kind: string, detail: Record<string, unknown>, r: Risk): Record<string, unknown> {
  detail.severity ??= r.level;
  detail.description ??= describeSecurity(kind, detail);
  detail.risk_indicators ??= r.indicators;
  return detail;
}

function describeSecurity(kind: string, d: Record<string, unknown>): string {
  switch (kind) {
    case 'auth.failure':
      return `Authentication failed (${String(d.reason ?? 'unknown reason')}); the request was refused.`;
    case 'ratelimit.exceeded':
    case 'budget.exceeded':
      return `Limit "${String(d.limit)}" (${String(d.limit_value)} ${String(d.metric)}${d.window_s ? ` per ${String(d.window_s)} s` : ''}, per ${String(d.per)}) was reached; the call was refused.`;
    case 'security.account_locked':
      return 'The account was locked after repeated failed sign-ins.';
    case 'security.refresh_token_reuse':
      return 'A refresh token was used a second time; every token of that sign-in was revoked.';
    case 'policy.decision':
      return `The policy decision was ${String(d.decision)} for ${String(d.action)}.`;
    default:
      return kind;
  }
}

/** Request events that are security events: recorded even on routes that are not otherwise audited. */
const SECURITY_KINDS = new Set(['auth.failure', 'ratelimit.exceeded', 'budget.exceeded']);

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/**
 * A security event beside the request's own (an account locked, a refresh
 * token replayed), with the request's correlation fields.
 */
/** What emitting a security event needs: the writer, and the risk ledger its severity is read from. */
export interface SecurityDeps {
  writer: EventWriter;
  limits: { risk: RiskLedger };
}

export function securityEvent(request: FastifyRequest, deps: SecurityDeps, kind: string, detail: Record<string, unknown>): void {
  const ctx = request.warden;
  const p = ctx.principal;
  if (detail.severity === undefined) securityFields(kind, detail, requestRisk(request, deps.limits.risk));
  deps.writer.emit({
    ...blankEvent(),
    id: uuidv7(),
    ts: Date.now(),
    requestId: ctx.requestId,
    traceId: ctx.traceId,
    kind,
    method: request.method,
    route: ctx.route,
    keyId: p?.keyId ?? null,
    userId: p?.userId ?? (typeof detail.user_id === 'string' ? detail.user_id : null),
    agentId: p?.agentId ?? null,
    orgId: p?.orgId ?? (typeof detail.org_id === 'string' ? detail.org_id : null),
    clientIp: request.ip ?? null,
    userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'].slice(0, 512) : null,
    decision: detail.decision === 'allow' || detail.decision === 'deny' ? detail.decision : null,
    detail,
  });
}

/** The policy.decision event: which principal, action and resource, the decision and the policies that made it. */
export function policyDecisionEvent(
  request: FastifyRequest,
  deps: SecurityDeps,
  action: string,
  resource: { type: string; id: string },
  d: { decision: 'allow' | 'deny'; policyIds: readonly string[]; reason: string; cached: boolean },
): void {
  const p = request.warden.principal;
  securityEvent(request, deps, 'policy.decision', {
    action,
    resource,
    principal: p ? { type: p.type, id: p.id } : null,
    decision: d.decision,
    policy_ids: d.policyIds,
    reason: d.reason,
    cached: d.cached,
  });
}
