import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { EventWriter } from '../events/index.js';
import type { Guard, GuardVerdict } from '../guard/index.js';
import { jsonInspectable, riskScore } from '../guard/index.js';
import type { Principal, RolePermissions } from '../identity/index.js';
import type { AuthzDecision, AuthzRequest, PolicyEngine } from '../policy/index.js';
import { denialCause } from '../policy/index.js';
import type { ApprovalQueue, ApprovalStatus } from './approvals.js';
import { ArgumentValidator } from './arguments.js';
import { findingSummary, inspectMcp, mcpEvent, msSince } from './events.js';
import { recordedCopy } from './record.js';
import { errorText, type ListedTool, passedOn, rpcError, type ToolDirectory } from './tools.js';

/** Who is calling, from the HTTP request that carried the message. */
export interface McpCaller {
  principal: Principal;
  requestId: string;
  traceId: string | null;
  clientIp: string | null;
  userAgent: string | null;
  route: string;
}

export interface ToolCallDeps {
  policies: { engine: Pick<PolicyEngine, 'decide' | 'needsApproval'> };
  /** Calls an `@approval` policy holds wait here; null: such calls are denied. */
  approvals: ApprovalQueue | null;
  rbac: Pick<RolePermissions, 'allows'>;
  guard: Guard | null;
  writer: Pick<EventWriter, 'emit'>;
  /** Counts each decided call, and times the server's answer when there was one. */
  observe?: (server: string, tool: string, decision: 'allow' | 'deny', upstreamSeconds: number | null) => void;
}

type Outcome = { decision: 'allow' | 'deny' | 'pending'; reason: string; errorCode?: string };

/** Tells the waiting client the call is still held (MCP progress notifications keep its request timeout from firing). */
export type ProgressReport = (message: string) => void;

/** How often a held call reports that it is still waiting. */
const HOLD_PROGRESS_MS = 5_000;

/**
 * What Warden does with each MCP request, in order: `tools/list` answers
 * with the tools the caller's policy allows; `tools/call` is refused
 * without the `tools:call` permission, then its arguments are checked
 * against the tool's inputSchema, scanned by the guardrails, decided by
 * Cedar with the arguments in context, sent to the server, and the result
 * scanned as a tool result (where planted instructions weigh more). Every
 * listing and every call is an event, arguments and results redacted.
 */
export class ToolCallPipeline {
  readonly #validator = new ArgumentValidator();

  constructor(private readonly deps: ToolCallDeps) {}

