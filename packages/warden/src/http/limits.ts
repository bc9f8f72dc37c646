import type { FastifyRequest } from 'fastify';
import { addDetail } from '../events/index.js';
import { callerOf, type Admission, type CallBody, type Limiter, type Refusal, type RiskLedger } from '../limits/index.js';

export interface LimitDeps {
  limits: { limiter: Limiter | null; risk: RiskLedger };
}

/**
 * The limits stage for one request: admits it (recording the admission on
 * the request, to settle when it is over) or throws the 429 after turning
 * the request's event into a ratelimit.exceeded / budget.exceeded security
 * event. Synchronous with in-process counters, a promise with Redis.
 */
export function limitRequest(request: FastifyRequest, deps: LimitDeps, model: string | null, payload: CallBody | null): void | Promise<void> {
  const limiter = deps.limits.limiter;
  const ctx = request.warden;
  const principal = ctx.principal;
  if (!limiter || !principal) return;
  const got = limiter.admit({ principal, route: ctx.route, model, tool: null }, payload, (r) => refused(request, deps, r));
  if (got instanceof Promise) return got.then((a) => admitted(request, limiter, a));
  admitted(request, limiter, got);
}

function admitted(request: FastifyRequest, limiter: Limiter, a: Admission | null): void {
  if (!a) return;
  request.warden.admission = a;
  const h = limiter.headers(a);
  if (h.length === 2) request.warden.limitHeaders = ['ratelimit-policy', h[0], 'ratelimit', h[1]];
}

function refused(request: FastifyRequest, deps: LimitDeps, r: Refusal): void {
  const d = request.warden.draft;
  const p = request.warden.principal!;
  d.kind = r.rule.metric === 'spend_usd' ? 'budget.exceeded' : 'ratelimit.exceeded';
  d.decision = 'deny';
  // Repeated violations raise the caller's risk score (read by the guardrails stage).
  const risk = deps.limits.risk.raise(callerOf(p));
  addDetail(d, {
    limit: r.rule.name,
    metric: r.rule.metric,
    per: r.rule.per,
    subject: r.subject,
    limit_value: r.rule.limit,
    window_s: r.rule.windowMs / 1000 || null,
    used: Math.round(r.used * 1e6) / 1e6,
    retry_after_s: Number.isFinite(r.retryAfterS) ? Math.ceil(r.retryAfterS) : null,
    risk_score: Math.round(risk * 10) / 10,
  });
}

/** The request is over: move token and spend charges to actual usage and free in-flight slots. */
export function settleLimits(request: FastifyRequest, limiter: Limiter | null): void {
  const a = request.warden.admission;
  if (!a || !limiter) return;
  const d = request.warden.draft;
  const charged = limiter.settle(a, { tokensIn: d.tokensIn, tokensOut: d.tokensOut, costUsd: d.costUsd });
  // An aborted stream: its event records what it was charged (input estimated, output as streamed).
  if (charged && d.tokensOut !== null && d.tokensIn === null) {
    d.tokensIn = charged.tokensIn;
    d.costUsd ??= charged.costUsd;
  }
}
