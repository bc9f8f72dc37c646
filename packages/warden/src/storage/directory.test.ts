import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blankEvent } from '../events/event.js';
import { type KeyRecord, type Storage, type UserRecord } from './index.js';
import { migratedStores, postgresBackend, sqliteBackend } from './test-backends.js';

function user(over: Partial<UserRecord> = {}): UserRecord {
  const id = `usr_${randomUUID().slice(0, 8)}`;
  return {
    id,
    orgId: 'org-a',
    projectId: null,
    username: `${id}@example.com`,
    displayName: null,
    passwordHash: 'scrypt$x',
    roles: ['user'],
    failedLogins: 0,
    lockedUntil: null,
    createdAt: 1000,
    disabledAt: null,
    ...over,
  };
}

function key(orgId: string): KeyRecord {
  const id = `key_${randomUUID().slice(0, 8)}`;
  return { id, name: id, role: 'agent', prefix: 'wdn_x', hash: randomUUID(), orgId, projectId: null, models: null, createdAt: 1, revokedAt: null };
}

describe.each([sqliteBackend(), postgresBackend()])('$name directory', (backend) => {
  const migrated = migratedStores(backend);

  async function fresh(): Promise<Storage> {
    const store = await migrated();
    await store.directory.createOrg({ id: 'org-a', name: 'Org A', createdAt: 1, disabledAt: null });
    await store.directory.createOrg({ id: 'org-b', name: 'Org B', createdAt: 2, disabledAt: null });
    return store;
  }

  it('has the default org after migrating, and org names are unique', async () => {
    const { directory: d } = await fresh();
    expect((await d.listOrgs()).map((o) => o.id)).toEqual(['default', 'org-a', 'org-b']);
    await expect(d.createOrg({ id: 'org-c', name: 'Org A', createdAt: 3, disabledAt: null })).rejects.toThrow();
  });

  it('scopes projects, users and keys to their org', async () => {
    const store = await fresh();
    const d = store.directory;
    await d.createProject({ id: 'prj_1', orgId: 'org-a', name: 'web', createdAt: 1 });
    expect(await d.getProject('org-b', 'prj_1')).toBeUndefined();
    expect(await d.deleteProject('org-b', 'prj_1')).toBe(false);
    expect((await d.listProjects('org-a')).map((p) => p.id)).toEqual(['prj_1']);
    const u = user();
    await d.createUser(u);
    expect(await d.getUser('org-b', u.id)).toBeUndefined();
    expect(await d.updateUser('org-b', u.id, { roles: ['admin'] })).toBeUndefined();
    expect((await d.getUser('org-a', u.id))?.roles).toEqual(['user']);
    expect((await d.findUserByUsername(u.username))?.id).toBe(u.id);
    const ka = key('org-a');
    await store.createKey(ka);
    await store.createKey(key('org-b'));
    expect((await store.listKeys('org-a')).map((k) => k.id)).toEqual([ka.id]);
    expect(await store.revokeKey(ka.id, 5, 'org-b')).toBeUndefined();
    expect((await store.listKeys('org-a'))[0]?.revokedAt).toBeNull();
    expect((await store.revokeKey(ka.id, 5, 'org-a'))?.revokedAt).toBe(5);
  });

  it('a user change moves the keys revision, so every gateway drops its auth caches', async () => {
    const store = await fresh();
    const u = user();
    await store.directory.createUser(u);
    const before = await store.keysRevision();
    await store.directory.updateUser('org-a', u.id, { disabledAt: 9 });
    expect(await store.keysRevision()).toBeGreaterThan(before);
  });

  it('counts login failures and resets them', async () => {
    const { directory: d } = await fresh();
    const u = user();
    await d.createUser(u);
    expect(await d.recordLoginFailure(u.id, 2, 99_999)).toEqual({ failures: 1, lockedNow: false });
    expect((await d.findUserById(u.id))?.lockedUntil).toBeNull();
    // Concurrent failures: exactly one of them reaches the threshold and locks.
    const burst = await Promise.all([1, 2, 3].map(() => d.recordLoginFailure(u.id, 2, 99_999)));
    expect(burst.filter((b) => b.lockedNow)).toHaveLength(1);
    expect((await d.findUserById(u.id))?.lockedUntil).toBe(99_999);
    await d.resetLoginFailures(u.id);
    const after = await d.findUserById(u.id);
    expect([after?.failedLogins, after?.lockedUntil]).toEqual([0, null]);
  });

  it('consumes a refresh token once; concurrent consumers get one success; a family is revoked together', async () => {
    const { directory: d } = await fresh();
    const base = { familyId: 'fam1', userId: 'u1', orgId: 'org-a', createdAt: 1, expiresAt: 10_000, usedAt: null, revokedAt: null };
    await d.createRefreshToken({ id: 't1', ...base });
    await d.createRefreshToken({ id: 't2', ...base });
    const results = await Promise.all([d.consumeRefreshToken('t1', 5), d.consumeRefreshToken('t1', 5), d.consumeRefreshToken('t1', 5)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await d.revokeTokenFamily('fam1', 6)).toBe(2);
    expect(await d.consumeRefreshToken('t2', 7)).toBe(false);
    expect((await d.findRefreshToken('t2'))?.revokedAt).toBe(6);
  });

  it('versions policies: the newest non-deleted version is current; a concurrent same version is refused; the revision moves', async () => {
    const { directory: d } = await fresh();
    const rev0 = await d.policiesRevision();
    const v = (name: string, version: number, text: string | null, orgId = 'org-a') => ({ orgId, name, version, text, actor: 'key_1', createdAt: version });
    expect(await d.addPolicyVersion(v('p1', 1, 'permit(principal, action, resource);'))).toBe(true);
    expect(await d.addPolicyVersion(v('p1', 2, 'forbid(principal, action, resource);'))).toBe(true);
    expect(await d.addPolicyVersion(v('p1', 2, 'other'))).toBe(false);
    expect(await d.addPolicyVersion(v('p2', 1, 'permit(principal, action, resource);'))).toBe(true);
    expect(await d.addPolicyVersion(v('p2', 2, null))).toBe(true);
    expect(await d.addPolicyVersion(v('p1', 1, 'x', 'org-b'))).toBe(true);
    const current = await d.currentPolicies('org-a');
    expect(current.map((p) => [p.name, p.version, p.text])).toEqual([['p1', 2, 'forbid(principal, action, resource);']]);
    expect((await d.currentPolicies()).map((p) => p.orgId)).toEqual(['org-a', 'org-b']);
    expect((await d.policyHistory('org-a', 'p2')).map((p) => p.text === null)).toEqual([false, true]);
    expect(await d.policiesRevision()).toBe(rev0 + 5);
  });

  it('stores role permission overrides per org, replacing on update', async () => {
    const { directory: d } = await fresh();
    await d.setRolePermissions({ orgId: 'org-a', role: 'agent', permissions: ['llm:call'], updatedAt: 1 });
    await d.setRolePermissions({ orgId: 'org-a', role: 'agent', permissions: ['llm:call', 'runs:write'], updatedAt: 2 });
    expect(await d.listRolePermissions('org-a')).toEqual([{ orgId: 'org-a', role: 'agent', permissions: ['llm:call', 'runs:write'], updatedAt: 2 }]);
    expect(await d.listRolePermissions('org-b')).toEqual([]);
    expect(await d.deleteRolePermissions('org-a', 'agent')).toBe(true);
  });

  it('stores org limit rules per org, replacing on update, and moves the keys revision so replicas reload them', async () => {
    const store = await fresh();
    const d = store.directory;
    const rev = await store.keysRevision();
    await d.setLimitRule({ orgId: 'org-a', name: 'tokens', rule: { per: 'org', tokens: 10, window: 'day' }, updatedAt: 1 });
    await d.setLimitRule({ orgId: 'org-a', name: 'tokens', rule: { per: 'org', tokens: 20, window: 'day' }, updatedAt: 2 });
    await d.setLimitRule({ orgId: 'org-b', name: 'tokens', rule: { per: 'key', requests: 5, window: 'minute' }, updatedAt: 3 });
    expect(await d.listLimitRules('org-a')).toEqual([{ orgId: 'org-a', name: 'tokens', rule: { per: 'org', tokens: 20, window: 'day' }, updatedAt: 2 }]);
    expect((await d.listLimitRules()).map((r) => r.orgId)).toEqual(['org-a', 'org-b']);
    expect(await store.keysRevision()).toBeGreaterThan(rev);
    expect(await d.deleteLimitRule('org-a', 'tokens')).toBe(true);
    expect(await d.deleteLimitRule('org-a', 'tokens')).toBe(false);
    expect(await d.listLimitRules('org-a')).toEqual([]);
  });

  it('stores MCP servers per org, replacing on update, lists their sealed headers for rotation, and moves the keys revision', async () => {
    const store = await fresh();
    const d = store.directory;
    const rev = await store.keysRevision();
    const server = (orgId: string, url: string, sealedHeaders: string | null, updatedAt: number) => ({ orgId, name: 'files', url, sealedHeaders, settings: { timeout_ms: 1000, refresh_s: 60, header_names: sealedHeaders ? ['authorization'] : [] }, updatedBy: 'Key:k1', updatedAt });
    await d.setMcpServer(server('org-a', 'http://a/1', 'sealed-1', 1));
    await d.setMcpServer(server('org-a', 'http://a/2', 'sealed-2', 2));
    await d.setMcpServer(server('org-b', 'http://b', null, 3));
    expect(await d.listMcpServers('org-a')).toEqual([server('org-a', 'http://a/2', 'sealed-2', 2)]);
    expect((await d.listMcpServers()).map((r) => r.orgId)).toEqual(['org-a', 'org-b']);
    expect(await store.keysRevision()).toBeGreaterThan(rev);
    const sealed = (await d.listSealed()).filter((r) => r.table === 'mcp_servers');
    expect(sealed).toEqual([{ table: 'mcp_servers', id: 'org-a/files', sealed: 'sealed-2' }]);
    await d.updateSealed({ table: 'mcp_servers', id: 'org-a/files', sealed: 'resealed' });
    expect((await d.listMcpServers('org-a'))[0]!.sealedHeaders).toBe('resealed');
    expect(await d.deleteMcpServer('org-a', 'files')).toBe(true);
    expect(await d.deleteMcpServer('org-a', 'files')).toBe(false);
    expect(await d.listMcpServers('org-a')).toEqual([]);
  });

  it('keeps the first system secret written, and lists every sealed value for rotation', async () => {
    const store = await fresh();
    const d = store.directory;
    expect(await d.putSystemSecretOnce('jwt', 'first')).toBe('first');
    expect(await d.putSystemSecretOnce('jwt', 'second')).toBe('first');
    await d.createSigningSecret({ id: 'sk_1', orgId: 'org-a', projectId: null, name: 'ci', sealed: 's1', createdAt: 1, revokedAt: null });
    expect(await d.revokeSigningSecret('org-b', 'sk_1', 3)).toBeUndefined();
    expect((await d.getSigningSecret('sk_1'))?.revokedAt).toBeNull();
    const sealed = await d.listSealed();
    expect(sealed).toEqual(expect.arrayContaining([{ table: 'system_secrets', id: 'jwt', sealed: 'first' }, { table: 'signing_secrets', id: 'sk_1', sealed: 's1' }]));
    await d.updateSealed({ table: 'signing_secrets', id: 'sk_1', sealed: 's2' });
    expect((await d.getSigningSecret('sk_1'))?.sealed).toBe('s2');
  });

  it('queries only one org\'s events when asked to', async () => {
    const store = await fresh();
    const ev = (orgId: string | null, n: number) => ({ ...blankEvent(), id: `e-${randomUUID()}`, ts: n, requestId: `r${n}`, kind: 'api.request', orgId });
    await store.appendEvents([ev('org-a', 1), ev('org-b', 2), ev(null, 3), ev('org-a', 4)]);
    const page = await store.queryEvents({ orgId: 'org-a', limit: 10, order: 'asc' });
    expect(page.items.map((e) => e.ts)).toEqual([1, 4]);
  });
});
