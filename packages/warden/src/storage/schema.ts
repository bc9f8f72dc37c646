import type { Generated, Insertable, Selectable } from 'kysely';
import type { Decision, StoredEvent, WardenEvent } from '../events/event.js';
import type { KeyRecord, Role } from './types.js';

/** Table shapes as both databases return them (int8 is parsed to number on Postgres). */
export interface KeysTable {
  id: string;
  name: string;
  role: string;
  prefix: string;
  hash: string;
  org_id: string;
  project_id: string | null;
  /** JSON array text, or null for "every model". */
  models: string | null;
  created_at: number;
  revoked_at: number | null;
}

export interface RevisionsTable {
  name: string;
  value: number;
}

export interface EventsTable {
  seq: Generated<number>;
  id: string;
  ts: number;
  request_id: string;
  trace_id: string | null;
  kind: string;
  method: string | null;
  route: string | null;
  status: number | null;
  duration_ms: number | null;
  upstream_ms: number | null;
  ttft_ms: number | null;
  key_id: string | null;
  user_id: string | null;
  agent_id: string | null;
  org_id: string | null;
  model: string | null;
  provider: string | null;
  tokens_in: number | null;
  tokens_out: number | null;
  cost_usd: number | null;
  client_ip: string | null;
  user_agent: string | null;
  error_type: string | null;
  error_code: string | null;
  decision: string | null;
  /** The exact text from serializeDetail: the hash covers these bytes. */
  detail: string | null;
  prev_hash: string;
  hash: string;
}

export interface OrgsTable {
  id: string;
  name: string;
  created_at: number;
  disabled_at: number | null;
}

export interface ProjectsTable {
  id: string;
  org_id: string;
  name: string;
  created_at: number;
}

export interface UsersTable {
  id: string;
  org_id: string;
  project_id: string | null;
  username: string;
  display_name: string | null;
  password_hash: string | null;
  /** JSON array text. */
  roles: string;
  failed_logins: number;
  locked_until: number | null;
  created_at: number;
  disabled_at: number | null;
}

export interface RefreshTokensTable {
  id: string;
  family_id: string;
  user_id: string;
  org_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
}

export interface SigningSecretsTable {
  id: string;
  org_id: string;
  project_id: string | null;
  name: string;
  sealed: string;
  created_at: number;
  revoked_at: number | null;
}

export interface PoliciesTable {
  org_id: string;
  name: string;
  version: number;
  text: string | null;
  actor: string | null;
  created_at: number;
}

export interface RolePermissionsTable {
  org_id: string;
  role: string;
  /** JSON array text. */
  permissions: string;
  updated_at: number;
}

export interface LimitRulesTable {
  org_id: string;
  name: string;
  /** The rule as JSON (limits/rules.ts LimitRuleConfig without its name). */
  rule: string;
  updated_at: number;
}

export interface McpServersTable {
  org_id: string;
  name: string;
  url: string;
  sealed_headers: string | null;
  /** JSON: { timeout_ms, refresh_s }. */
  settings: string;
  updated_by: string;
  updated_at: number;
}

export interface SystemSecretsTable {
  name: string;
  sealed: string;
  updated_at: number;
}

export interface Database {
  keys: KeysTable;
  revisions: RevisionsTable;
  events: EventsTable;
  orgs: OrgsTable;
  projects: ProjectsTable;
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  signing_secrets: SigningSecretsTable;
  policies: PoliciesTable;
  role_permissions: RolePermissionsTable;
  system_secrets: SystemSecretsTable;
  limit_rules: LimitRulesTable;
  mcp_servers: McpServersTable;
  runs: RunsTable;
  trace_events: TraceEventsTable;
  run_progress: RunProgressTable;
  spans: SpansTable;
}

/** OpenTelemetry spans received over OTLP, kept as sent (GenAI ones also become trace events). */
export interface SpansTable {
  org_id: string;
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  /** The run the span's trace was mapped to, when the span follows the GenAI conventions. */
  run_id: string | null;
  name: string;
  kind: number;
  /** Unix nanoseconds as decimal text: exact (beyond a double's 2^53) and, at 19 digits, ordered as text. */
  start_ns: string;
  end_ns: string;
  status_code: number;
  status_message: string | null;
  /** JSON text: attributes as an object; events and links as arrays; the resource's attributes; the scope. */
  attributes: string;
  events: string | null;
  links: string | null;
  resource: string | null;
  scope: string | null;
  received_at: number;
}

export interface RunProgressTable {
  org_id: string;
  run_id: string;
  t: number;
  percent: number;
  status: string | null;
  message: string | null;
  step: string | null;
}

export interface RunsTable {
  id: string;
  org_id: string;
  project_id: string | null;
  agent: string;
  scenario: string | null;
  seed: string | null;
  /** JSON object text. */
  metadata: string | null;
  status: string;
  created_by: string | null;
  created_at: number;
  finalized_at: number | null;
  last_seq: number | null;
  event_count: number;
  error_count: number;
  flagged_count: number;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
  /** JSON text of the post-run evaluation, once finalized. */
  evaluation: string | null;
}

