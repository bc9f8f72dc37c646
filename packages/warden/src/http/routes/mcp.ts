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
export function mcpRoutes(mcp: McpGateway | null, issuers: readonly string[] = []) {
  return async function register(app: FastifyInstance): Promise<void> {
    if (!mcp) return;
    const config = { permission: 'tools:list' as const };
    // OAuth 2.0 Protected Resource Metadata (RFC 9728), as the MCP authorization spec has clients
    // find where to get a token: the OIDC issuers Warden accepts bearer tokens from.
    const metadata = (request: FastifyRequest) => ({
      resource: `${originOf(request)}/mcp`,
      authorization_servers: issuers,
      bearer_methods_supported: ['header'],
      resource_name: 'Warden MCP gateway',
    });
    app.get('/.well-known/oauth-protected-resource', { config: { auth: 'none' } }, async (request) => metadata(request));
    app.get('/.well-known/oauth-protected-resource/mcp', { config: { auth: 'none' } }, async (request) => metadata(request));
    // A 401 names that document (RFC 9728 §5.1), so an MCP client can start its OAuth flow from it.
    app.addHook('onSend', (request, reply, payload, done) => {
      if (reply.statusCode === 401 && request.url.startsWith('/mcp')) {
        reply.header('www-authenticate', `Bearer resource_metadata="${originOf(request)}/.well-known/oauth-protected-resource/mcp"`);
      }
      done(null, payload);
    });
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

/** This gateway's origin as the client reached it (behind a trusted proxy, as the proxy says). */
function originOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

function jsonRpcError(res: FastifyReply['raw'], status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
