import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, flushed, startStack } from './helpers.js';

/**
 * Walks every route the gateway registers and proves that credentials of
 * org A (an admin key of org-a) can neither read nor change anything of
 * org B. Both orgs are made by the operator (system, in the default org). A route missing from WALK fails the test, so new routes are
 * covered by construction.
 */
let s: Stack;
let aAdmin: string;
let bAdmin: string;
const B: Record<string, string> = {};

async function call(key: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const r = await fetch(s.url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, text: await r.text() };
}

async function ok(key: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await call(key, method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path} -> ${r.status} ${r.text}`);
  return r.text ? JSON.parse(r.text) : null;
}

/** Everything org B's admin can see: must be identical before and after org A's attempts. */
async function snapshotB(): Promise<string> {
  const parts = await Promise.all(
    ['/api/v1/org', '/api/v1/projects', '/api/v1/users', '/api/v1/keys', '/api/v1/roles', '/api/v1/signing-secrets', '/api/v1/policies', '/api/v1/limits', '/api/v1/runs', `/api/v1/runs/${B.run}/trace`, `/api/v1/progress/${B.run}/history`, `/api/v1/runs/${B.run}/trace?view=tree`, `/api/v1/traces/${B_TRACE}`, '/api/v1/mcp/servers'].map((p) => ok(bAdmin, 'GET', p)),
  );
  return JSON.stringify(parts);
}

/** The trace id of org B's OTLP span; org A sends a span of the same trace and run id into its own org. */
const B_TRACE = 'b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0';
function otlpSpan(runId: string, name: string): unknown {
  const attr = (key: string, v: string) => ({ key, value: { stringValue: v } });
  const span = { traceId: B_TRACE, spanId: name === 'b-only-span' ? 'b1b1b1b1b1b1b1b1' : 'a1a1a1a1a1a1a1a1', name, kind: 1, startTimeUnixNano: '1764662400000000000', endTimeUnixNano: '1764662401000000000', attributes: [attr('gen_ai.operation.name', 'execute_tool'), attr('gen_ai.tool.name', name), attr('warden.run.id', runId)] };
  return { resourceSpans: [{ resource: { attributes: [attr('service.name', name)] }, scopeSpans: [{ scope: { name: 'tenancy' }, spans: [span] }] }] };
}

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
const POLICY = 'forbid (principal, action == Warden::Action::"llm:call", resource == Warden::Model::"gpt-4o");';

/** One request per route, aimed at org B wherever the route takes an id. `public` routes take no credentials or serve only the caller. */
const WALK: Record<string, { path?: () => string; body?: unknown; public?: true }> = {
  'GET /health': { public: true },
  'GET /health/ready': { public: true },
  'GET /health/detailed': {},
  'GET /metrics': { public: true },
  'POST /auth/token': { public: true },
  'POST /auth/refresh': { public: true },
  'POST /auth/logout': { public: true },
  'POST /v1/chat/completions': { body: CHAT },
  'POST /v1/responses': { body: { model: 'gpt-4o-mini', input: 'hi' } },
  'POST /v1/embeddings': { body: { model: 'text-embedding-3-small', input: 'hi' } },
  'POST /v1/messages': { body: { model: 'claude-3-5-haiku', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] } },
  'GET /v1/models': {},
  'GET /api/v1/audit': {},
  'GET /api/v1/audit/export': {},
  'GET /api/v1/audit/verify': {},
  'GET /api/v1/keys': {},
  'POST /api/v1/keys': { body: { name: 'a-key', role: 'agent', project_id: 'PROJECT' } },
  'DELETE /api/v1/keys/:id': { path: () => `/api/v1/keys/${B.key}` },
  'GET /api/v1/orgs': {},
  'POST /api/v1/orgs': { body: { id: 'org-b', name: 'hijack' } },
  'GET /api/v1/org': {},
  'PATCH /api/v1/org': { body: { name: 'renamed by A' } },
  'GET /api/v1/projects': {},
  'POST /api/v1/projects': { body: { name: 'a-project' } },
  'DELETE /api/v1/projects/:id': { path: () => `/api/v1/projects/${B.project}` },
  'GET /api/v1/users': {},
  'GET /api/v1/users/:id': { path: () => `/api/v1/users/${B.user}` },
  'POST /api/v1/users': { body: { username: 'b-user@example.com', password: 'correct horse battery', roles: ['user'] } },
  'PATCH /api/v1/users/:id': { path: () => `/api/v1/users/${B.user}`, body: { disabled: true, roles: ['admin'] } },
  'GET /api/v1/roles': {},
  'PUT /api/v1/roles/:role': { path: () => '/api/v1/roles/agent', body: { permissions: ['models:read'] } },
  'DELETE /api/v1/roles/:role': { path: () => '/api/v1/roles/user' },
  'GET /api/v1/limits': {},
  'PUT /api/v1/limits/:name': { path: () => '/api/v1/limits/b-only-limit', body: { per: 'org', requests: 100000, window: 'minute' } },
  'DELETE /api/v1/limits/:name': { path: () => '/api/v1/limits/b-only-limit' },
  'GET /api/v1/signing-secrets': {},
  'POST /api/v1/signing-secrets': { body: { name: 'a-secret', project_id: 'PROJECT' } },
  'DELETE /api/v1/signing-secrets/:id': { path: () => `/api/v1/signing-secrets/${B.secret}` },
  'GET /api/v1/policies': {},
  'GET /api/v1/policies/:name': { path: () => '/api/v1/policies/b-policy' },
  'PUT /api/v1/policies/:name': { path: () => '/api/v1/policies/b-policy', body: { text: 'permit (principal, action, resource);' } },
  'DELETE /api/v1/policies/:name': { path: () => '/api/v1/policies/b-policy' },
  'POST /api/v1/policies/validate': { body: { text: POLICY } },
  'POST /api/v1/policies/evaluate': { body: { principal: { type: 'Key', id: 'BKEY' }, action: 'llm:call', resource: { type: 'Model', id: 'gpt-4o' } } },
  'POST /api/v1/runs': { body: { id: 'BRUN', agent: 'a-agent' } },
  'GET /api/v1/runs': {},
  'GET /api/v1/runs/:id': { path: () => `/api/v1/runs/${B.run}` },
  'POST /api/v1/runs/:id/finalize': { path: () => `/api/v1/runs/${B.run}/finalize`, body: { status: 'failed' } },
  'POST /api/v1/runs/:id/events': { path: () => `/api/v1/runs/${B.run}/events`, body: { events: [{ seq: 2, t: 1, actor: 'agent', type: 'reasoning', payload: { text: 'A was here' } }] } },
  'POST /api/v1/trace-events/batch': { body: { events: [{ seq: 2, t: 1, actor: 'agent', type: 'reasoning', payload: { text: 'A was here' }, meta: { run_id: 'BRUN' } }] } },
  'GET /api/v1/runs/:id/trace': { path: () => `/api/v1/runs/${B.run}/trace` },
  'GET /api/v1/runs/:id/blobs/:ref': { path: () => `/api/v1/runs/${B.run}/blobs/sha256:${'a'.repeat(64)}` },
  'POST /v1/traces': { body: otlpSpan('BRUN', 'a-was-here') },
  'GET /api/v1/traces/:trace_id': { path: () => `/api/v1/traces/${B_TRACE}` },
  'POST /api/v1/progress/update': { body: { run_id: 'BRUN', percent: 99, message: 'A was here' } },
  'GET /api/v1/progress/:run_id': { path: () => `/api/v1/progress/${B.run}` },
  'GET /api/v1/progress/:run_id/history': { path: () => `/api/v1/progress/${B.run}/history` },
  'GET /api/v1/progress/:run_id/estimate': { path: () => `/api/v1/progress/${B.run}/estimate` },
  'GET /.well-known/oauth-protected-resource': { public: true },
  'GET /.well-known/oauth-protected-resource/mcp': { public: true },
  'POST /mcp': { body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } },
  'GET /mcp': {},
  'DELETE /mcp': {},
  'POST /mcp/:server': { path: () => '/mcp/b-only-server', body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } },
  'GET /mcp/:server': { path: () => '/mcp/b-only-server' },
  'DELETE /mcp/:server': { path: () => '/mcp/b-only-server' },
  'GET /api/v1/mcp/servers': {},
  'PUT /api/v1/mcp/servers/:name': { path: () => '/api/v1/mcp/servers/b-only-server', body: { url: 'http://127.0.0.1:1/a-was-here' } },
  'DELETE /api/v1/mcp/servers/:name': { path: () => '/api/v1/mcp/servers/b-only-server' },
  'GET /api/v1/approvals': {},
  'GET /api/v1/approvals/:id': { path: () => '/api/v1/approvals/0190b7a0-0000-7000-8000-000000000000' },
  'POST /api/v1/approvals/:id': { path: () => '/api/v1/approvals/0190b7a0-0000-7000-8000-000000000000', body: { decision: 'approve' } },
};

function substitute(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v ?? null).replaceAll('PROJECT', B.project!).replaceAll('BKEY', B.key!).replaceAll('BRUN', B.run!));
}

beforeAll(async () => {
  s = await startStack();
  await ok(s.systemKey, 'POST', '/api/v1/orgs', { id: 'org-a', name: 'Org A' });
  await ok(s.systemKey, 'POST', '/api/v1/orgs', { id: 'org-b', name: 'Org B' });
  aAdmin = (await ok(s.systemKey, 'POST', '/api/v1/keys?org_id=org-a', { name: 'a-admin', role: 'admin' })).key;
  bAdmin = (await ok(s.systemKey, 'POST', '/api/v1/keys?org_id=org-b', { name: 'b-admin', role: 'admin' })).key;
  B.project = (await ok(bAdmin, 'POST', '/api/v1/projects', { name: 'b-project' })).id;
  B.user = (await ok(bAdmin, 'POST', '/api/v1/users', { username: 'bob@b.example', password: 'b-password-long-enough', roles: ['user'] })).id;
  B.key = (await ok(bAdmin, 'POST', '/api/v1/keys', { name: 'b-agent', role: 'agent', project_id: B.project })).id;
  B.secret = (await ok(bAdmin, 'POST', '/api/v1/signing-secrets', { name: 'b-secret' })).id;
  await ok(bAdmin, 'PUT', '/api/v1/roles/user', { permissions: ['llm:call', 'models:read'] });
  await ok(bAdmin, 'PUT', '/api/v1/limits/b-only-limit', { per: 'caller', requests: 500, window: 'minute', match: { role: ['user'] } });
  await ok(bAdmin, 'PUT', '/api/v1/policies/b-policy', { text: `@id("b-only-policy")\n${POLICY}` });
  await ok(bAdmin, 'POST', '/v1/chat/completions', CHAT);
  B.run = (await ok(bAdmin, 'POST', '/api/v1/runs', { id: 'b-run-1', agent: 'b-only-agent' })).id;
  await ok(bAdmin, 'POST', `/api/v1/runs/${B.run}/events`, { events: [{ seq: 1, t: 1, actor: 'agent', type: 'reasoning', payload: { text: 'b-only-thought' } }] });
  await ok(bAdmin, 'POST', '/api/v1/progress/update', { run_id: B.run, percent: 10, message: 'b-only-progress' });
  await ok(bAdmin, 'POST', '/v1/traces', otlpSpan(B.run!, 'b-only-span'));
  await ok(bAdmin, 'PUT', '/api/v1/mcp/servers/b-only-server', { url: 'http://127.0.0.1:1/b-only-mcp', headers: { authorization: 'Bearer b-only-mcp-token' } });
  await flushed(s);
}, 30_000);
afterAll(() => s?.close());

describe('tenancy', () => {
  it('every registered route is in the walk, and the walk names no route that does not exist', () => {
    const registered = s.gateway.app.wardenRoutes.map((r) => `${r.method} ${r.url}`).sort();
    expect(registered).toEqual(Object.keys(WALK).sort());
  });

  it("org A's admin can neither read nor change anything of org B on any route", async () => {
    const before = await snapshotB();
    // What only org B has: ids, names, and its policy's @id. (A may use the same *names* in its own org, e.g. a policy "b-policy".)
    const secretsOfB = [B.project, B.user, B.key, B.secret, 'b-project', 'bob@b.example', 'b-agent', 'b-secret', 'b-only-policy', 'Org B', 'b-only-agent', 'b-only-thought', 'b-only-progress', 'b-only-span', 'b-only-mcp'] as string[];
    for (const route of s.gateway.app.wardenRoutes) {
      const w = WALK[`${route.method} ${route.url}`]!;
      const path = w.path?.() ?? route.url;
      // Aimed at B directly (ids of B), and through ?org_id=org-b, which only orgs:manage may use.
      for (const target of [path, `${path}${path.includes('?') ? '&' : '?'}org_id=org-b`]) {
        const r = await call(aAdmin, route.method, target, w.body === undefined ? undefined : substitute(w.body));
        for (const secret of secretsOfB) {
          expect(r.text, `${route.method} ${target} (${r.status}) leaked "${secret}"`).not.toContain(secret);
        }
        if (target.includes('org_id=org-b') && route.auth === 'required') {
          expect([403, 404], `${route.method} ${target} -> ${r.status} ${r.text}`).toContain(r.status);
        }
      }
    }
    await flushed(s);
    expect(await snapshotB()).toBe(before);
    // And org B's own view of its audit trail holds none of A's attempts.
    const bEvents = await ok(bAdmin, 'GET', '/api/v1/audit?limit=1000');
    expect(bEvents.data.every((e: { org_id: string | null }) => e.org_id === 'org-b')).toBe(true);
  }, 60_000);
});
