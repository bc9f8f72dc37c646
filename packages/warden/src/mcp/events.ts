import { blankEvent, type EventWriter, uuidv7 } from '../events/index.js';
import { type Guard, type GuardVerdict, Redactor, type TextSource } from '../guard/index.js';
import type { McpCaller } from './call.js';

/** What Warden decided about one MCP request, and why (the deciding policy, `rbac`, `guardrail`…). */
export interface McpOutcome {
  decision: 'allow' | 'deny' | 'pending';
  reason: string;
  errorCode?: string;
}

export const msSince = (t: bigint): number => Math.round(Number(process.hrtime.bigint() - t) / 1e4) / 100;

/** One MCP event (`mcp.tool_invoke`, `mcp.discovery`, `mcp.resource_read`, `mcp.prompt_get`) with the caller's correlation fields. */
export function mcpEvent(writer: Pick<EventWriter, 'emit'>, caller: McpCaller, kind: string, started: bigint, server: string | null, o: McpOutcome, detail: Record<string, unknown>): void {
  const p = caller.principal;
  writer.emit({
    ...blankEvent(),
    id: uuidv7(),
    ts: Date.now(),
    requestId: caller.requestId,
    traceId: caller.traceId,
    kind,
    method: 'POST',
    route: caller.route,
    durationMs: msSince(started),
    upstreamMs: typeof detail.upstream_ms === 'number' ? detail.upstream_ms : null,
    keyId: p.keyId,
    userId: p.userId,
    agentId: p.agentId,
    orgId: p.orgId,
    provider: server,
    clientIp: caller.clientIp,
    userAgent: caller.userAgent,
    errorType: o.errorCode ? (o.decision === 'deny' ? 'authorization' : 'upstream') : null,
    errorCode: o.errorCode ?? null,
    decision: o.decision,
    detail: { ...detail, reason: o.reason },
  });
}

/**
 * The guardrails on what goes to a server (`request`, read as the caller's
 * words) or comes back from it (`response`, read as `source`: a tool result
 * or a document, where planted instructions weigh more). Rules match the
 * target as `{server}/{name}`.
 */
export function inspectMcp(guard: Guard | null, caller: McpCaller, target: string, value: object, direction: 'request' | 'response', source: TextSource): GuardVerdict | null {
  if (!guard) return null;
  const p = caller.principal;
  return guard.inspectPayload(value, { orgId: p.orgId, projectId: p.projectId, route: caller.route, model: null, tool: target, direction }, direction === 'request' ? 'user' : source, new Redactor());
}

/** A verdict as an event shows it: the action, the types, and the findings (hashes and masked previews only). */
export function findingSummary(v: GuardVerdict): Record<string, unknown> {
  return { action: v.action, types: [...new Set(v.findings.map((f) => f.type))], findings: v.findings };
}
