import type { Config } from '../config/index.js';
import { blankEvent, uuidv7, type WardenEvent } from '../events/index.js';
import { type Approval, ApprovalQueue } from './approvals.js';
import { McpGateway } from './gateway.js';
import { ToolCallPipeline, type ToolCallDeps } from './call.js';
import type { McpLog } from './stderr.js';
import { ContentPipeline } from './content.js';
import { type ListKind, McpUpstream } from './upstream.js';
import { registeredConfig } from './registered.js';
import type { SecretBox } from '../secrets/index.js';

/**
 * The MCP gateway: the configured servers, and those orgs register through
 * the admin API (loaded by `reloadRegistered`, their headers opened with
 * `secretBox`). Stdio servers' processes are started here, without
 * waiting: a broken command shows in the logs at start-up and never holds
 * the gateway's start.
 */
export function buildMcp(config: Config, deps: Omit<ToolCallDeps, 'approvals'> & { logger: McpLog; secretBox: SecretBox }): McpGateway {
  const servers = config.mcp.servers;
  const { logger, secretBox, ...pipelineDeps } = deps;
  const approvals = new ApprovalQueue(config.mcp.approval_timeout_s * 1000, (a) => deps.writer.emit(approvalEvent(a)));
  // An upstream's list_changed reaches the clients' sessions through the gateway, built just after.
  const changed = (server: string, kind: ListKind) => gateway.listChanged(server, kind);
  const upstreams = servers.map((s) => new McpUpstream(s, changed, logger));
  const gateway: McpGateway = new McpGateway(
    upstreams,
    new ToolCallPipeline({ ...pipelineDeps, approvals }),
    {
      idleTimeoutMs: config.mcp.session_idle_s * 1000,
      maxSessions: config.mcp.max_sessions,
      maxSessionsPerCaller: config.mcp.max_sessions_per_caller,
      makeRegistered: (r) => {
        let cfg;
        try {
          cfg = registeredConfig(secretBox, r);
        } catch (err) {
          logger.warn({ mcp_server: r.name, org_id: r.orgId, err: { message: (err as Error).message } }, 'a registered MCP server\'s headers could not be opened; it is left out');
          throw err;
        }
        const u = new McpUpstream(cfg, (server, kind) => gateway.listChanged(server, kind, r.orgId), logger);
        u.start();
        return u;
      },
    },
    approvals,
    new ContentPipeline(pipelineDeps),
  );
  for (const u of upstreams) u.start();
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
