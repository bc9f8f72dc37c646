import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startPeerGateway, startStack } from './helpers.js';
import { type Answer, call, chatAs, createUser, events, expectError, expectNowhere } from './identity-helpers.js';

let s: Stack;
let adminKeyId: string;

beforeAll(async () => {
  s = await startStack();
  adminKeyId = (await s.gateway.storage.listKeys()).find((k) => k.name === 'admin')!.id;
});
afterAll(async () => s?.close());

const put = (role: string, permissions: string[], key = s.adminKey) => call(s, 'PUT', `/api/v1/roles/${role}`, { auth: key, body: { permissions } });
const reset = (role: string, key = s.adminKey) => call(s, 'DELETE', `/api/v1/roles/${role}`, { auth: key });
const newKey = (role: string, key = s.adminKey, query = '') => call(s, 'POST', `/api/v1/keys${query}`, { auth: key, body: { name: `${role}-key`, role } });

function denied(r: Answer, permission: string): void {
  expectError(r, 403, 'permission_denied');
  expect(r.body.error.type).toBe('authorization');
  expect(r.body.error.message).toContain(`"${permission}"`);
}

describe('roles and permissions', () => {
  it('GET /api/v1/roles lists every permission and each role\'s effective set', async () => {
    const r = await call(s, 'GET', '/api/v1/roles', { auth: s.adminKey });
    expect(r.status).toBe(200);
    expect(r.body.permissions).toEqual(expect.arrayContaining(['llm:call', 'audit:read', 'roles:update', 'orgs:manage']));
    const byRole = Object.fromEntries(r.body.data.map((x: any) => [x.role, x]));
    expect(Object.keys(byRole).sort()).toEqual(['admin', 'agent', 'guest', 'system', 'user']);
    expect(byRole.system.permissions).toEqual(['*']);
    expect(byRole.guest.permissions).toEqual(['models:read']);
    expect(byRole.admin.permissions).toEqual([...r.body.permissions].filter((p: string) => p !== 'orgs:manage').sort());
    expect(byRole.agent.permissions).toContain('llm:call');
    expect(byRole.agent.permissions).not.toContain('audit:read');
    expect(Object.values(byRole).every((x: any) => x.overridden === false)).toBe(true);
  });

  it('an agent key gets 403 permission_denied naming the permission on each admin route', async () => {
    const routes: Array<[string, string, unknown, string]> = [
      ['GET', '/api/v1/audit', undefined, 'audit:read'],
      ['GET', '/api/v1/users', undefined, 'users:read'],
      ['POST', '/api/v1/users', { username: 'x@example.com', password: 'long-enough-password', roles: ['user'] }, 'users:create'],
      ['POST', '/api/v1/keys', { name: 'k', role: 'agent' }, 'keys:create'],
      ['GET', '/api/v1/roles', undefined, 'roles:read'],
      ['PUT', '/api/v1/roles/agent', { permissions: ['audit:read'] }, 'roles:update'],
      ['GET', '/api/v1/signing-secrets', undefined, 'secrets:read'],
      ['GET', '/api/v1/orgs', undefined, 'orgs:manage'],
    ];
    for (const [method, path, body, permission] of routes) denied(await call(s, method, path, { auth: s.agentKey, body }), permission);
    const users = (await call(s, 'GET', '/api/v1/users', { auth: s.adminKey })).body.data;
    expect(users.some((u: any) => u.username === 'x@example.com')).toBe(false);
  });

  it('a guest key (created by an admin) may list models but is denied chat with 403', async () => {
    const created = await newKey('guest');
    expect(created.status).toBe(201);
    expect(created.body.role).toBe('guest');
    denied(await chatAs(s, created.body.key), 'llm:call');
    expect((await call(s, 'GET', '/v1/models', { auth: created.body.key })).status).toBe(200);
  });
});

