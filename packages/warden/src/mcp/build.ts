import type { Config } from '../config/index.js';
import { blankEvent, uuidv7, type WardenEvent } from '../events/index.js';
import { type Approval, ApprovalQueue } from './approvals.js';
import { McpGateway } from './gateway.js';
import { ToolCallPipeline, type ToolCallDeps } from './call.js';
import { McpUpstream } from './upstream.js';

/** The MCP gateway from config, or null when no server is configured (then /mcp does not exist). */
export function buildMcp(config: Config, deps: Omit<ToolCallDeps, 'approvals'>): McpGateway | null {
  const servers = config.mcp.servers;
  if (servers.length === 0) return null;
  const approvals = new ApprovalQueue(config.mcp.approval_timeout_s * 1000, (a) => deps.writer.emit(approvalEvent(a)));
  // An upstream's list_changed reaches the clients' sessions through the gateway, built just after.
  const changed = (server: string) => gateway.toolsChanged(server);
  const gateway: McpGateway = new McpGateway(
    servers.map((s) => new McpUpstream(s, changed)),
    new ToolCallPipeline({ ...deps, approvals }),
    { idleTimeoutMs: config.mcp.session_idle_s * 1000, maxSessions: config.mcp.max_sessions },
    approvals,
  );
  return gateway;
}

/** The audit event of a settled approval: who decided (or that it expired), for which call. */
function approvalEvent(a: Approval): WardenEvent {
  return {
    ...blankEvent(),
    id: uuidv7(),
    ts: Date.now(),
    requestId: a.request_id,
    kind: 'mcp.approval',
    route: '/api/v1/approvals/:id',
    orgId: a.org_id,
    keyId: a.decided_by?.type === 'Key' ? a.decided_by.id : null,
    userId: a.decided_by?.type === 'User' ? a.decided_by.id : null,
    provider: a.server,
    decision: a.status === 'approved' ? 'allow' : 'deny',
    detail: { approval_id: a.id, status: a.status, server: a.server, tool: a.tool, requester: a.requester, decided_by: a.decided_by, note: a.note, policy_ids: a.policy_ids },
  };
}
