import type { StoredEvent, WardenEvent } from '../events/event.js';
import type { TraceStore } from './traces.js';

/**
 * admin: everything inside its org. user: a person calling models and tools.
 * agent: a machine client. system: the platform operator and internal
 * services, the one role that acts across orgs. guest: nearly nothing.
 */
export type Role = 'admin' | 'agent' | 'user' | 'system' | 'guest';
export const ROLES: readonly Role[] = ['admin', 'agent', 'user', 'system', 'guest'];

/** An API key as stored: only its SHA-256 hash, never the key. */
export interface KeyRecord {
  id: string;
  name: string;
  role: Role;
  /** First characters of the key (e.g. `wdn_AbCd`), for people to recognise it. */
  prefix: string;
  /** Hex SHA-256 of the whole key. */
  hash: string;
  orgId: string;
  /** The project inside the org this key is for, or null for the whole org. */
  projectId: string | null;
  /** Model glob patterns this key may use; null means every configured model. */
  models: string[] | null;
  createdAt: number;
  revokedAt: number | null;
}

export interface EventQuery {
  /** Only this org's events (every API caller but `system` is scoped to its own). */
  orgId?: string;
  /** Inclusive lower bound on ts (epoch ms). */
  from?: number;
  /** Exclusive upper bound on ts (epoch ms). */
  to?: number;
  kinds?: string[];
  keyId?: string;
  model?: string;
  /** Exact status code. */
  status?: number;
  decision?: string;
  /** Opaque cursor from a previous page's nextCursor. */
  cursor?: string;
  /** 1..1000 */
  limit: number;
  /** 'desc' (newest first, the default for listing) or 'asc' (export, consumers). */
  order?: 'asc' | 'desc';
}

export interface EventPage {
  items: StoredEvent[];
  /** Pass back as `cursor` to get the next page; null when there are no more rows. */
  nextCursor: string | null;
}

export type AuditFailureReason = 'hash_mismatch' | 'broken_link';

export interface AuditVerifyResult {
  ok: boolean;
  /** Number of records checked. */
  checked: number;
  /** Hash of the last record checked (the chain head), or the genesis hash when empty. */
  headHash: string;
  /** The first record that does not verify, when ok is false. */
  firstBad?: { seq: number; id: string; reason: AuditFailureReason };
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

/**
 * The one storage seam. Two adapters: SQLite (default, embedded, WAL) and
 * PostgreSQL. Both pass the same test suite against real databases.
 */
export interface Storage {
  readonly kind: 'sqlite' | 'postgres';
  /** Apply pending migrations; returns the names applied now. */
  migrate(): Promise<string[]>;
  migrationStatus(): Promise<MigrationStatus>;
  /** Cheap round trip proving the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;

  createKey(key: KeyRecord): Promise<void>;
  findKeyByHash(hash: string): Promise<KeyRecord | undefined>;
  /** Every key, or only one org's. */
  listKeys(orgId?: string): Promise<KeyRecord[]>;
  /**
   * Marks the key revoked (idempotent); undefined when no key has that id
   * (in that org, when orgId is given).
   */
  revokeKey(id: string, at: number, orgId?: string): Promise<KeyRecord | undefined>;
  /**
   * A number that changes whenever any key is created or revoked, by this
   * process or any other. Called on every authenticated request, so it must be
   * cheap, and is answered synchronously when it comes from memory: the
   * Postgres adapter keeps it fresh by LISTEN/NOTIFY, the SQLite adapter
   * re-reads one row only after its file watcher saw a change.
   */
  keysRevision(): number | Promise<number>;

  /**
   * Append events to the hash-chained audit log in one transaction, in order.
   * Safe with several writers (processes) on the same database: each batch
   * links to the chain head at its commit.
   */
  appendEvents(events: WardenEvent[]): Promise<void>;
  queryEvents(query: EventQuery): Promise<EventPage>;
  /** Walk the whole chain, recomputing every hash; report the first bad record. */
  verifyAudit(): Promise<AuditVerifyResult>;

