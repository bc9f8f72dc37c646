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
    providers: Type.Array(Provider, { default: [] }),
    /** Overrides and additions to the shipped model price table. */
    pricing: Type.Record(Type.String(), Price, { default: {} }),
  },
  Strict,
);

export type RawConfig = Static<typeof ConfigSchema>;
export type ProviderConfig = Static<typeof Provider>;
export type PriceConfig = Static<typeof Price>;
export type UpstreamConfig = Static<typeof UpstreamTuning>;
