import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { WardenError } from '../../errors/index.js';
import { type McpGateway, sealHeaders } from '../../mcp/index.js';
import type { ServerDeps } from '../server.js';
import { orgOf, principalOf } from './scope.js';

/** Same rule as config names (config/schema.ts McpServer.name): no "__" inside, no "_" at the end. */
const NAME = /^(?!.*__)[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9-])?$/;

const PutServer = Type.Object(
  {
    url: Type.String({ pattern: '^https?://', maxLength: 2048 }),
    /** The server's credentials; stored sealed with the master key, never shown again. */
    headers: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]{1,100}$' }), Type.String({ maxLength: 8192 }), { maxProperties: 32 })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000 })),
    refresh_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  },
  { additionalProperties: false },
);

/**
 * MCP servers an org registers for itself (docs/mcp.md#registering-servers):
 * listed beside the configured ones, with header names but never their
 * values. Every gateway picks a change up within a second (keys revision).
 */
export function mcpServerRoutes(deps: Pick<ServerDeps, 'storage' | 'secretBox' | 'config' | 'reloadMcp'> & { mcp: McpGateway | null }) {
  const dir = deps.storage.directory;
  const mcp = deps.mcp;
  return async function register(app: FastifyInstance): Promise<void> {
    if (!mcp) return;
    const needs = (permission: 'mcp_servers:read' | 'mcp_servers:update') => ({ config: { permission, audited: true } });

    app.get('/api/v1/mcp/servers', needs('mcp_servers:read'), async (request) => {
      const orgId = orgOf(request);
      const configured = deps.config.mcp.servers.map((s) => ({ name: s.name, source: 'config', url: 'url' in s && s.url ? originOnly(s.url) : null, header_names: Object.keys(s.headers ?? {}).sort(), timeout_ms: s.timeout_ms, refresh_s: s.refresh_s }));
      const own = (await dir.listMcpServers(orgId)).map((r) => ({
        name: r.name,
        source: 'api',
        url: r.url,
        header_names: r.settings.header_names ?? [],
        timeout_ms: r.settings.timeout_ms,
        refresh_s: r.settings.refresh_s,
        updated_by: r.updatedBy,
        updated_at: new Date(r.updatedAt).toISOString(),
        shadowed_by_config: mcp.directory.isConfigured(r.name),
      }));
      return { data: [...configured, ...own] };
    });

    app.put('/api/v1/mcp/servers/:name', { ...needs('mcp_servers:update'), schema: { body: PutServer } }, async (request) => {
      const orgId = orgOf(request);
      const name = (request.params as { name: string }).name;
      if (!NAME.test(name)) throw new WardenError('invalid_request', 'An MCP server name is 1 to 63 letters, digits, "-" or "_", with no "__" and not ending in "_" (tool names at /mcp are {server}__{tool}).');
      if (mcp.directory.isConfigured(name)) throw new WardenError('conflict', `"${name}" is an MCP server from the configuration; register yours under another name.`);
      const body = request.body as Static<typeof PutServer>;
      const p = principalOf(request);
      await dir.setMcpServer({
        orgId,
        name,
        url: body.url,
        sealedHeaders: sealHeaders(deps.secretBox, orgId, name, body.headers ?? {}),
        settings: { timeout_ms: body.timeout_ms ?? 30_000, refresh_s: body.refresh_s ?? 300, header_names: Object.keys(body.headers ?? {}).sort() },
        updatedBy: `${p.type}:${p.id}`,
        updatedAt: Date.now(),
      });
      await deps.reloadMcp();
      return { name, url: body.url, header_names: Object.keys(body.headers ?? {}).sort(), timeout_ms: body.timeout_ms ?? 30_000, refresh_s: body.refresh_s ?? 300 };
    });

    app.delete('/api/v1/mcp/servers/:name', needs('mcp_servers:update'), async (request, reply) => {
      const name = (request.params as { name: string }).name;
      if (!(await dir.deleteMcpServer(orgOf(request), name))) throw new WardenError('not_found', `Your organization has no registered MCP server "${name}".`);
      await deps.reloadMcp();
      return reply.code(204).send();
    });
  };
}

/** A configured server's address as other orgs' admins may see it: its origin, never a path or query that could hold a token. */
function originOnly(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}
