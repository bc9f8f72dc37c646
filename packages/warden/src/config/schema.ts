import { Type, type Static } from '@sinclair/typebox';

const Strict = { additionalProperties: false } as const;

const Price = Type.Object(
  {
    input_per_mtok: Type.Number({ minimum: 0, description: 'USD per million input tokens' }),
    output_per_mtok: Type.Number({ minimum: 0, description: 'USD per million output tokens' }),
  },
  Strict,
);

const UpstreamTuning = Type.Object(
  {
    connect_timeout_ms: Type.Integer({ minimum: 1 }),
    /** Time allowed until the upstream's response headers arrive (includes model "thinking"). */
    headers_timeout_ms: Type.Integer({ minimum: 1 }),
    /** Longest silence allowed between two chunks of the upstream's body. */
    body_timeout_ms: Type.Integer({ minimum: 1 }),
    /** Keep-alive connections per provider origin. */
    connections: Type.Integer({ minimum: 1, maximum: 4096 }),
  },
  Strict,
);

const McpServer = Type.Object(
  {
    /** What tool names at /mcp begin with (`{name}__{tool}`), so never "__" inside or "_" at the end. */
    name: Type.String({ pattern: '^(?!.*__)[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9-])?$' }),
    /** The server's Streamable HTTP endpoint. Exactly one of `url` and `command` (checked in load.ts). */
    url: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** A stdio server Warden starts and supervises: the program to run (looked up on PATH), without a shell. */
    command: Type.Optional(Type.String({ minLength: 1 })),
    /** The program's arguments (default none). */
    args: Type.Optional(Type.Array(Type.String())),
    /** The program's environment (default none), on top of PATH, HOME and a few more; Warden's own is not passed. Never logged. */
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
    /** Its working directory (default Warden's). */
    cwd: Type.Optional(Type.String({ minLength: 1 })),
    /** Sent with every request to the server, e.g. `authorization: "Bearer ${GITHUB_TOKEN}"`; never logged or recorded. */
    headers: Type.Record(Type.String(), Type.String(), { default: {} }),
    /** How long one request to the server may take (a tool call included; for a stdio server, its start too). */
    timeout_ms: Type.Integer({ minimum: 1, default: 30_000 }),
    /** Cached tool lists are fetched again after this long (and at once on notifications/tools/list_changed). */
    refresh_s: Type.Integer({ minimum: 1, default: 300 }),
    /** After `failures` transport failures in a row (refused, HTTP 5xx, timeouts), calls fail at once for `cooldown_s`; then one trial call decides. */
    circuit: Type.Object(
      {
        failures: Type.Integer({ minimum: 1, default: 5 }),
        cooldown_s: Type.Integer({ minimum: 1, default: 30 }),
      },
      { ...Strict, default: {} },
    ),
  },
  Strict,
);

const Provider = Type.Object(
  {
    name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$' }),
    type: Type.Union([Type.Literal('openai'), Type.Literal('anthropic'), Type.Literal('openai-compatible')]),
    base_url: Type.String({ pattern: '^https?://' }),
    api_key: Type.Optional(Type.String()),
    models: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    upstream: Type.Optional(Type.Partial(UpstreamTuning)),
  },
  Strict,
);

const RoleName = Type.Union(['admin', 'user', 'agent', 'system', 'guest'].map((r) => Type.Literal(r)));

