import type { Kysely } from 'kysely';
import { POLICIES_REVISION, type Database } from './schema.js';
import type {
  Directory,
  OrgRecord,
  PolicyVersionRecord,
  ProjectRecord,
  RefreshTokenRecord,
  Role,
  RolePermissionsRecord,
  LimitRuleRecord,
  McpServerRecord,
  SealedRow,
  SigningSecretRecord,
  UserPatch,
  UserRecord,
} from './types.js';

/**
 * Adapter hooks: how this database tells every gateway that authentication
 * data changed (SQLite: the revision row plus the file watch; Postgres: the
 * revision row plus NOTIFY), and how it bumps the policies revision.
 */
export interface DirectoryHooks {
  authChanged(): Promise<void>;
}

type UserRow = Database['users'];

function rowToUser(r: UserRow): UserRecord {
  return {
    id: r.id,
    orgId: r.org_id,
    projectId: r.project_id,
    username: r.username,
    displayName: r.display_name,
    passwordHash: r.password_hash,
    roles: JSON.parse(r.roles) as Role[],
    failedLogins: Number(r.failed_logins),
    lockedUntil: r.locked_until,
    createdAt: r.created_at,
    disabledAt: r.disabled_at,
  };
}

function rowToToken(r: Database['refresh_tokens']): RefreshTokenRecord {
  return {
    id: r.id,
    familyId: r.family_id,
    userId: r.user_id,
    orgId: r.org_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    usedAt: r.used_at,
    revokedAt: r.revoked_at,
  };
}

function rowToSecret(r: Database['signing_secrets']): SigningSecretRecord {
  return {
    id: r.id,
    orgId: r.org_id,
    projectId: r.project_id,
    name: r.name,
    sealed: r.sealed,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  };
}

function rowToPolicy(r: Database['policies']): PolicyVersionRecord {
  return { orgId: r.org_id, name: r.name, version: Number(r.version), text: r.text, actor: r.actor, createdAt: r.created_at };
}

const rowToOrg = (r: Database['orgs']): OrgRecord => ({ id: r.id, name: r.name, createdAt: r.created_at, disabledAt: r.disabled_at });
const rowToProject = (r: Database['projects']): ProjectRecord => ({ id: r.id, orgId: r.org_id, name: r.name, createdAt: r.created_at });

/**
 * Single statements only, no multi-statement transactions: on SQLite the
 * kysely handle is shared with better-sqlite3's synchronous transactions,
 * which an async BEGIN could swallow. Where two writes go together the
 * order makes a crash between them harmless (a token is consumed before its
 * successor exists; a change is written before caches are told).
 */
