import { randomBytes, randomUUID } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { WardenError } from '../../errors/index.js';
import { PERMISSIONS, hashPassword, isPermission, passwordProblem } from '../../identity/index.js';
import { ROLES, type OrgRecord, type ProjectRecord, type Role, type SigningSecretRecord, type UserRecord } from '../../storage/types.js';
import type { ServerDeps } from '../server.js';
import { assertCanGrant, orgOf, recordChange, rolePermissionsOf } from './scope.js';

const Id = Type.String({ minLength: 1, maxLength: 200 });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
const Strict = { additionalProperties: false } as const;

const CreateOrg = Type.Object({ id: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' })), name: Name }, Strict);
const RenameOrg = Type.Object({ name: Name }, Strict);
const CreateProject = Type.Object({ name: Name }, Strict);
const CreateUser = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 320 }),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
    display_name: Type.Optional(Name),
    roles: Type.Array(RoleSchema, { minItems: 1, default: ['user'] }),
    project_id: Type.Optional(Id),
  },
  Strict,
);
const PatchUser = Type.Object(
  {
    password: Type.Optional(Type.String({ maxLength: 1024 })),
    display_name: Type.Optional(Type.Union([Name, Type.Null()])),
    roles: Type.Optional(Type.Array(RoleSchema, { minItems: 1 })),
    project_id: Type.Optional(Type.Union([Id, Type.Null()])),
    disabled: Type.Optional(Type.Boolean()),
    /** Clears a sign-in lockout. */
    unlock: Type.Optional(Type.Literal(true)),
  },
  Strict,
);
const PutRole = Type.Object({ permissions: Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true }) }, Strict);
const CreateSecret = Type.Object({ name: Name, project_id: Type.Optional(Id) }, Strict);

const publicOrg = (o: OrgRecord) => ({ id: o.id, name: o.name, created_at: o.createdAt });
const publicProject = (p: ProjectRecord) => ({ id: p.id, org_id: p.orgId, name: p.name, created_at: p.createdAt });
function publicUser(u: UserRecord) {
  return {
    id: u.id,
    org_id: u.orgId,
    project_id: u.projectId,
    username: u.username,
    display_name: u.displayName,
    roles: u.roles,
    has_password: u.passwordHash !== null,
    locked_until: u.lockedUntil,
    disabled_at: u.disabledAt,
    created_at: u.createdAt,
  };
}
const publicSecret = (s: SigningSecretRecord) => ({
  id: s.id,
  org_id: s.orgId,
  project_id: s.projectId,
  name: s.name,
  created_at: s.createdAt,
  revoked_at: s.revokedAt,
});

