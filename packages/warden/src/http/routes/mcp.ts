import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WardenError } from '../../errors/index.js';
import type { McpCaller, McpGateway } from '../../mcp/index.js';

/**
 * The MCP endpoint (Streamable HTTP transport): POST carries client
 * messages, GET opens the server's stream, DELETE ends a session. `/mcp`
 * reaches every configured server, `/mcp/{server}` one. Authentication is
 * the same as everywhere (`tools:list` to connect at all); each tool call
 * is then authorized on its own. Every listing and call is its own event,
 * so the HTTP requests themselves are not.
 */
export function mcpRoutes(mcp: McpGateway | null) {
  return async function register(app: FastifyInstance): Promise<void> {
    if (!mcp) return;
    const config = { permission: 'tools:list' as const };
    for (const method of ['POST', 'GET', 'DELETE'] as const) {
      app.route({ method, url: '/mcp', config, handler: (request, reply) => serve(mcp, request, reply, null) });
      app.route({
        method,
        url: '/mcp/:server',
        config,
        handler: (request, reply) => {
          const server = (request.params as { server: string }).server;
          if (!request.warden.principal || !mcp.directory.has(server, request.warden.principal.orgId)) throw new WardenError('not_found', `There is no MCP server "${server}".`);
          return serve(mcp, request, reply, server);
        },
      });
    }
  };
}

async function serve(mcp: McpGateway, request: FastifyRequest, reply: FastifyReply, scope: string | null): Promise<void> {
  const ctx = request.warden;
  const caller: McpCaller = {
    principal: ctx.principal!,
    requestId: ctx.requestId,
    traceId: ctx.traceId,
    clientIp: request.ip ?? null,
    userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'].slice(0, 512) : null,
    route: ctx.route,
  };
  // The transport writes the response itself (JSON, or an SSE stream that outlives this handler).
  reply.hijack();
  const res = reply.raw;
  res.setHeader('x-request-id', ctx.requestId);
  let outcome: Awaited<ReturnType<McpGateway['handle']>>;
  try {
    outcome = await mcp.handle(request.raw, res, request.body, caller, scope);
  } catch {
    if (!res.headersSent) jsonRpcError(res, 500, -32603, 'The MCP endpoint failed to handle the request.');
    else res.end();
    return;
  }
  // JSON-RPC errors, as the transport itself answers them (the client's MCP library reads these, not Warden's envelope).
  if (outcome === 'unknown_session') jsonRpcError(res, 404, -32001, 'Session not found: it expired or belongs to another caller; initialize a new one.');
  else if (outcome === 'no_session') jsonRpcError(res, 400, -32000, 'Bad Request: no Mcp-Session-Id header; send initialize first.');
  else if (outcome === 'full') jsonRpcError(res, 503, -32000, 'Too many open MCP sessions; try again later.');
}

function jsonRpcError(res: FastifyReply['raw'], status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