export class KyselyDirectory implements Directory {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly hooks: DirectoryHooks,
  ) {}

  async createOrg(org: OrgRecord): Promise<void> {
    await this.db.insertInto('orgs').values({ id: org.id, name: org.name, created_at: org.createdAt, disabled_at: org.disabledAt }).execute();
  }

  async getOrg(id: string): Promise<OrgRecord | undefined> {
    const r = await this.db.selectFrom('orgs').selectAll().where('id', '=', id).executeTakeFirst();
    return r && rowToOrg(r);
  }

  async listOrgs(): Promise<OrgRecord[]> {
    return (await this.db.selectFrom('orgs').selectAll().orderBy('created_at').orderBy('id').execute()).map(rowToOrg);
  }

  async renameOrg(id: string, name: string): Promise<OrgRecord | undefined> {
    await this.db.updateTable('orgs').set({ name }).where('id', '=', id).execute();
    return this.getOrg(id);
  }

  async createProject(p: ProjectRecord): Promise<void> {
    await this.db.insertInto('projects').values({ id: p.id, org_id: p.orgId, name: p.name, created_at: p.createdAt }).execute();
  }

  async getProject(orgId: string, id: string): Promise<ProjectRecord | undefined> {
    const r = await this.db.selectFrom('projects').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
    return r && rowToProject(r);
  }

  async listProjects(orgId: string): Promise<ProjectRecord[]> {
    const rows = await this.db.selectFrom('projects').selectAll().where('org_id', '=', orgId).orderBy('created_at').orderBy('id').execute();
    return rows.map(rowToProject);
  }

  async deleteProject(orgId: string, id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('projects').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async createUser(u: UserRecord): Promise<void> {
    await this.db
      .insertInto('users')
      .values({
        id: u.id,
        org_id: u.orgId,
        project_id: u.projectId,
        username: u.username,
        display_name: u.displayName,
        password_hash: u.passwordHash,
        roles: JSON.stringify(u.roles),
        failed_logins: u.failedLogins,
        locked_until: u.lockedUntil,
        created_at: u.createdAt,
        disabled_at: u.disabledAt,
      })
      .execute();
  }

  async getUser(orgId: string, id: string): Promise<UserRecord | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
    return r && rowToUser(r);
  }

  async findUserByUsername(username: string): Promise<UserRecord | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return r && rowToUser(r);
  }

  async findUserById(id: string): Promise<UserRecord | undefined> {
    const r = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r && rowToUser(r);
  }

  async listUsers(orgId: string): Promise<UserRecord[]> {
    const rows = await this.db.selectFrom('users').selectAll().where('org_id', '=', orgId).orderBy('created_at').orderBy('id').execute();
    return rows.map(rowToUser);
  }

  async updateUser(orgId: string, id: string, patch: UserPatch): Promise<UserRecord | undefined> {
    const set: Partial<UserRow> = {};
    if (patch.displayName !== undefined) set.display_name = patch.displayName;
    if (patch.passwordHash !== undefined) set.password_hash = patch.passwordHash;
    if (patch.roles !== undefined) set.roles = JSON.stringify(patch.roles);
    if (patch.projectId !== undefined) set.project_id = patch.projectId;
    if (patch.disabledAt !== undefined) set.disabled_at = patch.disabledAt;
    if (Object.keys(set).length > 0) {
      await this.db.updateTable('users').set(set).where('org_id', '=', orgId).where('id', '=', id).execute();
      await this.hooks.authChanged();
    }
    return this.getUser(orgId, id);
  }

  async recordLoginFailure(id: string, threshold: number, lockedUntil: number): Promise<{ failures: number; lockedNow: boolean }> {
    const r = await this.db
      .updateTable('users')
      .set((eb) => ({
        failed_logins: eb('failed_logins', '+', 1),
        locked_until: eb.case().when('failed_logins', '=', threshold - 1).then(lockedUntil).else(eb.ref('locked_until')).end(),
      }))
      .where('id', '=', id)
      .returning(['failed_logins'])
      .executeTakeFirst();
    const failures = r === undefined ? 0 : Number(r.failed_logins);
    return { failures, lockedNow: failures === threshold };
  }

  async resetLoginFailures(id: string): Promise<void> {
    await this.db.updateTable('users').set({ failed_logins: 0, locked_until: null }).where('id', '=', id).execute();
  }

  async createRefreshToken(t: RefreshTokenRecord): Promise<void> {
    await this.db
      .insertInto('refresh_tokens')
      .values({
        id: t.id,
        family_id: t.familyId,
        user_id: t.userId,
        org_id: t.orgId,
        created_at: t.createdAt,
        expires_at: t.expiresAt,
        used_at: t.usedAt,
        revoked_at: t.revokedAt,
      })
      .execute();
  }

  async findRefreshToken(id: string): Promise<RefreshTokenRecord | undefined> {
    const r = await this.db.selectFrom('refresh_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return r && rowToToken(r);
  }

  async consumeRefreshToken(id: string, at: number): Promise<boolean> {
    // One conditional UPDATE: of two concurrent refreshes with the same token, exactly one wins.
    const r = await this.db
      .updateTable('refresh_tokens')
      .set({ used_at: at })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async revokeTokenFamily(familyId: string, at: number): Promise<number> {
    const r = await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: at })
      .where('family_id', '=', familyId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    const n = Number(r.numUpdatedRows);
    if (n > 0) await this.hooks.authChanged();
    return n;
  }

  async sessionActive(familyId: string): Promise<boolean> {
    const r = await this.db
      .selectFrom('refresh_tokens')
      .select('id')
      .where('family_id', '=', familyId)
      .where('revoked_at', 'is', null)
      .limit(1)
      .executeTakeFirst();
    return r !== undefined;
  }

  async revokeUserTokens(userId: string, at: number): Promise<number> {
    const r = await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: at })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    const n = Number(r.numUpdatedRows);
    if (n > 0) await this.hooks.authChanged();
    return n;
  }

  async createSigningSecret(s: SigningSecretRecord): Promise<void> {
    await this.db
      .insertInto('signing_secrets')
      .values({
        id: s.id,
        org_id: s.orgId,
        project_id: s.projectId,
        name: s.name,
        sealed: s.sealed,
        created_at: s.createdAt,
        revoked_at: s.revokedAt,
      })
      .execute();
  }

  async getSigningSecret(id: string): Promise<SigningSecretRecord | undefined> {
    const r = await this.db.selectFrom('signing_secrets').selectAll().where('id', '=', id).executeTakeFirst();
    return r && rowToSecret(r);
  }

  async listSigningSecrets(orgId: string): Promise<SigningSecretRecord[]> {
    const rows = await this.db
      .selectFrom('signing_secrets')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(rowToSecret);
  }

  async revokeSigningSecret(orgId: string, id: string, at: number): Promise<SigningSecretRecord | undefined> {
    await this.db
      .updateTable('signing_secrets')
      .set({ revoked_at: at })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    await this.hooks.authChanged();
    const r = await this.db.selectFrom('signing_secrets').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
    return r && rowToSecret(r);
  }

  async addPolicyVersion(v: PolicyVersionRecord): Promise<boolean> {
    const r = await this.db
      .insertInto('policies')
      .values({ org_id: v.orgId, name: v.name, version: v.version, text: v.text, actor: v.actor, created_at: v.createdAt })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(r.numInsertedOrUpdatedRows ?? 0) === 0) return false;
    await this.db
      .updateTable('revisions')
      .set((eb) => ({ value: eb('value', '+', 1) }))
      .where('name', '=', POLICIES_REVISION)
      .execute();
    return true;
  }

  async currentPolicies(orgId?: string): Promise<PolicyVersionRecord[]> {
    let q = this.db
      .selectFrom('policies as p')
      .selectAll('p')
      .where(({ eb, selectFrom }) =>
        eb(
          'p.version',
          '=',
          selectFrom('policies as q')
            .select(({ fn }) => fn.max('q.version').as('v'))
            .whereRef('q.org_id', '=', 'p.org_id')
            .whereRef('q.name', '=', 'p.name'),
        ),
      )
      .where('p.text', 'is not', null);
    if (orgId !== undefined) q = q.where('p.org_id', '=', orgId);
    return (await q.orderBy('p.org_id').orderBy('p.name').execute()).map(rowToPolicy);
  }

  async policyHistory(orgId: string, name: string): Promise<PolicyVersionRecord[]> {
    const rows = await this.db
      .selectFrom('policies')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('name', '=', name)
      .orderBy('version')
      .execute();
    return rows.map(rowToPolicy);
  }

  async setRolePermissions(r: RolePermissionsRecord): Promise<void> {
    await this.db
      .insertInto('role_permissions')
      .values({ org_id: r.orgId, role: r.role, permissions: JSON.stringify(r.permissions), updated_at: r.updatedAt })
      .onConflict((oc) => oc.columns(['org_id', 'role']).doUpdateSet({ permissions: JSON.stringify(r.permissions), updated_at: r.updatedAt }))
      .execute();
    await this.hooks.authChanged();
  }

  async deleteRolePermissions(orgId: string, role: Role): Promise<boolean> {
    const r = await this.db.deleteFrom('role_permissions').where('org_id', '=', orgId).where('role', '=', role).executeTakeFirst();
    await this.hooks.authChanged();
    return Number(r.numDeletedRows) > 0;
  }

  async listRolePermissions(orgId?: string): Promise<RolePermissionsRecord[]> {
    let q = this.db.selectFrom('role_permissions').selectAll();
    if (orgId !== undefined) q = q.where('org_id', '=', orgId);
    const rows = await q.orderBy('org_id').orderBy('role').execute();
    return rows.map((r) => ({ orgId: r.org_id, role: r.role as Role, permissions: JSON.parse(r.permissions) as string[], updatedAt: r.updated_at }));
  }

  async setLimitRule(r: LimitRuleRecord): Promise<void> {
    const rule = JSON.stringify(r.rule);
    await this.db
      .insertInto('limit_rules')
      .values({ org_id: r.orgId, name: r.name, rule, updated_at: r.updatedAt })
      .onConflict((oc) => oc.columns(['org_id', 'name']).doUpdateSet({ rule, updated_at: r.updatedAt }))
      .execute();
    await this.hooks.authChanged();
  }

  async deleteLimitRule(orgId: string, name: string): Promise<boolean> {
    const r = await this.db.deleteFrom('limit_rules').where('org_id', '=', orgId).where('name', '=', name).executeTakeFirst();
    await this.hooks.authChanged();
    return Number(r.numDeletedRows) > 0;
  }

  async listLimitRules(orgId?: string): Promise<LimitRuleRecord[]> {
    let q = this.db.selectFrom('limit_rules').selectAll();
    if (orgId !== undefined) q = q.where('org_id', '=', orgId);
    const rows = await q.orderBy('org_id').orderBy('name').execute();
    return rows.map((r) => ({ orgId: r.org_id, name: r.name, rule: JSON.parse(r.rule) as Record<string, unknown>, updatedAt: Number(r.updated_at) }));
  }

  async setMcpServer(r: McpServerRecord): Promise<void> {
    const row = { url: r.url, sealed_headers: r.sealedHeaders, settings: JSON.stringify(r.settings), updated_by: r.updatedBy, updated_at: r.updatedAt };
    await this.db
      .insertInto('mcp_servers')
      .values({ org_id: r.orgId, name: r.name, ...row })
      .onConflict((oc) => oc.columns(['org_id', 'name']).doUpdateSet(row))
      .execute();
    await this.hooks.authChanged();
  }

  async deleteMcpServer(orgId: string, name: string): Promise<boolean> {
    const r = await this.db.deleteFrom('mcp_servers').where('org_id', '=', orgId).where('name', '=', name).executeTakeFirst();
    await this.hooks.authChanged();
    return Number(r.numDeletedRows) > 0;
  }

  async listMcpServers(orgId?: string): Promise<McpServerRecord[]> {
    let q = this.db.selectFrom('mcp_servers').selectAll();
    if (orgId !== undefined) q = q.where('org_id', '=', orgId);
    const rows = await q.orderBy('org_id').orderBy('name').execute();
    return rows.map((r) => ({
      orgId: r.org_id,
      name: r.name,
      url: r.url,
      sealedHeaders: r.sealed_headers,
      settings: JSON.parse(r.settings) as McpServerRecord['settings'],
      updatedBy: r.updated_by,
      updatedAt: Number(r.updated_at),
    }));
  }

  async getSystemSecret(name: string): Promise<string | undefined> {
    const r = await this.db.selectFrom('system_secrets').select('sealed').where('name', '=', name).executeTakeFirst();
    return r?.sealed;
  }

  async putSystemSecretOnce(name: string, sealed: string): Promise<string> {
    await this.db
      .insertInto('system_secrets')
      .values({ name, sealed, updated_at: Date.now() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    return (await this.getSystemSecret(name)) as string;
  }

  async listSealed(): Promise<SealedRow[]> {
    const secrets = await this.db.selectFrom('signing_secrets').select(['id', 'sealed']).execute();
    const system = await this.db.selectFrom('system_secrets').select(['name', 'sealed']).execute();
    const mcp = await this.db.selectFrom('mcp_servers').select(['org_id', 'name', 'sealed_headers']).where('sealed_headers', 'is not', null).execute();
    return [
      ...secrets.map((r) => ({ table: 'signing_secrets' as const, id: r.id, sealed: r.sealed })),
      ...system.map((r) => ({ table: 'system_secrets' as const, id: r.name, sealed: r.sealed })),
      ...mcp.map((r) => ({ table: 'mcp_servers' as const, id: `${r.org_id}/${r.name}`, sealed: r.sealed_headers! })),
    ];
  }

  async updateSealed(row: SealedRow): Promise<void> {
    if (row.table === 'signing_secrets') {
      await this.db.updateTable('signing_secrets').set({ sealed: row.sealed }).where('id', '=', row.id).execute();
    } else if (row.table === 'mcp_servers') {
      const cut = row.id.indexOf('/');
      await this.db.updateTable('mcp_servers').set({ sealed_headers: row.sealed }).where('org_id', '=', row.id.slice(0, cut)).where('name', '=', row.id.slice(cut + 1)).execute();
    } else {
      await this.db.updateTable('system_secrets').set({ sealed: row.sealed, updated_at: Date.now() }).where('name', '=', row.id).execute();
    }
  }

  async policiesRevision(): Promise<number> {
    const r = await this.db.selectFrom('revisions').select('value').where('name', '=', POLICIES_REVISION).executeTakeFirstOrThrow();
    return Number(r.value);
  }
}
