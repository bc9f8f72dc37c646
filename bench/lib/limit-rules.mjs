// The limits the benchmark runs with, both in the gateway (bench/run.mjs) and in the
// decision benchmark (limit-bench.mjs): a per-caller request limit and a per-org token
// limit (every call is tokenized, reserved and settled), set high enough never to refuse.
export const LIMIT_RULES = [
  { name: 'bench-requests', per: 'caller', requests: 1e9, window: 'minute' },
  { name: 'bench-tokens', per: 'org', tokens: 1e12, window: 'day' },
];

/**
 * The config of every benchmarked gateway: SQLite in `dir`, log level info,
 * the policies the decision benchmark measures, limits as
 * bench/lib/limit-bench.mjs measures them (none refuses), guardrails on
 * (flag, the default) unless BENCH_GUARD overrides (e.g. 'enabled: false'
 * for an A/B), BENCH_EVENTS as an events: section; then `tail` (providers,
 * mcp servers).
 */
export function gatewayConfig(root, dir, tail) {
  return [
    'server: { host: 127.0.0.1, port: 0 }',
    `storage: { url: "sqlite:${dir}/warden.db" }`,
    'log: { level: info }',
    `policy: { dir: "${root}/bench/policies" }`,
    `limits: { roles: { admin: null, user: null, agent: null, guest: null }, rules: ${JSON.stringify(LIMIT_RULES)} }`,
    ...(process.env.BENCH_EVENTS ? [`events: { ${process.env.BENCH_EVENTS} }`] : []),
    ...(process.env.BENCH_GUARD ? [`guard: { ${process.env.BENCH_GUARD} }`] : []),
    ...tail,
    '',
  ].join('\n');
}