const newId = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 16)}`;

function roleParam(params: unknown): Role {
  const role = (params as { role: string }).role as Role;
  if (!ROLES.includes(role)) throw new WardenError('invalid_request', `Unknown role "${role}". Roles: ${ROLES.join(', ')}.`);
  return role;
}

function checkPassword(pw: string): void {
  const problem = passwordProblem(pw);
  if (problem) throw new WardenError('invalid_request', problem);
}

/** Orgs, projects, users, roles and signing secrets. Every query names the caller's org. */
export function directoryRoutes(deps: ServerDeps) {
  const { storage, rbac } = deps;
  const dir = storage.directory;
  const requireProject = async (orgId: string, id: string | null | undefined) => {
    if (id && !(await dir.getProject(orgId, id))) throw new WardenError('project_not_found');
  };

  return async function register(app: FastifyInstance): Promise<void> {
    const needs = (permission: (typeof PERMISSIONS)[number]) => ({ config: { permission, audited: true } });

    app.get('/api/v1/orgs', needs('orgs:manage'), async () => ({ data: (await dir.listOrgs()).map(publicOrg) }));

    app.post('/api/v1/orgs', { ...needs('orgs:manage'), schema: { body: CreateOrg } }, async (request, reply) => {
      const b = request.body as Static<typeof CreateOrg>;
      const org: OrgRecord = { id: b.id ?? newId('org'), name: b.name, createdAt: Date.now(), disabledAt: null };
      if ((await dir.getOrg(org.id)) || (await dir.listOrgs()).some((o) => o.name === org.name)) throw new WardenError('conflict', 'An organization with this id or name exists.');
      await dir.createOrg(org);
      recordChange(request, 'admin.org.create', { org_id: org.id }, null, publicOrg(org));
      return reply.code(201).send(publicOrg(org));
    });

    app.get('/api/v1/org', needs('orgs:read'), async (request) => {
      const org = await dir.getOrg(orgOf(request));
      if (!org) throw new WardenError('org_not_found');
      return publicOrg(org);
    });

    app.patch('/api/v1/org', { ...needs('orgs:update'), schema: { body: RenameOrg } }, async (request) => {
      const orgId = orgOf(request);
      const before = await dir.getOrg(orgId);
      if (!before) throw new WardenError('org_not_found');
      const { name } = request.body as Static<typeof RenameOrg>;
      if ((await dir.listOrgs()).some((o) => o.name === name && o.id !== orgId)) throw new WardenError('conflict', 'Another organization has this name.');
      const after = (await dir.renameOrg(orgId, name))!;
      recordChange(request, 'admin.org.update', { org_id: orgId }, publicOrg(before), publicOrg(after));
      return publicOrg(after);
    });

    app.get('/api/v1/projects', needs('projects:read'), async (request) => ({
      data: (await dir.listProjects(orgOf(request))).map(publicProject),
    }));

    app.post('/api/v1/projects', { ...needs('projects:create'), schema: { body: CreateProject } }, async (request, reply) => {
      const orgId = orgOf(request);
      const { name } = request.body as Static<typeof CreateProject>;
      if ((await dir.listProjects(orgId)).some((p) => p.name === name)) throw new WardenError('conflict', 'A project with this name exists.');
      const p: ProjectRecord = { id: newId('prj'), orgId, name, createdAt: Date.now() };
      await dir.createProject(p);
      recordChange(request, 'admin.project.create', { project_id: p.id }, null, publicProject(p));
      return reply.code(201).send(publicProject(p));
    });

    app.delete('/api/v1/projects/:id', needs('projects:delete'), async (request) => {
      const orgId = orgOf(request);
      const { id } = request.params as { id: string };
      const before = await dir.getProject(orgId, id);
      if (!before || !(await dir.deleteProject(orgId, id))) throw new WardenError('project_not_found');
      recordChange(request, 'admin.project.delete', { project_id: id }, publicProject(before), null);
      return publicProject(before);
    });

    app.get('/api/v1/users', needs('users:read'), async (request) => ({ data: (await dir.listUsers(orgOf(request))).map(publicUser) }));

    app.get('/api/v1/users/:id', needs('users:read'), async (request) => {
      const u = await dir.getUser(orgOf(request), (request.params as { id: string }).id);
      if (!u) throw new WardenError('user_not_found');
      return publicUser(u);
    });

    app.post('/api/v1/users', { ...needs('users:create'), schema: { body: CreateUser } }, async (request, reply) => {
      const orgId = orgOf(request);
      const b = request.body as Static<typeof CreateUser>;
      assertCanGrant(request, rbac, rolePermissionsOf(rbac, orgId, b.roles as Role[]));
      await requireProject(orgId, b.project_id);
      if (b.password !== undefined) checkPassword(b.password);
      if (await dir.findUserByUsername(b.username)) throw new WardenError('conflict', 'This username is taken.');
      const u: UserRecord = {
        id: newId('usr'),
        orgId,
        projectId: b.project_id ?? null,
        username: b.username,
        displayName: b.display_name ?? null,
        passwordHash: b.password === undefined ? null : await hashPassword(b.password),
        roles: b.roles as Role[],
        failedLogins: 0,
        lockedUntil: null,
        createdAt: Date.now(),
        disabledAt: null,
      };
      await dir.createUser(u);
      recordChange(request, 'admin.user.create', { user_id: u.id }, null, publicUser(u));
      return reply.code(201).send(publicUser(u));
    });

    app.patch('/api/v1/users/:id', { ...needs('users:update'), schema: { body: PatchUser } }, async (request) => {
      const orgId = orgOf(request);
      const { id } = request.params as { id: string };
      const before = await dir.getUser(orgId, id);
      if (!before) throw new WardenError('user_not_found');
      const b = request.body as Static<typeof PatchUser>;
      if (b.roles) assertCanGrant(request, rbac, rolePermissionsOf(rbac, orgId, b.roles as Role[]));
      // Changing someone who holds more than you (an admin editing a system user) is escalation too.
      assertCanGrant(request, rbac, rolePermissionsOf(rbac, orgId, before.roles));
      if (b.project_id) await requireProject(orgId, b.project_id);
      if (b.password !== undefined) checkPassword(b.password);
      const after = await dir.updateUser(orgId, id, {
        ...(b.password === undefined ? {} : { passwordHash: await hashPassword(b.password) }),
        ...(b.display_name === undefined ? {} : { displayName: b.display_name }),
        ...(b.roles === undefined ? {} : { roles: b.roles as Role[] }),
        ...(b.project_id === undefined ? {} : { projectId: b.project_id }),
        ...(b.disabled === undefined ? {} : { disabledAt: b.disabled ? (before.disabledAt ?? Date.now()) : null }),
      });
      if (b.unlock) await dir.resetLoginFailures(id);
      // A disabled user or a new password ends every session at once.
      if (b.disabled || b.password !== undefined) await dir.revokeUserTokens(id, Date.now());
      const now = (await dir.getUser(orgId, id)) ?? after!;
      recordChange(request, 'admin.user.update', { user_id: id, password_changed: b.password !== undefined }, publicUser(before), publicUser(now));
      return publicUser(now);
    });

    app.get('/api/v1/roles', needs('roles:read'), async (request) => {
      const orgId = orgOf(request);
      const overridden = new Set((await dir.listRolePermissions(orgId)).map((r) => r.role));
      return {
        data: ROLES.map((role) => ({ role, permissions: [...rbac.of(orgId, role)].sort(), overridden: overridden.has(role) })),
        permissions: PERMISSIONS,
      };
    });

    app.put('/api/v1/roles/:role', { ...needs('roles:update'), schema: { body: PutRole } }, async (request) => {
      const orgId = orgOf(request);
      const role = roleParam(request.params);
      const { permissions } = request.body as Static<typeof PutRole>;
      const unknown = permissions.filter((p) => p !== '*' && !isPermission(p));
      if (unknown.length) throw new WardenError('invalid_request', `Unknown permission(s): ${unknown.join(', ')}.`);
      if (permissions.includes('orgs:manage') || permissions.includes('*')) {
        throw new WardenError('invalid_request', 'Cross-organization permissions ("orgs:manage", "*") cannot be given per organization.');
      }
      // Both the role as it is and as it will be must lie within what the caller holds.
      assertCanGrant(request, rbac, rbac.of(orgId, role));
      assertCanGrant(request, rbac, permissions);
      const before = [...rbac.of(orgId, role)].sort();
      await dir.setRolePermissions({ orgId, role, permissions, updatedAt: Date.now() });
      await deps.reloadRoles();
      recordChange(request, 'admin.role.update', { role, org_id: orgId }, { permissions: before }, { permissions: [...permissions].sort() });
      return { role, permissions: [...rbac.of(orgId, role)].sort(), overridden: true };
    });

    app.delete('/api/v1/roles/:role', needs('roles:update'), async (request) => {
      const orgId = orgOf(request);
      const role = roleParam(request.params);
      const before = [...rbac.of(orgId, role)].sort();
      // Resetting restores the configured set: that must not hand the caller (or anyone) more than it holds.
      assertCanGrant(request, rbac, rbac.of(orgId, role));
      assertCanGrant(request, rbac, rbac.defaults(role));
      await dir.deleteRolePermissions(orgId, role);
      await deps.reloadRoles();
      recordChange(request, 'admin.role.reset', { role, org_id: orgId }, { permissions: before }, { permissions: [...rbac.of(orgId, role)].sort() });
      return { role, permissions: [...rbac.of(orgId, role)].sort(), overridden: false };
    });

    app.get('/api/v1/signing-secrets', needs('secrets:read'), async (request) => ({
      data: (await dir.listSigningSecrets(orgOf(request))).map(publicSecret),
    }));

    app.post('/api/v1/signing-secrets', { ...needs('secrets:create'), schema: { body: CreateSecret } }, async (request, reply) => {
      const orgId = orgOf(request);
      const b = request.body as Static<typeof CreateSecret>;
      await requireProject(orgId, b.project_id);
      const id = newId('sk');
      const secret = randomBytes(32).toString('base64url');
      const rec: SigningSecretRecord = {
        id,
        orgId,
        projectId: b.project_id ?? null,
        name: b.name,
        sealed: deps.secretBox.seal(secret, `signing_secret:${id}`),
        createdAt: Date.now(),
        revokedAt: null,
      };
      await dir.createSigningSecret(rec);
      recordChange(request, 'admin.signing_secret.create', { signing_secret_id: id }, null, publicSecret(rec));
      // Shown once, like an API key: only the sealed form is stored.
      return reply.code(201).send({ ...publicSecret(rec), secret });
    });

    app.delete('/api/v1/signing-secrets/:id', needs('secrets:revoke'), async (request) => {
      const orgId = orgOf(request);
      const { id } = request.params as { id: string };
      const rec = await dir.revokeSigningSecret(orgId, id, Date.now());
      if (!rec) throw new WardenError('signing_secret_not_found');
      recordChange(request, 'admin.signing_secret.revoke', { signing_secret_id: id }, null, publicSecret(rec));
      return publicSecret(rec);
    });

  };
}
