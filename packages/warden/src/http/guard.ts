import type { FastifyRequest } from 'fastify';
import { WardenError } from '../errors/index.js';
import type { EventWriter } from '../events/index.js';
import type { Guard, GuardVerdict } from '../guard/guard.js';
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
  const risk = requestRisk(request, deps.limits.risk);
  // Findings are part of the caller's recent behaviour: secrets and injections count, PII a little.
  if (verdict.findings.some((f) => f.category !== 'pii')) deps.limits.risk.raise(callerOf(p));
  securityEvent(request, deps.writer, 'guard.finding', {
    action: verdict.action,
    types: [...new Set(verdict.findings.map((f) => f.type))],
    severity: risk.level,
    description: describe(verdict),
    findings: verdict.findings,
    risk: risk.score,
    risk_indicators: risk.indicators,
    decision: verdict.action === 'block' ? 'deny' : 'allow',
  });
  if (verdict.action === 'block') {
    ctx.draft.decision = 'deny';
    throw new WardenError('content_blocked', `The request was blocked by a guardrail: it contains ${verdict.blocked.join(', ')}. Remove it and try again.`);
  }
  return verdict;
}

function describe(v: GuardVerdict): string {
  const counts = new Map<string, number>();
  for (const f of v.findings) counts.set(f.type, (counts.get(f.type) ?? 0) + 1);
  const what = [...counts].map(([t, n]) => (n > 1 ? `${n} × ${t}` : t)).join(', ');
  const done = v.action === 'block' ? 'blocked' : v.action === 'redact' ? 'redacted and forwarded' : 'forwarded and recorded';
  return `${what} in the request; ${done}.`;
}

const ADMIN = /^\/api\//;
const GENERATION = /^\/v1\//;

/** The request's risk from what is known of it so far (the guard's findings, route, caller, size, recent behaviour). */
export function requestRisk(request: FastifyRequest, ledger: RiskLedger): Risk {
  const ctx = request.warden;
  const p = ctx.principal;
  const length = Number(request.headers['content-length'] ?? 0);
  const recent = Math.max(p ? ledger.score(callerOf(p)) : 0, ledger.score(`ip:${request.ip}`));
  return riskScore({
    findings: ctx.guard?.findings ?? [],
    injection: ctx.guard?.injection ?? 0,
    route: GENERATION.test(ctx.route) ? 'generation' : ADMIN.test(ctx.route) ? 'admin' : 'other',
    auth: !p ? 'none' : p.via === 'api_key' || p.via === 'hmac' ? 'machine' : 'human',
    payloadBytes: Number.isFinite(length) ? length : 0,
    recent,
  });
}
