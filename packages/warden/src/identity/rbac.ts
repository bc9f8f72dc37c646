import type { Role } from '../storage/types.js';

/**
 * Every permission Warden checks, named `resource:action`. Routes declare
 * the one they need; roles grant sets of them. `*` in a role's set grants
 * everything (the `system` role).
 */
export const PERMISSIONS = [
  'audit:read',
  'audit:verify',
  'keys:read',
  'keys:create',
  'keys:revoke',
  'users:read',
  'users:create',
  'users:update',
  'projects:read',
  'projects:create',
  'projects:delete',
  'orgs:read',
  'orgs:update',
  /** Create and list every org: the platform operator's, never an org admin's. */
  'orgs:manage',
  'roles:read',
  'roles:update',
  'limits:read',
  'limits:update',
  'policies:read',
  'policies:update',
  'policies:evaluate',
  'secrets:read',
  'secrets:create',
  'secrets:revoke',
  'monitoring:read',
  'models:read',
  'llm:call',
  'tools:list',
  'tools:call',
  'runs:read',
  'runs:write',
  'progress:update',
  /** See MCP tool calls held for approval, and approve or deny them (docs/mcp.md#approvals). */
  'approvals:read',
  'approvals:decide',
  /** MCP servers an org registers for itself (docs/mcp.md#registering-servers). */
  'mcp_servers:read',
  'mcp_servers:update',
] as const;

export type Permission = (typeof PERMISSIONS)[number];
const KNOWN = new Set<string>(PERMISSIONS);

export function isPermission(p: string): p is Permission {
  return KNOWN.has(p);
}

const CALLER: Permission[] = ['models:read', 'llm:call', 'tools:list', 'tools:call', 'runs:read', 'runs:write', 'progress:update'];

/** Shipped role → permission sets; config (`rbac.roles`) and the admin API (per org) override them. */
export const DEFAULT_ROLE_PERMISSIONS: Readonly<Record<Role, readonly (Permission | '*')[]>> = {
  system: ['*'],
  admin: PERMISSIONS.filter((p) => p !== 'orgs:manage'),
  user: [...CALLER, 'policies:evaluate'],
  agent: CALLER,
  guest: ['models:read'],
};

/**
 * Resolves what a set of roles may do in an org: the org's override for a
 * role if it has one, else the configured set, else the shipped default.
 * Built once per (org, role set) and cached until `replace` is called with
 * new overrides (on every auth revision change).
 */
export class RolePermissions {
  #base: Record<string, ReadonlySet<string>>;
  #orgs = new Map<string, Map<string, ReadonlySet<string>>>();

  constructor(configured: Partial<Record<Role, readonly string[]>> = {}) {
    this.#base = {};
    for (const role of Object.keys(DEFAULT_ROLE_PERMISSIONS) as Role[]) {
      this.#base[role] = new Set(configured[role] ?? DEFAULT_ROLE_PERMISSIONS[role]);
    }
  }

  /** Per-org overrides as stored (listRolePermissions). */
  replace(overrides: readonly { orgId: string; role: Role; permissions: readonly string[] }[]): void {
    const orgs = new Map<string, Map<string, ReadonlySet<string>>>();
    for (const o of overrides) {
      let m = orgs.get(o.orgId);
      if (!m) orgs.set(o.orgId, (m = new Map()));
      m.set(o.role, new Set(o.permissions));
    }
    this.#orgs = orgs;
  }

  /** The set a role has without an org override (config, else shipped). */
  defaults(role: Role): ReadonlySet<string> {
    return this.#base[role] ?? new Set();
  }

  /** The effective set of one role in one org. */
  of(orgId: string, role: Role): ReadonlySet<string> {
    return this.#orgs.get(orgId)?.get(role) ?? this.#base[role] ?? new Set();
  }

  allows(orgId: string, roles: readonly Role[], permission: Permission): boolean {
    for (const role of roles) {
      const set = this.of(orgId, role);
      if (set.has(permission) || set.has('*')) return true;
    }
    return false;
  }
}
