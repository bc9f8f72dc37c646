import type { PolicyDocument } from './types.js';

/** Roles that may call models and MCP servers out of the box; `guest` is deliberately absent. */
export const DEFAULT_ALLOWED_ROLES: readonly string[] = ['admin', 'user', 'agent', 'system'];

const roleList = DEFAULT_ALLOWED_ROLES.map((r) => JSON.stringify(r)).join(', ');

/**
 * Cedar denies anything no policy permits, so without these a fresh install
 * would refuse every call. They reproduce the behaviour Warden had before
 * policies existed: any principal holding a known role may use models and
 * MCP servers. Operators who want a closed world turn them off and write
 * their own permits.
 */
export const defaultPolicies: Readonly<PolicyDocument> = Object.freeze({
  id: 'warden.default',
  origin: 'builtin',
  orgId: null,
  text: `@id("warden.default.llm")
permit (
  principal,
  action == Warden::Action::"llm:call",
  resource
)
when { principal.roles.containsAny([${roleList}]) };

@id("warden.default.mcp")
permit (
  principal,
  action in [
    Warden::Action::"tools/list",
    Warden::Action::"tools/call",
    Warden::Action::"resources/read",
    Warden::Action::"prompts/get"
  ],
  resource
)
when { principal.roles.containsAny([${roleList}]) };

@id("warden.default.traces")
permit (
  principal,
  action == Warden::Action::"trace:ingest",
  resource
)
when { principal.roles.containsAny([${roleList}]) };
`,
});