describe('no privilege escalation', () => {
  it('an admin cannot create a system key or a system user', async () => {
    denied(await newKey('system'), '*');
    const u = await call(s, 'POST', '/api/v1/users', { auth: s.adminKey, body: { username: 'root@example.com', password: 'long-enough-password', roles: ['system'] } });
    denied(u, '*');
    expect((await s.gateway.storage.listKeys()).some((k) => k.role === 'system' && k.name === 'system-key')).toBe(false);
  });

  it('an admin cannot promote a user to system, nor change a user who holds more than the admin', async () => {
    const u = await createUser(s, ['user']);
    denied(await call(s, 'PATCH', `/api/v1/users/${u.id}`, { auth: s.adminKey, body: { roles: ['system'] } }), '*');
    expect((await call(s, 'GET', `/api/v1/users/${u.id}`, { auth: s.adminKey })).body.roles).toEqual(['user']);
    const root = await createUser(s, ['system'], { as: s.systemKey });
    denied(await call(s, 'PATCH', `/api/v1/users/${root.id}`, { auth: s.adminKey, body: { disabled: true } }), '*');
    denied(await call(s, 'PATCH', `/api/v1/users/${root.id}`, { auth: s.adminKey, body: { password: 'taken-over-password' } }), '*');
    expect((await call(s, 'GET', `/api/v1/users/${root.id}`, { auth: s.adminKey })).body.disabled_at).toBeNull();
  });

  it('cross-organization permissions cannot be given to a role per org', async () => {
    for (const p of ['orgs:manage', '*']) {
      const r = await put('user', [p]);
      expectError(r, 400, 'invalid_request');
      expect(r.body.error.message).toContain('Cross-organization');
    }
  });

  it('an admin whose role lacks a permission cannot grant it to another role, or use it', async () => {
    const roles = (await call(s, 'GET', '/api/v1/roles', { auth: s.adminKey })).body.data;
    const adminPerms: string[] = roles.find((x: any) => x.role === 'admin').permissions;
    expect((await put('admin', adminPerms.filter((p) => p !== 'secrets:create'), s.systemKey)).status).toBe(200);
    try {
      denied(await call(s, 'POST', '/api/v1/signing-secrets', { auth: s.adminKey, body: { name: 'x' } }), 'secrets:create');
      const grant = await put('agent', ['llm:call', 'secrets:create']);
      expectError(grant, 403, 'permission_denied');
      expect(grant.body.error.message).toContain('"secrets:create"');
      const now = (await call(s, 'GET', '/api/v1/roles', { auth: s.systemKey })).body.data.find((x: any) => x.role === 'agent');
      expect(now).toMatchObject({ overridden: false });
      expect(now.permissions).not.toContain('secrets:create');
    } finally {
      expect((await reset('admin', s.systemKey)).status).toBe(200);
    }
  });

  it('an admin whose role was narrowed by the operator cannot undo it by resetting its own role', async () => {
    const adminPerms: string[] = (await call(s, 'GET', '/api/v1/roles', { auth: s.adminKey })).body.data.find((x: any) => x.role === 'admin').permissions;
    expect((await put('admin', adminPerms.filter((p) => p !== 'secrets:create'), s.systemKey)).status).toBe(200);
    try {
      // DELETE would restore the default set, which holds "secrets:create": that is granting it to oneself.
      expectError(await reset('admin'), 403, 'permission_denied');
      denied(await call(s, 'POST', '/api/v1/signing-secrets', { auth: s.adminKey, body: { name: 'x' } }), 'secrets:create');
    } finally {
      await reset('admin', s.systemKey);
    }
  });

  it('an admin cannot rewrite the system role, which holds more than the admin does', async () => {
    try {
      const r = await put('system', ['models:read']);
      expectError(r, 403, 'permission_denied');
    } finally {
      // Leaves the operator working even when the refusal above failed.
      await reset('system');
    }
    expect((await call(s, 'GET', '/api/v1/orgs', { auth: s.systemKey })).status).toBe(200);
  });
});