const OidcIssuer = Type.Object(
  {
    /** Exactly the `iss` its tokens carry. */
    issuer: Type.String({ pattern: '^https?://' }),
    audience: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })]),
    /** Default: discovered from the issuer's /.well-known/openid-configuration. */
    jwks_uri: Type.Optional(Type.String({ pattern: '^https?://' })),
    /** Asymmetric algorithms only; HS* and none are never accepted from an issuer. */
    algorithms: Type.Optional(Type.Array(Type.Union(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'].map((a) => Type.Literal(a))), { minItems: 1 })),
    clock_tolerance_s: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
    claims: Type.Object(
      {
        user: Type.String({ default: 'sub' }),
        /** Claim naming the Warden org; dotted paths reach nested claims. */
        org: Type.Optional(Type.String()),
        /** Used when the token has no org claim. */
        default_org: Type.Optional(Type.String()),
        /** Claim holding the roles (array or space-separated string); dotted paths allowed (realm_access.roles). */
        roles: Type.Optional(Type.String()),
        /** External role name → Warden role. */
        role_map: Type.Optional(Type.Record(Type.String(), RoleName)),
        default_roles: Type.Optional(Type.Array(RoleName)),
      },
      { ...Strict, default: {} },
    ),
  },
  Strict,
);

const Period = Type.Union(['second', 'minute', 'hour', 'day', 'month'].map((p) => Type.Literal(p)));
const Globs = Type.Array(Type.String({ minLength: 1 }), { minItems: 1 });

/** One limit (limits/rules.ts checks the combination: exactly one metric; a window unless concurrent). */
const LimitRuleSchema = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
    /** Whose counter: one per distinct caller, key, user, agent, org, project, role, model, route or tool; `global` is one for all. */
    per: Type.Union(['caller', 'key', 'user', 'agent', 'org', 'project', 'role', 'model', 'route', 'tool', 'global'].map((s) => Type.Literal(s))),
    requests: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Input plus output tokens. */
    tokens: Type.Optional(Type.Integer({ minimum: 0 })),
    spend_usd: Type.Optional(Type.Number({ minimum: 0 })),
    /** Requests in flight at once. */
    concurrent: Type.Optional(Type.Integer({ minimum: 0 })),
    window: Type.Optional(Period),
    match: Type.Optional(
      Type.Object(
        { role: Type.Optional(Globs), model: Type.Optional(Globs), route: Type.Optional(Globs), org: Type.Optional(Globs), key: Type.Optional(Globs), project: Type.Optional(Globs), tool: Type.Optional(Globs) },
        Strict,
      ),
    ),
    /** Rules this one overrides for the calls it applies to (e.g. ["role-agent"]). */
    replaces: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  Strict,
);

const guardAction = (d?: string) =>
  Type.Union([Type.Literal('block'), Type.Literal('redact'), Type.Literal('flag'), Type.Literal('off')], d ? { default: d } : {});
const GuardAction = guardAction();
const GuardActions = Type.Object({ pii: Type.Optional(GuardAction), secret: Type.Optional(GuardAction), injection: Type.Optional(GuardAction) }, Strict);

/** Guardrail actions for the calls a rule matches; the first matching rule wins. */
const GuardRule = Type.Object(
  {
    match: Type.Optional(
      Type.Object(
        {
          org: Type.Optional(Globs),
          project: Type.Optional(Globs),
          route: Type.Optional(Globs),
          model: Type.Optional(Globs),
          tool: Type.Optional(Globs),
          /** `request`: what callers send; `response`: what models (and tools) answer. */
          direction: Type.Optional(Type.Array(Type.Union([Type.Literal('request'), Type.Literal('response')]), { minItems: 1 })),
        },
        Strict,
      ),
    ),
    /** Per category. */
    actions: Type.Optional(GuardActions),
    /** Per finding type (e.g. CREDIT_CARD: block), over the category's action. */
    types: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Z][A-Z0-9_]*$' }), GuardAction)),
  },
  Strict,
);