  async list(caller: McpCaller, scope: string | null, directory: ToolDirectory): Promise<ListedTool[]> {
    const started = process.hrtime.bigint();
    const { tools, failed } = await directory.list(scope, caller.principal.orgId);
    const allowed = tools.filter((t) => {
      const d = this.#decide(caller, t, undefined, 0);
      return d.decision === 'allow' && d.errors.length === 0;
    });
    this.#emit(caller, 'mcp.discovery', started, null, { decision: 'allow', reason: 'policy' }, {
      server: scope,
      method: 'tools/list',
      listed: allowed.length,
      hidden: tools.length - allowed.length,
      ...(failed.length ? { unreachable: failed } : {}),
    });
    return allowed;
  }

  async call(caller: McpCaller, t: ListedTool, rawArgs: Record<string, unknown>, signal: AbortSignal, progress?: ProgressReport): Promise<CallToolResult> {
    const started = process.hrtime.bigint();
    const meta: Record<string, unknown> = { server: t.server.name, tool: t.tool };
    const refuse = (code: number, message: string, outcome: Outcome, recorded?: unknown): never => {
      this.#emit(caller, 'mcp.tool_invoke', started, t, outcome, { ...meta, ...(recorded !== undefined ? { arguments: recorded } : {}), error: message });
      throw rpcError(code, message);
    };
    const p = caller.principal;
    if (!this.deps.rbac.allows(p.orgId, p.roles, 'tools:call')) {
      refuse(ErrorCode.InvalidRequest, 'Calling tools needs the "tools:call" permission, which your role does not have.', { decision: 'deny', reason: 'rbac', errorCode: 'permission_denied' });
    }
    const invalid = this.#validator.check(t.definition.inputSchema, rawArgs);
    if (invalid) refuse(ErrorCode.InvalidParams, `Invalid arguments for "${t.name}": ${invalid}.`, { decision: 'deny', reason: 'invalid_arguments', errorCode: 'invalid_arguments' });

    // What the guardrails cannot reach (nested past their depth, or too many strings) is not forwarded uninspected.
    if (this.deps.guard && !jsonInspectable(rawArgs)) {
      refuse(ErrorCode.InvalidParams, `Invalid arguments for "${t.name}": they nest too deep or hold too many strings for the guardrails to inspect.`, { decision: 'deny', reason: 'invalid_arguments', errorCode: 'invalid_arguments' });
    }
    const original = structuredClone(rawArgs);
    const args = rawArgs;
    const argsVerdict = this.#inspect(caller, t, args, 'request');
    const recordedArgs = recordedCopy(original, argsVerdict?.findings ?? [], 'user');
    if (argsVerdict?.action === 'block') {
      refuse(ErrorCode.InvalidRequest, `The call was blocked by a guardrail: its arguments contain ${argsVerdict.blocked.join(', ')}.`, { decision: 'deny', reason: 'guardrail', errorCode: 'content_blocked' }, recordedArgs);
    }
    const risk = riskOf(argsVerdict, p);
    const request = this.#request(caller, t, args, risk);
    const decided = this.deps.policies.engine.decide(request);
    // A policy that failed to evaluate (say, a number Cedar cannot compare) is skipped by Cedar: on tool calls that fails closed.
    if (decided.errors.length > 0) {
      refuse(ErrorCode.InvalidRequest, `The call to "${t.name}" is refused: a policy could not be evaluated on its arguments (${decided.errors[0]}).`, { decision: 'deny', reason: 'policy_error', errorCode: 'policy_denied' }, recordedArgs);
    }
    let approval: Record<string, unknown> = {};
    if (decided.decision === 'deny') {
      const approvals = this.deps.approvals;
      if (!approvals || !this.deps.policies.engine.needsApproval(request, decided)) {
        refuse(ErrorCode.InvalidRequest, `A policy does not allow this call to "${t.name}"${denialCause(decided)}.`, { decision: 'deny', reason: policyReason(decided), errorCode: 'policy_denied' }, recordedArgs);
      }
      const held = approvals!.request({ org_id: p.orgId, requester: { type: p.type, id: p.id, user_id: p.userId, agent_id: p.agentId }, server: t.server.name, tool: t.tool, arguments: recordedArgs, policy_ids: decided.policyIds, risk, request_id: caller.requestId }, signal);
      this.#emit(caller, 'mcp.tool_invoke', started, t, { decision: 'pending', reason: policyReason(decided) }, { ...meta, arguments: recordedArgs, approval_id: held.approval.id });
      const status = await waitReporting(held.settled, progress, `Waiting for approval ${held.approval.id} (policy ${decided.policyIds.join(', ')})`);
      const a = held.approval;
      approval = { approval: { id: a.id, status, decided_by: a.decided_by, note: a.note } };
      if (status !== 'approved') {
        const why = status === 'denied' ? `was denied by ${a.decided_by?.type} ${a.decided_by?.id}${a.note ? `: ${a.note}` : ''}` : `expired before anyone approved it${a.note ? ` (${a.note})` : ''}`;
        this.#emit(caller, 'mcp.tool_invoke', started, t, { decision: 'deny', reason: `approval:${status}`, errorCode: status === 'denied' ? 'approval_denied' : 'approval_expired' }, { ...meta, ...approval, arguments: recordedArgs });
        throw rpcError(ErrorCode.InvalidRequest, `The call to "${t.name}" needed approval (approval ${a.id}) and ${why}.`);
      }
    }
    const allowed: Outcome = { decision: 'allow', reason: approval.approval ? 'approval:approved' : policyReason(decided) };
    const guardMeta = { ...approval, ...(argsVerdict && argsVerdict.findings.length ? { guard_arguments: findingSummary(argsVerdict) } : {}) };

    let result: CallToolResult;
    const sent = process.hrtime.bigint();
    try {
      // The server's own progress notifications go on to the caller (when it asked for progress).
      result = await t.server.call(t.tool, args, signal, progress ? (p) => progress(p.message ?? `${p.progress}${p.total ? ` of ${p.total}` : ''}`) : undefined);
    } catch (err) {
      if (err instanceof McpError && err.code !== -32001) {
        // The server's own JSON-RPC error: its words reach the agent's model too, so they are inspected like a result.
        const said = { message: err.message, ...(err.data !== undefined ? { data: err.data } : {}) };
        const original = structuredClone(said);
        const v = this.#inspect(caller, t, said, 'response');
        const recorded = recordedCopy(original, v?.findings ?? [], 'tool_result');
        if (v?.action === 'block' || (this.deps.guard && !jsonInspectable(original))) {
          const message = `The MCP server "${t.server.name}" answered "${t.tool}" with an error a guardrail blocked${v?.blocked.length ? `: it contains ${v.blocked.join(', ')}` : ''}.`;
          this.#emit(caller, 'mcp.tool_invoke', started, t, { decision: 'deny', reason: 'guardrail', errorCode: 'content_blocked' }, { ...meta, ...guardMeta, arguments: recordedArgs, upstream_ms: msSince(sent), error: message });
          throw rpcError(err.code, message);
        }
        this.#emit(caller, 'mcp.tool_invoke', started, t, { ...allowed, errorCode: 'tool_error' }, { ...meta, ...guardMeta, ...(v && v.findings.length ? { guard_result: findingSummary(v) } : {}), arguments: recordedArgs, upstream_ms: msSince(sent), error: recorded });
        throw passedOn({ code: err.code, message: said.message, data: said.data });
      }
      const message = `The MCP server "${t.server.name}" could not run "${t.tool}": ${errorText(err)}.`;
      this.#emit(caller, 'mcp.tool_invoke', started, t, { ...allowed, errorCode: 'upstream_unavailable' }, { ...meta, ...guardMeta, arguments: recordedArgs, upstream_ms: msSince(sent), error: message });
      throw rpcError(ErrorCode.InternalError, message);
    }
    const upstreamMs = msSince(sent);
    const resultBytes = Buffer.byteLength(JSON.stringify(result));
    if (this.deps.guard && !jsonInspectable(result)) {
      const message = `The tool's result nests too deep or holds too many strings for the guardrails to inspect, so it is withheld.`;
      this.#emit(caller, 'mcp.tool_invoke', started, t, { decision: 'deny', reason: 'guardrail', errorCode: 'content_blocked' }, { ...meta, ...guardMeta, arguments: recordedArgs, upstream_ms: upstreamMs, result_bytes: resultBytes, error: message });
      return { content: [{ type: 'text', text: message }], isError: true };
    }
    const originalResult = structuredClone(result);
    const resultVerdict = this.#inspect(caller, t, result, 'response');
    const recordedResult = recordedCopy(originalResult, resultVerdict?.findings ?? [], 'tool_result');
    const common = { ...meta, ...guardMeta, ...(resultVerdict && resultVerdict.findings.length ? { guard_result: findingSummary(resultVerdict) } : {}), arguments: recordedArgs, upstream_ms: upstreamMs, result_bytes: resultBytes, is_error: result.isError === true };
    if (resultVerdict?.action === 'block') {
      const message = `The tool's result was blocked by a guardrail: it contains ${resultVerdict.blocked.join(', ')}.`;
      this.#emit(caller, 'mcp.tool_invoke', started, t, { decision: 'deny', reason: 'guardrail', errorCode: 'content_blocked' }, { ...common, error: message });
      return { content: [{ type: 'text', text: message }], isError: true };
    }
    this.#emit(caller, 'mcp.tool_invoke', started, t, allowed, { ...common, result: recordedResult });
    return result;
  }

  /** A call that never reached the pipeline (no such tool, or its server could not list its tools): on record all the same. */
  unresolved(caller: McpCaller, name: string, message: string, errorCode: 'unknown_tool' | 'upstream_unavailable'): void {
    mcpEvent(this.deps.writer, caller, 'mcp.tool_invoke', process.hrtime.bigint(), null, { decision: 'deny', reason: 'unresolved', errorCode }, { tool: name, error: message });
  }

  /** The guardrails on a call's arguments (as what the tool reads) or its result (as what the agent's model will read). */
  #inspect(caller: McpCaller, t: ListedTool, value: object, direction: 'request' | 'response'): GuardVerdict | null {
    return inspectMcp(this.deps.guard, caller, `${t.server.name}/${t.tool}`, value, direction, 'tool_result');
  }

  #decide(caller: McpCaller, t: ListedTool, args: Record<string, unknown> | undefined, risk: number): AuthzDecision {
    return this.deps.policies.engine.decide(this.#request(caller, t, args, risk));
  }

  #request(caller: McpCaller, t: ListedTool, args: Record<string, unknown> | undefined, risk: number): AuthzRequest {
    return {
      principal: caller.principal,
      action: 'tools/call',
      resource: { type: 'Tool', id: t.tool, server: t.server.name },
      context: { clientIp: caller.clientIp, route: caller.route, risk, ...(args ? { arguments: args } : {}) },
    };
  }

  #emit(caller: McpCaller, kind: string, started: bigint, t: ListedTool | null, o: Outcome, detail: Record<string, unknown>): void {
    if (t && kind === 'mcp.tool_invoke' && o.decision !== 'pending') {
      this.deps.observe?.(t.server.name, t.tool, o.decision, typeof detail.upstream_ms === 'number' ? detail.upstream_ms / 1000 : null);
    }
    mcpEvent(this.deps.writer, caller, kind, started, t?.server.name ?? null, o, detail);
  }

}

/** Waits for a held call's decision, telling the client every few seconds that it is still waiting. */
async function waitReporting(settled: Promise<ApprovalStatus>, progress: ProgressReport | undefined, message: string): Promise<ApprovalStatus> {
  if (!progress) return settled;
  progress(message);
  const tick = setInterval(() => progress(message), HOLD_PROGRESS_MS);
  try {
    return await settled;
  } finally {
    clearInterval(tick);
  }
}

/** The call's risk from what its arguments held and who sends them: what a policy reads as context.risk. */
function riskOf(v: GuardVerdict | null, p: Principal): number {
  if (!v) return 0;
  const auth = p.via === 'api_key' || p.via === 'hmac' ? 'machine' : 'human';
  const r = riskScore({ findings: v.findings, injection: v.injection, route: 'other', auth, payloadBytes: 0, recent: 0 });
  return Math.round(r.score * 100) / 100;
}

function policyReason(d: AuthzDecision): string {
  return d.policyIds.length ? `policy:${d.policyIds.join(',')}` : d.reason;
}