describe('per-org role overrides', () => {
  it('PUT /api/v1/roles/agent narrows every agent key of the org on the next request, and DELETE restores it', async () => {
    const r = await put('agent', ['models:read']);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ role: 'agent', permissions: ['models:read'], overridden: true });
    try {
      denied(await chatAs(s, s.agentKey), 'llm:call');
      expect((await call(s, 'GET', '/v1/models', { auth: s.agentKey })).status).toBe(200);
      const listed = (await call(s, 'GET', '/api/v1/roles', { auth: s.adminKey })).body.data.find((x: any) => x.role === 'agent');
      expect(listed).toEqual({ role: 'agent', permissions: ['models:read'], overridden: true });
    } finally {
      const back = await reset('agent');
      expect(back.status).toBe(200);
      expect(back.body.overridden).toBe(false);
      expect(back.body.permissions).toContain('llm:call');
    }
    expect((await chatAs(s, s.agentKey)).status).toBe(200);
  });

  it('an override in one org does not change the same role in another org', async () => {
    expect((await call(s, 'POST', '/api/v1/orgs', { auth: s.systemKey, body: { id: 'other', name: 'Other' } })).status).toBe(201);
    const otherAgent = await newKey('agent', s.systemKey, '?org_id=other');
    expect(otherAgent.body.orgId).toBe('other');
    expect((await put('agent', ['models:read'])).status).toBe(200);
    try {
      denied(await chatAs(s, s.agentKey), 'llm:call');
      expect((await chatAs(s, otherAgent.body.key)).status).toBe(200);
    } finally {
      await reset('agent');
    }
  });

  it('resetting a role that does not exist is refused with 400, as setting one is', async () => {
    expectError(await put('superuser', ['llm:call']), 400, 'invalid_request');
    expectError(await reset('superuser'), 400, 'invalid_request');
  });

  it('an override made through one gateway applies on another gateway sharing the database', async () => {
    const g2 = await startPeerGateway(s);
    const chat2 = (key: string) => fetch(`${g2.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }) });
    const settles = async (key: string, status: number) => {
      for (let i = 0; i < 40 && (await chat2(key)).status !== status; i++) await new Promise((r) => setTimeout(r, 50));
      return (await chat2(key)).status;
    };
    try {
      // Control: a key revoked through the first gateway is refused by the second.
      const k = await newKey('agent');
      expect(await settles(k.body.key, 200)).toBe(200);
      await call(s, 'DELETE', `/api/v1/keys/${k.body.id}`, { auth: s.adminKey });
      expect(await settles(k.body.key, 401)).toBe(401);
      // The same for a role override.
      expect((await put('agent', ['models:read'])).status).toBe(200);
      expect(await settles(s.agentKey, 403)).toBe(403);
    } finally {
      await reset('agent');
      await g2.close();
    }
  });
});

describe('admin changes are audited', () => {
  it('user, role, key and signing secret changes each become an event with before and after, and no secret', async () => {
    const u = await createUser(s, ['user']);
    await call(s, 'PATCH', `/api/v1/users/${u.id}`, { auth: s.adminKey, body: { roles: ['agent'], password: 'a-second-long-password' } });
    await put('guest', ['models:read', 'tools:list']);
    await reset('guest');
    const k = await newKey('user');
    await call(s, 'DELETE', `/api/v1/keys/${k.body.id}`, { auth: s.adminKey });
    const sec = await call(s, 'POST', '/api/v1/signing-secrets', { auth: s.adminKey, body: { name: 'audited' } });
    await call(s, 'DELETE', `/api/v1/signing-secrets/${sec.body.id}`, { auth: s.adminKey });

    const kinds = ['admin.user.create', 'admin.user.update', 'admin.role.update', 'admin.role.reset', 'admin.key.create', 'admin.key.revoke', 'admin.signing_secret.create', 'admin.signing_secret.revoke'];
    const ev = await events(s, kinds.join(','), s.adminKey);
    const last = (kind: string) => ev.find((e) => e.kind === kind);
    for (const kind of kinds) {
      const e = last(kind);
      expect(e, kind).toBeDefined();
      expect(e).toMatchObject({ key_id: adminKeyId, org_id: 'default', status: expect.any(Number), decision: null });
      expect(Object.keys(e.detail).sort(), kind).toEqual(['after', 'before', 'risk', 'risk_level', 'target']);
    }
    expect(last('admin.user.create').detail).toMatchObject({ target: { user_id: u.id }, before: null, after: { id: u.id, roles: ['user'], has_password: true } });
    expect(last('admin.user.update').detail).toMatchObject({ target: { user_id: u.id, password_changed: true }, before: { roles: ['user'] }, after: { roles: ['agent'] } });
    expect(last('admin.role.update').detail).toMatchObject({ target: { role: 'guest', org_id: 'default' }, before: { permissions: ['models:read'] }, after: { permissions: ['models:read', 'tools:list'] } });
    expect(last('admin.role.reset').detail).toMatchObject({ target: { role: 'guest', org_id: 'default' }, before: { permissions: ['models:read', 'tools:list'] }, after: { permissions: ['models:read'] } });
    expect(last('admin.key.create').detail).toMatchObject({ target: { target_key_id: k.body.id }, before: null, after: { id: k.body.id, role: 'user', revokedAt: null } });
    expect(last('admin.key.revoke').detail).toMatchObject({ before: { id: k.body.id, revokedAt: null }, after: { id: k.body.id, revokedAt: expect.any(Number) } });
    expect(last('admin.signing_secret.create').detail).toMatchObject({ target: { signing_secret_id: sec.body.id }, before: null, after: { name: 'audited', revoked_at: null } });
    expect(last('admin.signing_secret.revoke').detail.after).toMatchObject({ id: sec.body.id, revoked_at: expect.any(Number) });

    const text = JSON.stringify(ev.map((e) => e.detail));
    expect(text).not.toMatch(/scrypt\$|"hash":"[0-9a-f]{64}"|"sealed"|"secret"/);
    await expectNowhere(s, [u.password, 'a-second-long-password', k.body.key, sec.body.secret]);
  });
});