export const ConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8600 }),
        /** Largest request body accepted, in bytes; larger gets 413. */
        body_limit_bytes: Type.Integer({ minimum: 1024, default: 10 * 1024 * 1024 }),
        /** Honour X-Forwarded-For for the client IP (only behind a trusted proxy). */
        trust_proxy: Type.Boolean({ default: false }),
      },
      { ...Strict, default: {} },
    ),
    storage: Type.Object(
      { url: Type.String({ minLength: 1, default: 'sqlite:./.warden/warden.db' }) },
      { ...Strict, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
          { default: 'info' },
        ),
      },
      { ...Strict, default: {} },
    ),
    upstream: Type.Object(
      {
        connect_timeout_ms: Type.Integer({ minimum: 1, default: 10_000 }),
        headers_timeout_ms: Type.Integer({ minimum: 1, default: 120_000 }),
        body_timeout_ms: Type.Integer({ minimum: 1, default: 120_000 }),
        connections: Type.Integer({ minimum: 1, maximum: 4096, default: 256 }),
      },
      { ...Strict, default: {} },
    ),
    events: Type.Object(
      {
        /** Rows per group commit. */
        batch_size: Type.Integer({ minimum: 1, maximum: 10_000, default: 500 }),
        /**
         * Longest an event waits in memory before its batch is written. Short
         * keeps each write burst short: on a small machine a 50 ms batch's
         * write competed with requests for CPU and doubled p99 latency.
         */
        flush_interval_ms: Type.Integer({ minimum: 1, maximum: 60_000, default: 10 }),
        /** Events held in memory at most; beyond it new events are dropped and counted. */
        queue_limit: Type.Integer({ minimum: 100, default: 100_000 }),
      },
      { ...Strict, default: {} },
    ),
    /** Agent traces (POST /api/v1/runs/{id}/events, /api/v1/trace-events/batch): docs/ingestion.md. */
    ingest: Type.Object(
      {
        /** Where payloads above blob_threshold_bytes are kept, content-addressed; by default `blobs/` beside the SQLite file (./.warden/blobs on PostgreSQL). */
        blob_dir: Type.Optional(Type.String({ minLength: 1 })),
        blob_threshold_bytes: Type.Integer({ minimum: 1024, default: 65_536 }),
        /** A larger payload is refused (payload_too_large), alone: the rest of its batch is stored. */
        max_payload_bytes: Type.Integer({ minimum: 1024, default: 4 * 1024 * 1024 }),
        /** Events waiting for a commit, at most; beyond it batches are refused with 503 and Retry-After. */
        max_queued_events: Type.Integer({ minimum: 100, default: 50_000 }),
        /** Post-run evaluation when a run is finalized (docs/ingestion.md#post-run-evaluation). */
        evaluation: Type.Object(
          {
            max_step_gap_ms: Type.Integer({ minimum: 1, default: 300_000 }),
            /** Steps runs must contain, by agent and scenario (globs): event types and tools. */
            required: Type.Array(
              Type.Object(
                {
                  agent: Type.Optional(Type.String({ minLength: 1 })),
                  scenario: Type.Optional(Type.String({ minLength: 1 })),
                  types: Type.Optional(Type.Array(Type.Union(['reasoning', 'action_request', 'action_response', 'final_output', 'error'].map((t) => Type.Literal(t))))),
                  tools: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
                },
                Strict,
              ),
              { default: [] },
            ),
            /** Share of error events from which a run is a WARNING, and an ERROR. */
            error_rate: Type.Tuple([Type.Number({ minimum: 0, maximum: 1 }), Type.Number({ minimum: 0, maximum: 1 })], { default: [0.1, 0.5] }),
            /** Share of failed tool answers from which a run is a WARNING, and an ERROR. */
            tool_failure_rate: Type.Tuple([Type.Number({ minimum: 0, maximum: 1 }), Type.Number({ minimum: 0, maximum: 1 })], { default: [0.2, 0.5] }),
          },
          { ...Strict, default: {} },
        ),
      },
      { ...Strict, default: {} },
    ),
    auth: Type.Object(
      {
        /** Lifetime of the access JWTs that POST /auth/token issues. */
        access_token_ttl_s: Type.Integer({ minimum: 60, maximum: 86_400, default: 900 }),
        refresh_token_ttl_s: Type.Integer({ minimum: 300, maximum: 90 * 86_400, default: 30 * 86_400 }),
        /** Failed sign-ins in a row before the account locks. */
        lockout_threshold: Type.Integer({ minimum: 1, maximum: 100, default: 5 }),
        lockout_s: Type.Integer({ minimum: 1, maximum: 86_400, default: 900 }),
        /** HMAC-signed requests: largest clock difference accepted, either way. */
        hmac_skew_s: Type.Integer({ minimum: 1, maximum: 3600, default: 300 }),
        oidc: Type.Array(OidcIssuer, { default: [] }),
      },
      { ...Strict, default: {} },
    ),
    rbac: Type.Object(
      {
        /** Role → permissions (`resource:action`, or `*`), replacing the shipped set for that role. */
        roles: Type.Object(
          Object.fromEntries(['admin', 'user', 'agent', 'system', 'guest'].map((r) => [r, Type.Optional(Type.Array(Type.String({ minLength: 1 })))])),
          { ...Strict, default: {} },
        ),
      },
      { ...Strict, default: {} },
    ),
    policy: Type.Object(
      {
        /** Directory of *.cedar files (every org); watched and reloaded on change. */
        dir: Type.Optional(Type.String({ minLength: 1 })),
        /** Include Warden's default permits (callers with a role other than guest may call models and tools). */
        defaults: Type.Boolean({ default: true }),
        cache_size: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 10_000 }),
        /**
         * Which decisions also become their own policy.decision event. Every
         * proxied call's own event always carries its decision and deciding
         * policy ids; `all` doubles the events written per call (measured: it
         * costs the gateway ~15% throughput), so the default records denies.
         */
        decision_events: Type.Union([Type.Literal('all'), Type.Literal('deny'), Type.Literal('none')], { default: 'deny' }),
      },
      { ...Strict, default: {} },
    ),
    secrets: Type.Object(
      {
        /**
         * Master key file (first line current, further lines previous keys),
         * used when WARDEN_MASTER_KEY is not set; created (0600) when missing.
         * Default: master.key next to a SQLite database, else ./.warden/master.key
         * (every replica on one database needs the same key).
         */
        master_key_file: Type.Optional(Type.String({ minLength: 1 })),
      },
      { ...Strict, default: {} },
    ),
    limits: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        /** Requests per minute per caller for each role (null: none); replaces the shipped default for that role. */
        roles: Type.Object(
          Object.fromEntries(['admin', 'user', 'agent', 'system', 'guest'].map((r) => [r, Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]))])),
          { ...Strict, default: {} },
        ),
        rules: Type.Array(LimitRuleSchema, { default: [] }),
        /** Output tokens reserved for a call that sets no max_tokens. */
        default_max_tokens: Type.Integer({ minimum: 1, default: 4096 }),
        /** Redis shared by every replica (env WARDEN_REDIS_URL); without it counters are in this process. */
        redis_url: Type.Optional(Type.String({ pattern: '^rediss?://' })),
        /** Redis unreachable: `open` enforces each replica's share locally; `closed` refuses calls with 503. */
        on_redis_unavailable: Type.Union([Type.Literal('open'), Type.Literal('closed')], { default: 'open' }),
        /** Replicas sharing the limits: in `open` mode each enforces 1/replicas of every limit while Redis is down. */
        replicas: Type.Integer({ minimum: 1, maximum: 1000, default: 1 }),
        redis_timeout_ms: Type.Integer({ minimum: 1, maximum: 10_000, default: 250 }),
        /** Prefix of every Redis key: separate Warden deployments sharing one Redis need different ones. */
        redis_prefix: Type.String({ minLength: 1, maxLength: 100, default: 'warden:limits:' }),
      },
      { ...Strict, default: {} },
    ),
    guard: Type.Object(
      {
        enabled: Type.Boolean({ default: true }),
        /** Findings below this confidence are ignored. */
        min_confidence: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
        /** What happens to each category when no rule says otherwise: record only, by default. */
        actions: Type.Object(
          { pii: guardAction('flag'), secret: guardAction('flag'), injection: guardAction('flag') },
          { ...Strict, default: {} },
        ),
        rules: Type.Array(GuardRule, { default: [] }),
        /** Inspect model answers too, streamed ones as they flow. */
        answers: Type.Boolean({ default: true }),
      },
      { ...Strict, default: {} },
    ),
    providers: Type.Array(Provider, { default: [] }),
    /** The MCP gateway (docs/mcp.md): upstream servers, and the sessions of clients at /mcp. */
    mcp: Type.Object(
      {
        servers: Type.Array(McpServer, { default: [] }),
        /** Client sessions idle this long are closed. */
        session_idle_s: Type.Integer({ minimum: 1, default: 1800 }),
        /** Open client sessions at most; an initialize beyond it gets 503. */
        max_sessions: Type.Integer({ minimum: 1, default: 10_000 }),
        /** Open client sessions of one caller at most, so one key cannot take them all. */
        max_sessions_per_caller: Type.Integer({ minimum: 1, default: 100 }),
        /** How long a tool call held by an `@approval` policy waits for a person before it fails. */
        approval_timeout_s: Type.Integer({ minimum: 1, maximum: 86_400, default: 300 }),
      },
      { ...Strict, default: {} },
    ),
    /** Overrides and additions to the shipped model price table. */
    pricing: Type.Record(Type.String(), Price, { default: {} }),
  },
  Strict,
);

export type RawConfig = Static<typeof ConfigSchema>;
export type ProviderConfig = Static<typeof Provider>;
export type PriceConfig = Static<typeof Price>;
export type UpstreamConfig = Static<typeof UpstreamTuning>;
export type OidcIssuerConfig = Static<typeof OidcIssuer>;
