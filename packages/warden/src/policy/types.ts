import type { PrincipalType, ResourceType } from './schema.js';

/** One unit of policy text as an operator wrote it: a file, an API record or the built-ins. */
export interface PolicyDocument {
  id: string;
  text: string;
  origin: 'builtin' | 'file' | 'api';
  /** null = applies to every org. */
  orgId: string | null;
}

export interface AuthzPrincipal {
  type: PrincipalType;
  id: string;
  orgId: string;
  projectId: string | null;
  roles: readonly string[];
}

export interface AuthzResource {
  type: ResourceType;
  id: string;
  /** Model provider, e.g. "openai"; "" when omitted. */
  provider?: string;
  /** For a Tool: the MCP server it belongs to (its parent entity). */
  server?: string;
}

export interface AuthzContext {
  /** Epoch ms; defaults to Date.now(). Floored to the minute before use. */
  now?: number;
  clientIp?: string | null;
  /** Risk score 0..1; defaults to 0. */
  risk?: number;
  route?: string;
  stream?: boolean;
  /** Tool-call arguments (arbitrary JSON). */
  arguments?: Record<string, unknown>;
  /** For trace:ingest: the event's type, actor and tool ("" when it names none). */
  event?: { type: string; actor: string; tool: string };
}

export interface AuthzRequest {
  principal: AuthzPrincipal;
  action: string;
  resource: AuthzResource;
  context?: AuthzContext;
}

export interface AuthzDecision {
  decision: 'allow' | 'deny';
  /** Ids of the policies that determined it: the satisfied permits for allow, the satisfied forbids for deny, [] when no permit matched. */
  policyIds: string[];
  errors: string[];
  cached: boolean;
  reason: 'permit' | 'forbid' | 'no_permit' | 'error';
}

export interface ValidationIssue {
  policyId: string | null;
  message: string;
}

export interface PolicyEngineHooks {
  /** Called for every decide(), cached or not. Must not throw; if it does, the error is swallowed. */
  onDecision?(action: string, decision: AuthzDecision, durationSeconds: number): void;
}
