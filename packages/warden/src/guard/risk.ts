import type { RecordedFinding } from './scanner.js';

export type RiskLevel = 'low' | 'medium' | 'high' | 'critical';

/** What the risk of one request is computed from. */
export interface RiskInputs {
  findings: readonly RecordedFinding[];
  /** Highest prompt-injection score among the request's texts (0 when none). */
  injection: number;
  /** `admin` (the admin API), `generation` (LLM and tool calls) or `other`. */
  route: 'admin' | 'generation' | 'other';
  /** How the caller authenticated: none, a machine credential (API key, HMAC) or a person's session. */
  auth: 'none' | 'machine' | 'human';
  payloadBytes: number;
  /** The caller's recent behaviour, 0..100 (RiskLedger: auth failures, limit hits, findings). */
  recent: number;
}

export interface Risk {
  score: number;
  level: RiskLevel;
  /** What contributed, strongest first (e.g. `secret:AWS_ACCESS_KEY`, `injection`, `no_auth`, `recent_violations`). */
  indicators: string[];
}

export function riskLevel(score: number): RiskLevel {
  return score < 0.3 ? 'low' : score < 0.6 ? 'medium' : score < 0.8 ? 'high' : 'critical';
}

/**
 * 0..1 from independent contributions combined as 1 − Π(1 − cᵢ): any one
 * strong signal (a live secret, a likely injection) makes the request risky
 * on its own, several weak ones add up, and none can push past 1. The
 * weights are documented in docs/guardrails.md.
 */
export function riskScore(r: RiskInputs): Risk {
  const parts: Array<[string, number]> = [];
  let pii = 0;
  for (const f of r.findings) {
    if (f.category === 'secret') parts.push([`secret:${f.type}`, 0.75 * f.confidence]);
    else if (f.category === 'pii') pii++;
  }
  if (pii) parts.push([`pii:${pii}`, Math.min(0.45, 0.15 + 0.05 * (pii - 1))]);
  if (r.injection > 0) parts.push(['injection', 0.95 * r.injection]);
  if (r.route === 'admin') parts.push(['admin_route', 0.1]);
  else if (r.route === 'generation') parts.push(['generation_route', 0.02]);
  if (r.auth === 'none') parts.push(['no_auth', 0.3]);
  else if (r.auth === 'machine') parts.push(['machine_caller', 0.02]);
  if (r.payloadBytes > 1 << 20) parts.push(['large_payload', 0.2]);
  else if (r.payloadBytes > 100 << 10) parts.push(['large_payload', 0.1]);
  if (r.recent >= 1) parts.push(['recent_violations', Math.min(0.6, (r.recent / 100) * 0.6)]);
  let keep = 1;
  for (const [, c] of parts) keep *= 1 - c;
  const score = Math.round((1 - keep) * 1000) / 1000;
  return { score, level: riskLevel(score), indicators: parts.sort((a, b) => b[1] - a[1]).map(([n]) => n) };
}
