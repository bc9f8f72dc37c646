import type { FastifyRequest } from 'fastify';
import { WardenError } from '../../errors/index.js';
import type { Principal, RolePermissions } from '../../identity/index.js';
import type { Role } from '../../storage/types.js';

/** The authenticated caller; routes behind a permission always have one. */
export function principalOf(request: FastifyRequest): Principal {
  const p = request.warden.principal;
  if (!p) throw new WardenError('missing_api_key');
  return p;
}

/**
 * The org a request acts on: the caller's own, or the one `?org_id=` names.
 * The request hook (server.ts, admit) has already refused `?org_id=` of
 * another org to anyone without `orgs:manage`, on every route alike.
 */
export function orgOf(request: FastifyRequest): string {
  const p = principalOf(request);
  const asked = (request.query as Record<string, unknown> | undefined)?.org_id;
  return typeof asked === 'string' && asked !== '' ? asked : p.orgId;
}

/**
 * No privilege escalation through delegation: a caller may hand out a role
 * (on a key or user) or a permission set only when it holds every
 * permission in it itself.
 */
export function assertCanGrant(request: FastifyRequest, rbac: RolePermissions, granted: Iterable<string>): void {
  const p = principalOf(request);
  const own = (perm: string) => p.roles.some((r) => rbac.of(p.orgId, r).has('*') || rbac.of(p.orgId, r).has(perm));
  for (const perm of granted) {
    if (perm === '*' ? !p.roles.some((r) => rbac.of(p.orgId, r).has('*')) : !own(perm)) {
      throw new WardenError('permission_denied', `You cannot grant "${perm}": your own role does not have it.`);
    }
  }
}

export function rolePermissionsOf(rbac: RolePermissions, orgId: string, roles: readonly Role[]): Set<string> {
  const out = new Set<string>();
  for (const r of roles) for (const perm of rbac.of(orgId, r)) out.add(perm);
  return out;
}

/** Marks the request's event as an admin change: who did what to which target, before and after (never secrets). */
export function recordChange(
  request: FastifyRequest,
  kind: string,
  target: Record<string, unknown>,
  before: unknown,
  after: unknown,
): void {
  const d = request.warden.draft;
  d.kind = kind;
  d.detail = { target, before: before ?? null, after: after ?? null };
}
