/**
 * MCP servers an org registers through the admin API: their credentials
 * sealed at rest and never shown again, their tools at /mcp for that org
 * only, and a change seen by every gateway on the same database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { type Stack, startPeerGateway, startStack } from './helpers.js';
import { call, expectNowhere, settle } from './identity-helpers.js';
import { startToolServer, text, type ToolServer, wardenClient } from './mcp-helpers.js';
import type { Gateway } from '../packages/warden/src/gateway.js';
import { freshPostgres } from './helpers.js';

const TOKEN = 'Bearer crm-server-token-5521';

let s: Stack;
let crm: ToolServer;
let peer: Gateway;
let pgDb: { url: string; drop(): Promise<void> };
let otherOrgKey: string;

beforeAll(async () => {
  crm = await startToolServer([{ name: 'find_customer', description: 'Finds a customer', inputSchema: { type: 'object', properties: { q: { type: 'string' } } }, run: (a) => text(`customer ${String(a.q)}`) }]);
  // On PostgreSQL with a second gateway: a registration through one is used by the other.
  pgDb = await freshPostgres();
  s = await startStack({ storageUrl: pgDb.url });
  peer = await startPeerGateway(s);
  await call(s, 'POST', '/api/v1/orgs', { auth: s.systemKey, body: { id: 'org-x', name: 'Org X' } });
  otherOrgKey = (await call(s, 'POST', '/api/v1/keys?org_id=org-x', { auth: s.systemKey, body: { name: 'x-agent', role: 'agent' } })).body.key;
}, 30_000);

afterAll(async () => {
  await peer?.close();
  await s?.close();
  await crm?.close();
  await pgDb?.drop();
});

describe('registered MCP servers', () => {
  it('registers a server with sealed credentials; its tools are at /mcp for the org, called with those credentials', async () => {
    const put = await call(s, 'PUT', '/api/v1/mcp/servers/crm', { auth: s.adminKey, body: { url: crm.url, headers: { authorization: TOKEN }, timeout_ms: 5000 } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toEqual({ name: 'crm', url: crm.url, header_names: ['authorization'], timeout_ms: 5000, refresh_s: 300 });
    const list = await call(s, 'GET', '/api/v1/mcp/servers', { auth: s.adminKey });
    expect(list.body.data).toEqual([expect.objectContaining({ name: 'crm', source: 'api', url: crm.url, header_names: ['authorization'] })]);
    expect(JSON.stringify(list.body)).not.toContain('crm-server-token');

    const agent = await wardenClient(s.url, s.agentKey);
    try {
      expect((await agent.listTools()).tools.map((t) => t.name)).toEqual(['crm__find_customer']);
      expect(await agent.callTool({ name: 'crm__find_customer', arguments: { q: 'acme' } })).toMatchObject({ content: [{ text: 'customer acme' }] });
    } finally {
      await agent.close();
    }
    expect(crm.calls.at(-1)!.headers.authorization).toBe(TOKEN);
  });

  it('stores the credentials sealed: the database holds no plain token, nor do the audit trail and logs', async () => {
    const db = new pg.Client({ connectionString: pgDb.url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT sealed_headers FROM mcp_servers WHERE name = $1', ['crm']);
      expect(rows[0].sealed_headers).toMatch(/^\S+$/);
      expect(rows[0].sealed_headers).not.toContain('crm-server-token');
    } finally {
      await db.end();
    }
    await expectNowhere(s, ['crm-server-token-5521']);
  });

  it('is seen by another gateway on the same database within seconds', async () => {
    const names = await settle(
      async () => {
        const c = await wardenClient(peer.url, s.agentKey);
        try {
          return (await c.listTools()).tools.map((t) => t.name);
        } finally {
          await c.close();
        }
      },
      (n) => n.includes('crm__find_customer'),
      5000,
    );
    expect(names).toContain('crm__find_customer');
  });

  it('is not visible to another org', async () => {
    const c = await wardenClient(s.url, otherOrgKey);
    try {
      expect((await c.listTools()).tools).toEqual([]);
      await expect(c.callTool({ name: 'crm__find_customer', arguments: {} })).rejects.toThrow(/no tool/);
    } finally {
      await c.close();
    }
    expect((await call(s, 'GET', '/api/v1/mcp/servers', { auth: otherOrgKey })).status).toBe(403);
  });

  it('refuses names that would be ambiguous, and agents without mcp_servers:update', async () => {
    expect((await call(s, 'PUT', '/api/v1/mcp/servers/a__b', { auth: s.adminKey, body: { url: crm.url } })).status).toBe(400);
    expect((await call(s, 'PUT', '/api/v1/mcp/servers/x', { auth: s.agentKey, body: { url: crm.url } })).status).toBe(403);
    expect((await call(s, 'PUT', '/api/v1/mcp/servers/x', { auth: s.adminKey, body: { url: 'file:///etc/passwd' } })).status).toBe(400);
  });

  it('removes a server: its tools are gone', async () => {
    const del = await call(s, 'DELETE', '/api/v1/mcp/servers/crm', { auth: s.adminKey });
    expect(del.status).toBe(204);
    expect((await call(s, 'DELETE', '/api/v1/mcp/servers/crm', { auth: s.adminKey })).status).toBe(404);
    const agent = await wardenClient(s.url, s.agentKey);
    try {
      expect((await agent.listTools()).tools).toEqual([]);
    } finally {
      await agent.close();
    }
  });
});
