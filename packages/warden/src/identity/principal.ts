import type { KeyRecord, Role, UserRecord } from '../storage/types.js';

/**
 * Who is calling, however they proved it. Every authorization decision
 * (role permissions, Cedar policies) and every event's who-fields come from
 * this one shape.
 */
export interface Principal {
  /** The Cedar entity type: an API key, a person, or a machine client that signs its requests. */
  type: 'Key' | 'User' | 'Agent';
  via: 'api_key' | 'access_token' | 'oidc' | 'hmac';
  /** Entity id: key id, user id, or signing secret id. */
  id: string;
  orgId: string;
  projectId: string | null;
  roles: Role[];
  keyId: string | null;
  userId: string | null;
  agentId: string | null;
  /** Model glob patterns a key is limited to; null = no key-level limit. */
  models: string[] | null;
}

export function keyPrincipal(k: KeyRecord): Principal {
  return {
    type: 'Key',
    via: 'api_key',
    id: k.id,
    orgId: k.orgId,
    projectId: k.projectId,
    roles: [k.role],
    keyId: k.id,
    userId: null,
    agentId: null,
    models: k.models,
  };
}

export function userPrincipal(u: UserRecord, via: 'access_token' | 'oidc' = 'access_token'): Principal {
  return {
    type: 'User',
    via,
    id: u.id,
    orgId: u.orgId,
    projectId: u.projectId,
    roles: [...u.roles],
    keyId: null,
    userId: u.id,
    agentId: null,
    models: null,
  };
}
