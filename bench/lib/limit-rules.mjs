// The limits the benchmark runs with, both in the gateway (bench/run.mjs) and in the
// decision benchmark (limit-bench.mjs): a per-caller request limit and a per-org token
// limit (every call is tokenized, reserved and settled), set high enough never to refuse.
export const LIMIT_RULES = [
  { name: 'bench-requests', per: 'caller', requests: 1e9, window: 'minute' },
  { name: 'bench-tokens', per: 'org', tokens: 1e12, window: 'day' },
];