  /** Orgs, projects, users, sessions, signing secrets, policies, role overrides. */
  readonly directory: Directory;
  /** Agent runs and their trace events (the ingestion API). */
  readonly traces: TraceStore;
}

export interface OrgRecord {
  id: string;
  name: string;
  createdAt: number;
  disabledAt: number | null;
}

export interface ProjectRecord {
  id: string;
  orgId: string;
  name: string;
  createdAt: number;
}

export interface UserRecord {
  id: string;
  orgId: string;
  projectId: string | null;
  /** Unique across the installation: people sign in with it alone. */
  username: string;
  displayName: string | null;
  /** scrypt string from identity/passwords, or null for users who only sign in through OIDC. */
  passwordHash: string | null;
  roles: Role[];
  failedLogins: number;
  lockedUntil: number | null;
  createdAt: number;
  disabledAt: number | null;
}

export interface RefreshTokenRecord {
  /** SHA-256 of the token: the token itself is never stored. */
  id: string;
  /** Every rotation of one sign-in shares the family; reuse of a spent token revokes it all. */
  familyId: string;
  userId: string;
  orgId: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  revokedAt: number | null;
}

export interface SigningSecretRecord {
  id: string;
  orgId: string;
  projectId: string | null;
  name: string;
  /** The secret sealed by secrets/SecretBox (AAD `signing_secret:<id>`). */
  sealed: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface PolicyVersionRecord {
  orgId: string;
  name: string;
  version: number;
  /** Cedar text, or null when this version deleted the policy. */
  text: string | null;
  /** Who made the change (key or user id). */
  actor: string | null;
  createdAt: number;
}

export interface RolePermissionsRecord {
  orgId: string;
  role: Role;
  permissions: string[];
  updatedAt: number;
}

/** A per-org limit set through the admin API. */
export interface LimitRuleRecord {
  orgId: string;
  name: string;
  /** The rule's fields (per, metric, window, match, replaces), as limits/rules.ts reads them. */
  rule: Record<string, unknown>;
  updatedAt: number;
}

export type UserPatch = Partial<Pick<UserRecord, 'displayName' | 'passwordHash' | 'roles' | 'projectId' | 'disabledAt'>>;

/** An MCP server an org registered through the admin API. */
export interface McpServerRecord {
  orgId: string;
  name: string;
  url: string;
  /** Its request headers as one SecretBox envelope (AAD `mcp_server:<org>/<name>`), or null for none. */
  sealedHeaders: string | null;
  /** `header_names`: which headers are sealed (names are not secret; values are). */
  settings: { timeout_ms: number; refresh_s: number; header_names?: string[] };
  /** The principal that last set it, as `Type:id`. */
  updatedBy: string;
  updatedAt: number;
}

/** A sealed value of any table, for master-key rotation (mcp_servers ids are `<org>/<name>`). */
export interface SealedRow {
  table: 'signing_secrets' | 'system_secrets' | 'mcp_servers';
  id: string;
  sealed: string;
}

/**
 * The identity and tenancy tables, one implementation over kysely for both
 * databases. Methods that take an orgId only ever see or touch that org's rows.
 * Changes that affect authentication bump the keys revision, so every
 * gateway drops its caches; policy changes bump the policies revision.
 */
export interface Directory {
  createOrg(org: OrgRecord): Promise<void>;
  getOrg(id: string): Promise<OrgRecord | undefined>;
  listOrgs(): Promise<OrgRecord[]>;
  renameOrg(id: string, name: string): Promise<OrgRecord | undefined>;

  createProject(p: ProjectRecord): Promise<void>;
  getProject(orgId: string, id: string): Promise<ProjectRecord | undefined>;
  listProjects(orgId: string): Promise<ProjectRecord[]>;
  deleteProject(orgId: string, id: string): Promise<boolean>;

  createUser(u: UserRecord): Promise<void>;
  getUser(orgId: string, id: string): Promise<UserRecord | undefined>;
  /** Across orgs: sign-in knows only the username. */
  findUserByUsername(username: string): Promise<UserRecord | undefined>;
  /** By id across orgs: for the token and refresh paths, where the id came from a verified token. */
  findUserById(id: string): Promise<UserRecord | undefined>;
  listUsers(orgId: string): Promise<UserRecord[]>;
  updateUser(orgId: string, id: string, patch: UserPatch): Promise<UserRecord | undefined>;
  /**
   * Counts a failed sign-in in one statement; the failure that reaches
   * `threshold` sets lockedUntil. `lockedNow` is true for exactly that one.
   */
  recordLoginFailure(id: string, threshold: number, lockedUntil: number): Promise<{ failures: number; lockedNow: boolean }>;
  resetLoginFailures(id: string): Promise<void>;

  createRefreshToken(t: RefreshTokenRecord): Promise<void>;
  findRefreshToken(id: string): Promise<RefreshTokenRecord | undefined>;
  /** Marks the token used if it was still unused and not revoked; false when it was not (reuse or revoked). */
  consumeRefreshToken(id: string, at: number): Promise<boolean>;
  /** Revokes every token of the sign-in; moves the keys revision, so its access tokens stop working at once. */
  revokeTokenFamily(familyId: string, at: number): Promise<number>;
  /** Whether the sign-in still has a token that is not revoked (its access tokens are honoured only then). */
  sessionActive(familyId: string): Promise<boolean>;
  revokeUserTokens(userId: string, at: number): Promise<number>;

  createSigningSecret(s: SigningSecretRecord): Promise<void>;
  getSigningSecret(id: string): Promise<SigningSecretRecord | undefined>;
  listSigningSecrets(orgId: string): Promise<SigningSecretRecord[]>;
  revokeSigningSecret(orgId: string, id: string, at: number): Promise<SigningSecretRecord | undefined>;

  /** Appends a version; false when that (org, name, version) exists (a concurrent edit). */
  addPolicyVersion(v: PolicyVersionRecord): Promise<boolean>;
  /** The newest version of every policy (deleted ones excluded), of one org or of all. */
  currentPolicies(orgId?: string): Promise<PolicyVersionRecord[]>;
  policyHistory(orgId: string, name: string): Promise<PolicyVersionRecord[]>;

  setRolePermissions(r: RolePermissionsRecord): Promise<void>;
  deleteRolePermissions(orgId: string, role: Role): Promise<boolean>;
  listRolePermissions(orgId?: string): Promise<RolePermissionsRecord[]>;
  setLimitRule(r: LimitRuleRecord): Promise<void>;
  deleteLimitRule(orgId: string, name: string): Promise<boolean>;
  listLimitRules(orgId?: string): Promise<LimitRuleRecord[]>;
  /** Adds or replaces one; moves the keys revision, so every gateway reloads its MCP servers. */
  setMcpServer(r: McpServerRecord): Promise<void>;
  deleteMcpServer(orgId: string, name: string): Promise<boolean>;
  listMcpServers(orgId?: string): Promise<McpServerRecord[]>;

  getSystemSecret(name: string): Promise<string | undefined>;
  /** Stores it unless one exists; returns the stored value (first writer wins across processes). */
  putSystemSecretOnce(name: string, sealed: string): Promise<string>;
  listSealed(): Promise<SealedRow[]>;
  updateSealed(row: SealedRow): Promise<void>;

  /** The policies revision (bumped by every policy change, any process). */
  policiesRevision(): Promise<number>;
}
