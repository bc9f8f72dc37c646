import type { Config } from '../config/index.js';
import { McpGateway } from './gateway.js';
import { ToolCallPipeline, type ToolCallDeps } from './call.js';
import { McpUpstream } from './upstream.js';

/** The MCP gateway from config, or null when no server is configured (then /mcp does not exist). */
export function buildMcp(config: Config, deps: ToolCallDeps): McpGateway | null {
  const servers = config.mcp.servers;
  if (servers.length === 0) return null;
  // An upstream's list_changed reaches the clients' sessions through the gateway, built just after.
  const changed = (server: string) => gateway.toolsChanged(server);
  const gateway: McpGateway = new McpGateway(
    servers.map((s) => new McpUpstream(s, changed)),
    new ToolCallPipeline(deps),
    { idleTimeoutMs: config.mcp.session_idle_s * 1000, maxSessions: config.mcp.max_sessions },
  );
  return gateway;
}
