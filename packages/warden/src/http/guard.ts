import type { FastifyRequest } from 'fastify';
import { WardenError, envelope } from '../errors/index.js';
import { addDetail, type EventWriter } from '../events/index.js';
import type { Guard, GuardVerdict } from '../guard/guard.js';
import { Redactor } from '../guard/scanner.js';
import type { AnswerGuard, AnswerReport } from '../proxy/answer-guard.js';
import { blockedMessage } from '../proxy/forward.js';
import type { UsageFormat } from '../proxy/usage.js';
import { riskScore, type Risk } from '../guard/risk.js';
import { callerOf, type RiskLedger } from '../limits/index.js';
import { securityEvent } from './context.js';

export interface GuardDeps {
  guard: Guard | null;
  limits: { risk: RiskLedger };
  writer: EventWriter;
}

/**
 * The guardrails stage for an LLM call: inspects the body the model will
 * read (redacting it in place when the action says so), records what it
 * found as a guard.finding security event, and refuses the call when a
 * finding's action is block. Returns the verdict and the request's risk,
 * which the policy decision sees as context.risk.
 */
export function inspectLlmRequest(request: FastifyRequest, deps: GuardDeps, body: Record<string, unknown>, model: string): GuardVerdict | null {
  const ctx = request.warden;
  if (!deps.guard || !ctx.principal) return null;
  const p = ctx.principal;
  const verdict = deps.guard.inspectRequest(body, { orgId: p.orgId, projectId: p.projectId, route: ctx.route, model });
  ctx.guard = verdict;
  if (verdict.findings.length === 0) return verdict;
  findingEvent(request, deps, verdict, 'request');
  if (verdict.action === 'block') {
    ctx.draft.decision = 'deny';
    throw new WardenError('content_blocked', `The request was blocked by a guardrail: it contains ${verdict.blocked.join(', ')}. Remove it and try again.`);
  }
  return verdict;
}

/** The guard.finding security event for what one direction of a call held. */
function findingEvent(request: FastifyRequest, deps: GuardDeps, v: Pick<GuardVerdict, 'findings' | 'action'>, direction: 'request' | 'response'): void {
  const risk = requestRisk(request, deps.limits.risk, v.findings);
  // What the caller sends is part of its recent behaviour (secrets and injections count); what a model answers is not.
  if (direction === 'request' && v.findings.some((f) => f.category !== 'pii')) deps.limits.risk.raise(callerOf(request.warden.principal!));
  securityEvent(request, deps, 'guard.finding', {
    direction,
    action: v.action,
    types: [...new Set(v.findings.map((f) => f.type))],
    severity: risk.level,
    description: describe(v, direction),
    findings: v.findings,
    risk: risk.score,
    risk_indicators: risk.indicators,
    decision: v.action === 'block' ? 'deny' : 'allow',
  });
}

function describe(v: Pick<GuardVerdict, 'findings' | 'action'>, direction: 'request' | 'response'): string {
  const counts = new Map<string, number>();
  for (const f of v.findings) counts.set(f.type, (counts.get(f.type) ?? 0) + 1);
  const what = [...counts].map(([t, n]) => (n > 1 ? `${n} × ${t}` : t)).join(', ');
  if (direction === 'response') {
    const done = v.action === 'block' ? 'the answer was cut off' : v.action === 'redact' ? 'redacted before the client saw it' : 'passed on and recorded';
    return `${what} in the model's answer; ${done}.`;
  }
  const done = v.action === 'block' ? 'blocked' : v.action === 'redact' ? 'redacted and forwarded' : 'forwarded and recorded';
  return `${what} in the request; ${done}.`;
}

/**
 * The guardrails for this call's answer, or null when answers are not
 * inspected. Placeholders continue the request's, so a value redacted in the
 * prompt has the same placeholder in the answer.
 */
export function answerGuard(request: FastifyRequest, deps: GuardDeps, model: string): AnswerGuard | null {
  const ctx = request.warden;
  const guard = deps.guard;
  if (!guard || !guard.answers || !ctx.principal) return null;
  const p = ctx.principal;
  return {
    guard,
    target: { orgId: p.orgId, projectId: p.projectId, route: ctx.route, model, direction: 'response' },
    redactor: ctx.guard?.redactor ?? new Redactor(),
    report: (r: AnswerReport) => {
      if (r.findings.length === 0) return;
      addDetail(ctx.draft, { guard_answer: { action: r.action, types: [...new Set(r.findings.map((f) => f.type))] } });
      if (r.action === 'block') {
        ctx.draft.errorType ??= 'authorization';
        ctx.draft.errorCode ??= 'content_blocked';
      }
      findingEvent(request, deps, r, 'response');
    },
    blockedEvent: (format: UsageFormat, types: string[]) => blockedEvent(format, new WardenError('content_blocked', blockedMessage(types)), ctx.requestId),
  };
}

/** An SSE error event in each API's own streaming error shape, which its SDKs raise as an API error. */
function blockedEvent(format: UsageFormat, err: WardenError, requestId: string): string {
  if (format === 'messages') return `event: error\ndata: ${JSON.stringify(envelope(err, requestId, true))}\n\n`;
  const body = envelope(err, requestId);
  if (format === 'responses') return `event: error\ndata: ${JSON.stringify({ type: 'error', code: err.code, message: err.message, param: null, ...body })}\n\n`;
  return `data: ${JSON.stringify(body)}\n\n`;
}

const ADMIN = /^\/api\//;
const GENERATION = /^\/v1\//;

/** The request's risk from what is known of it so far (the guard's findings, route, caller, size, recent behaviour). */
export function requestRisk(request: FastifyRequest, ledger: RiskLedger, findings = request.warden.guard?.findings ?? []): Risk {
  const ctx = request.warden;
  const p = ctx.principal;
  const length = Number(request.headers['content-length'] ?? 0);
  const recent = Math.max(p ? ledger.score(callerOf(p)) : 0, ledger.score(`ip:${request.ip}`));
  return riskScore({
    findings,
    injection: ctx.guard?.injection ?? 0,
    route: GENERATION.test(ctx.route) ? 'generation' : ADMIN.test(ctx.route) ? 'admin' : 'other',
    auth: !p ? 'none' : p.via === 'api_key' || p.via === 'hmac' ? 'machine' : 'human',
    payloadBytes: Number.isFinite(length) ? length : 0,
    recent,
  });
}
