#!/usr/bin/env node
// Policy decision latency: PolicyEngine.decide() with the shipped defaults plus
// bench/policies/bench.cedar, cached and uncached, for llm:call and tools/call.
// Run as its own process by bench/run.mjs; prints one JSON object.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { PolicyEngine } = await import(join(ROOT, 'packages/warden/dist/policy/index.js'));
const text = readFileSync(join(ROOT, 'bench/policies/bench.cedar'), 'utf8');
const docs = [{ id: 'bench', text, origin: 'file', orgId: null }];
const N_UNCACHED = Number(process.env.BENCH_POLICY_UNCACHED ?? 3000);
const N_CACHED = Number(process.env.BENCH_POLICY_CACHED ?? 30000);

const principal = (i) => ({ type: 'Key', id: `key_${i}`, orgId: 'default', projectId: null, roles: ['agent'] });
const requests = {
  'llm:call': (i) => ({ principal: principal(i), action: 'llm:call', resource: { type: 'Model', id: 'gpt-4o-mini', provider: 'mock' }, context: { clientIp: '127.0.0.1', route: '/v1/chat/completions', stream: false } }),
  'tools/call': (i) => ({ principal: principal(i), action: 'tools/call', resource: { type: 'Tool', id: 'read_file', server: 'files' }, context: { clientIp: '127.0.0.1', arguments: { path: '/tmp/report.txt', limit: 100 } } }),
};

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function measure(engine, make, n, distinct) {
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const req = make(distinct ? i : 0);
    const s = process.hrtime.bigint();
    const d = engine.decide(req);
    t[i] = Number(process.hrtime.bigint() - s) / 1000;
    if (d.decision !== 'allow') throw new Error(`benchmark request denied: ${JSON.stringify(d)}`);
  }
  const sorted = Array.from(t).sort((a, b) => a - b);
  return { n, p50Us: pct(sorted, 0.5), p99Us: pct(sorted, 0.99) };
}

const out = {};
for (const [action, make] of Object.entries(requests)) {
  const uncachedEngine = new PolicyEngine({ cacheSize: 0 });
  const cachedEngine = new PolicyEngine({ cacheSize: 10_000 });
  for (const e of [uncachedEngine, cachedEngine]) {
    const r = e.load(docs);
    if (!r.ok) throw new Error(`bench policies invalid: ${r.issues.map((i) => i.message).join('; ')}`);
  }
  measure(uncachedEngine, make, 300, true); // warm-up (JIT, wasm)
  measure(cachedEngine, make, 1000, false);
  const uncached = measure(uncachedEngine, make, N_UNCACHED, true);
  const cached = measure(cachedEngine, make, N_CACHED, false);
  if (cachedEngine.stats().hits < N_CACHED) throw new Error('the cached run missed the cache');
  out[action] = { uncached, cached };
}
out.policies = text.split('\n').filter((l) => /^(permit|forbid)/.test(l)).length;
process.stdout.write(`${JSON.stringify(out)}\n`);
