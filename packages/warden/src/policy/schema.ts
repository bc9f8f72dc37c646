/**
 * The Cedar schema every Warden policy is validated against, kept as a TS
 * string so it ships inside dist/ with no file lookup at run time.
 *
 * Choices that are not obvious from the text:
 *
 * - `risk` is a `decimal` (0.0000–1.0000, Cedar's fixed four places) so the
 *   policy scale matches the 0..1 score used everywhere else in Warden.
 *   Cedar's `<`/`>` only accept Long/datetime/duration, so policies compare it
 *   with the extension methods: `context.risk.greaterThan(decimal("0.8"))`.
 *
 * - `ip` is the client address as an `ipaddr` extension value, present only
 *   when the address parsed (`context has ip && context.ip.isInRange(ip("10.0.0.0/8"))`).
 *   `client_ip` holds the same address as a String, "" when unknown.
 *
 * - `arguments` (tool-call arguments, arbitrary JSON) is declared as an empty
 *   *closed* record. Cedar 4.13's wasm build rejects open records
 *   (`additionalAttributes` needs the experimental `partial-validate` feature)
 *   and strict is the only validation mode it offers. Against an empty record
 *   the strict validator types `context.arguments has path` as `false` and,
 *   per Cedar's typing of `&&`/`if`, does not type-check the guarded operand.
 *   So a guarded test such as
 *     context has arguments && context.arguments has path && context.arguments.path like "/etc/*"
 *   validates (with an "impossible policy" warning we do not surface), an
 *   unguarded `context.arguments.path` is rejected, and evaluation — which the
 *   engine runs without the schema — sees the real JSON. The cost: a type
 *   mistake inside the guarded part is found at evaluation, where Cedar skips
 *   that policy and the engine reports the error in the decision.
 *
 * - `time` is UTC; `weekday` is 0 = Sunday … 6 = Saturday (as Date#getUTCDay);
 *   `epoch` is seconds floored to the minute so decisions stay cacheable.
 */
export const WARDEN_CEDAR_SCHEMA = `namespace Warden {
  entity Role, Org;

  // project is "" when the principal has none.
  entity Key, User, Agent in [Role, Org] = {
    org: String,
    project: String,
    roles: Set<String>,
  };

  entity Model = { provider: String };
  entity McpServer;
  entity Tool in [McpServer] = { server: String };
  entity Run;

  type Time = { hour: Long, minute: Long, weekday: Long, epoch: Long };

  type RequestContext = {
    time: Time,
    client_ip: String,
    ip?: ipaddr,
    risk: decimal,
    route: String,
    stream: Bool,
    arguments?: {},
    event?: { type: String, actor: String, tool: String },
  };

  action "llm:call" appliesTo {
    principal: [Key, User, Agent],
    resource: Model,
    context: RequestContext,
  };

  action "tools/list", "resources/read", "prompts/get" appliesTo {
    principal: [Key, User, Agent],
    resource: McpServer,
    context: RequestContext,
  };

  action "tools/call" appliesTo {
    principal: [Key, User, Agent],
    resource: Tool,
    context: RequestContext,
  };

  // Storing one trace event (or an event made from an OTLP span) in a run.
  action "trace:ingest" appliesTo {
    principal: [Key, User, Agent],
    resource: Run,
    context: RequestContext,
  };
}
`;

export const CEDAR_NAMESPACE = 'Warden';

export type PrincipalType = 'Key' | 'User' | 'Agent';
export type ResourceType = 'Model' | 'McpServer' | 'Tool' | 'Run';

/** Which resource type each action applies to; mirrors the schema above. */
export const ACTION_RESOURCE: Readonly<Record<string, ResourceType>> = Object.freeze({
  'llm:call': 'Model',
  'tools/list': 'McpServer',
  'tools/call': 'Tool',
  'resources/read': 'McpServer',
  'prompts/get': 'McpServer',
  'trace:ingest': 'Run',
});

export const PRINCIPAL_TYPES: readonly PrincipalType[] = ['Key', 'User', 'Agent'];
