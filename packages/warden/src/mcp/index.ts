/**
 * The MCP gateway: upstream MCP servers Warden calls on its callers' behalf,
 * and the /mcp endpoint that governs every discovery and tool call.
 * docs/mcp.md.
 */
export { McpGateway, type McpGatewayOptions } from './gateway.js';
export { ToolCallPipeline, type McpCaller, type ToolCallDeps } from './call.js';
export { NAME_SEPARATOR, ToolDirectory, type ListedTool } from './tools.js';
export { McpUpstream, type McpServerConfig } from './upstream.js';
export type { CircuitState } from './breaker.js';
export { buildMcp } from './build.js';
export { ApprovalQueue, type Approval, type ApprovalStatus } from './approvals.js';
export { mcpServerAad, registeredConfig, sealHeaders } from './registered.js';
