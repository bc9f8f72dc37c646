#!/usr/bin/env node
// Limit decision latency: Limiter.admit() + settle() for one LLM call under the
// bench's limit set (a per-caller request limit and a per-org token limit, so the
// prompt is tokenized), with the in-process store and with the real Redis
// (WARDEN_REDIS_URL or redis://127.0.0.1:6379). Run as its own process by
// bench/run.mjs; prints one JSON object.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIMIT_RULES } from './limit-rules.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const L = await import(join(ROOT, 'packages/warden/dist/limits/index.js'));
const { RedisLimitStore } = await import(join(ROOT, 'packages/warden/dist/limits/redis-store.js'));
const N = Number(process.env.BENCH_LIMIT_N ?? 20000);
const REDIS = process.env.WARDEN_REDIS_URL || 'redis://127.0.0.1:6379';


const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello in one short sentence.' }], max_tokens: 64 };
const principal = { type: 'Key', via: 'api_key', id: 'key_bench', orgId: 'default', projectId: null, roles: ['agent'], keyId: 'key_bench', userId: null, agentId: null, models: null };

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function measure(store) {
  const limiter = new L.Limiter({ rules: LIMIT_RULES.map((r) => L.compileRule(r, 'config')), store, cost: () => 0.00001, defaultMaxTokens: 4096, leaseMs: 60_000 });
  const call = { principal, route: '/v1/chat/completions', model: 'gpt-4o-mini', tool: null };
  const t = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const s = process.hrtime.bigint();
    const a = await limiter.admit(call, { body, embeddings: false }, () => {});
    limiter.settle(a, { tokensIn: 14, tokensOut: 9, costUsd: 0.00001 });
    t[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
  await limiter.close();
  const sorted = Array.from(t).sort((a, b) => a - b);
  return { n: N, p50Us: pct(sorted, 0.5), p99Us: pct(sorted, 0.99) };
}

const memory = await measure(new L.MemoryLimitStore());
const redisStore = new RedisLimitStore({ url: REDIS, prefix: `warden:bench:${process.pid}:` });
await redisStore.ready(5000);
const redis = await measure(redisStore);
process.stdout.write(`${JSON.stringify({ memory, redis })}\n`);
process.exit(0);