export interface TraceEventsTable {
  id: Generated<number>;
  org_id: string;
  run_id: string;
  seq: number;
  t: number;
  actor: string;
  type: string;
  /** JSON text, or null when the payload went to the blob store. */
  payload: string | null;
  /** Blob reference (`sha256:<hex>`) of a large payload. */
  blob: string | null;
  /** JSON object text: agent id, signature, findings. */
  meta: string | null;
  idempotency_key: string | null;
  /** Comma-separated: gap, out_of_order, duplicate_seq, after_finalize, guard. */
  flags: string | null;
  received_at: number;
}

export type KeyRow = Selectable<KeysTable>;
export type EventRow = Selectable<EventsTable>;
export type NewEventRow = Insertable<EventsTable>;

/** Insert column order; seq is assigned by the database. */
export const EVENT_INSERT_COLUMNS = [
  'id', 'ts', 'request_id', 'trace_id', 'kind', 'method', 'route', 'status',
  'duration_ms', 'upstream_ms', 'ttft_ms', 'key_id', 'user_id', 'agent_id', 'org_id',
  'model', 'provider', 'tokens_in', 'tokens_out', 'cost_usd', 'client_ip',
  'user_agent', 'error_type', 'error_code', 'decision', 'detail', 'prev_hash', 'hash',
] as const satisfies readonly (keyof NewEventRow)[];

export const KEYS_REVISION = 'keys';
export const POLICIES_REVISION = 'policies';

export function keyToRow(k: KeyRecord): KeyRow {
  return {
    id: k.id,
    name: k.name,
    role: k.role,
    prefix: k.prefix,
    hash: k.hash,
    org_id: k.orgId,
    project_id: k.projectId,
    models: k.models === null ? null : JSON.stringify(k.models),
    created_at: k.createdAt,
    revoked_at: k.revokedAt,
  };
}

export function rowToKey(r: KeyRow): KeyRecord {
  return {
    id: r.id,
    name: r.name,
    role: r.role as Role,
    prefix: r.prefix,
    hash: r.hash,
    orgId: r.org_id,
    projectId: r.project_id ?? null,
    models: r.models === null ? null : (JSON.parse(r.models) as string[]),
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  };
}

export function eventToRow(e: WardenEvent, detail: string | null, prevHash: string, hash: string): NewEventRow {
  return {
    id: e.id,
    ts: e.ts,
    request_id: e.requestId,
    trace_id: e.traceId,
    kind: e.kind,
    method: e.method,
    route: e.route,
    status: e.status,
    duration_ms: e.durationMs,
    upstream_ms: e.upstreamMs,
    ttft_ms: e.ttftMs,
    key_id: e.keyId,
    user_id: e.userId,
    agent_id: e.agentId,
    org_id: e.orgId,
    model: e.model,
    provider: e.provider,
    tokens_in: e.tokensIn,
    tokens_out: e.tokensOut,
    cost_usd: e.costUsd,
    client_ip: e.clientIp,
    user_agent: e.userAgent,
    error_type: e.errorType,
    error_code: e.errorCode,
    decision: e.decision,
    detail,
    prev_hash: prevHash,
    hash,
  };
}

/** A new row's values in EVENT_INSERT_COLUMNS order, for positional binding (cheaper than named). */
export function rowValues(r: NewEventRow): unknown[] {
  return [
    r.id, r.ts, r.request_id, r.trace_id, r.kind, r.method, r.route, r.status,
    r.duration_ms, r.upstream_ms, r.ttft_ms, r.key_id, r.user_id, r.agent_id, r.org_id,
    r.model, r.provider, r.tokens_in, r.tokens_out, r.cost_usd, r.client_ip,
    r.user_agent, r.error_type, r.error_code, r.decision, r.detail, r.prev_hash, r.hash,
  ];
}

/**
 * The event fields of a stored row with `detail` left unparsed (null): the
 * audit check hashes the stored detail text verbatim, so parsing it would be
 * wasted work there.
 */
export function rowToEventFields(r: EventRow): WardenEvent {
  return {
    id: r.id,
    ts: r.ts,
    requestId: r.request_id,
    traceId: r.trace_id,
    kind: r.kind,
    method: r.method,
    route: r.route,
    status: r.status,
    durationMs: r.duration_ms,
    upstreamMs: r.upstream_ms,
    ttftMs: r.ttft_ms,
    keyId: r.key_id,
    userId: r.user_id,
    agentId: r.agent_id,
    orgId: r.org_id,
    model: r.model,
    provider: r.provider,
    tokensIn: r.tokens_in,
    tokensOut: r.tokens_out,
    costUsd: r.cost_usd,
    clientIp: r.client_ip,
    userAgent: r.user_agent,
    errorType: r.error_type,
    errorCode: r.error_code,
    decision: r.decision as Decision | null,
    detail: null,
  };
}

export function rowToStoredEvent(r: EventRow): StoredEvent {
  return {
    ...rowToEventFields(r),
    detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
    seq: r.seq,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
