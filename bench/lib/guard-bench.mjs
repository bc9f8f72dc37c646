#!/usr/bin/env node
// Guardrail speed: PII + secrets scanning throughput (MB/s, one core) on mixed prompt-like
// text, against JSON.parse of the same bytes as the same-run baseline, and the added latency
// of inspecting a 2 KB chat request (PII, secrets and prompt-injection scoring, p50/p99).
// Run as its own process by bench/run.mjs (and `npm run eval:guard`); prints one JSON object.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const G = await import(join(ROOT, 'packages/warden/dist/guard/index.js'));

// Deterministic mixed text: prose, code, logs, with an occasional email, IP, URL and key-like token.
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const WORDS = 'the of and to in is you that it for on with as was at by this have from or one had not but what all were when we there can an your which their said if do will each about how up out them then she many some so these would other into has more her two like him see time could no make than first been its who now people my made over did down only way find use may water long little very after words called just where most know'.split(' ');
const PIECES = [
  () => `contact ${WORDS[(rnd() * WORDS.length) | 0]}.${(rnd() * 1000) | 0}@example.com`,
  () => `server 10.${(rnd() * 255) | 0}.${(rnd() * 255) | 0}.${(rnd() * 255) | 0} responded`,
  () => `see https://docs.example.com/page/${(rnd() * 1e6) | 0}`,
  () => `const total = items.reduce((a, b) => a + b.price * ${(rnd() * 10) | 0}, 0);`,
  () => `2026-11-${10 + ((rnd() * 18) | 0)}T12:00:00Z INFO request ${(rnd() * 1e9) | 0} took ${(rnd() * 900) | 0} ms`,
  () => `order #${(rnd() * 1e8) | 0} shipped, version 4.${(rnd() * 20) | 0}.${(rnd() * 9) | 0}`,
];
function text(bytes) {
  let s = '';
  while (s.length < bytes) s += rnd() < 0.08 ? `${PIECES[(rnd() * PIECES.length) | 0]()} ` : `${WORDS[(rnd() * WORDS.length) | 0]} `;
  return s.slice(0, bytes);
}
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

const scanner = new G.ContentScanner([new G.SecretsDetector(), new G.PiiDetector()], Buffer.alloc(32, 1));
const big = text(8 * 2 ** 20);
const json = JSON.stringify({ text: big });
const mbps = (fn, reps) => {
  fn();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e9);
  }
  return big.length / 2 ** 20 / best;
};
const scanMBs = mbps(() => scanner.scan(big, 0.5), 3);
const parseMBs = mbps(() => JSON.parse(json), 3);

const guardCfg = { min_confidence: 0.5, actions: { pii: 'flag', secret: 'flag', injection: 'flag' }, rules: [], answers: true };
const guard = new G.Guard(guardCfg, scanner, new G.InjectionDetector());
// The same guard without the learned injection classifier, timed interleaved with it: the model's own cost.
const rulesOnly = new G.Guard(guardCfg, scanner, new G.InjectionDetector({ model: null }));
const prompt = text(2048);
const target = { orgId: 'default', projectId: null, route: '/v1/chat/completions', model: 'gpt-4o-mini' };
const N = Number(process.env.BENCH_GUARD_N ?? 5000);
const t = new Float64Array(N), tr = new Float64Array(N);
for (let i = -500; i < N; i++) {
  for (const [g, out] of i % 2 ? [[guard, t], [rulesOnly, tr]] : [[rulesOnly, tr], [guard, t]]) {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You are helpful.' }, { role: 'user', content: prompt }] };
    const s = process.hrtime.bigint();
    g.inspectRequest(body, target);
    if (i >= 0) out[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
}
const sorted = Array.from(t).sort((a, b) => a - b);
const sortedRules = Array.from(tr).sort((a, b) => a - b);

// The same 2 KB request in other languages (ordinary prompts, no attack): where the vocabularies
// of other languages are looked for. The English prompt is timed again interleaved, as the baseline.
const { PROSE, prose } = await import('./prose.mjs');
const langs = {};
for (const lang of ['en', ...Object.keys(PROSE)]) {
  const M = Math.max(200, N >> 2);
  const text = lang === 'en' ? prompt : prose(lang, 2048);
  const ts = new Float64Array(M);
  for (let i = -100; i < M; i++) {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You are helpful.' }, { role: 'user', content: text }] };
    const s = process.hrtime.bigint();
    guard.inspectRequest(body, target);
    if (i >= 0) ts[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
  const so = Array.from(ts).sort((a, b) => a - b);
  langs[lang] = { p50Us: pct(so, 0.5), p99Us: pct(so, 0.99) };
}

// A streamed 2 KB answer in 4-character deltas (512 SSE events, as OpenAI sends them), through
// the answer guard with redaction on (held back and rescanned as it flows) and flag only
// (read beside the stream), against the usage reader alone: the work every stream already has.
const P = await import(join(ROOT, 'packages/warden/dist/proxy/answer-guard.js'));
const U = await import(join(ROOT, 'packages/warden/dist/proxy/usage.js'));
const answer = text(2048);
let sse = '';
for (let i = 0; i < answer.length; i += 4) sse += `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content: answer.slice(i, i + 4) }, logprobs: null, finish_reason: null }] })}\n\n`;
sse += 'data: [DONE]\n\n';
const sseChunks = [];
for (let i = 0; i < sse.length; i += 512) sseChunks.push(Buffer.from(sse.slice(i, i + 512)));
const redacting = new G.Guard({ min_confidence: 0.5, actions: { pii: 'redact', secret: 'redact', injection: 'flag' }, rules: [], answers: true }, scanner, new G.InjectionDetector());
const ag = (g) => ({ guard: g, target: { ...target, direction: 'response' }, redactor: new G.Redactor(), report() {}, blockedEvent: () => '' });
const streamTime = (make) => {
  const M = 400;
  const ts = new Float64Array(M);
  for (let i = -50; i < M; i++) {
    const tr = make();
    const s0 = process.hrtime.bigint();
    for (const c of sseChunks) tr.push(c);
    tr.end();
    if (i >= 0) ts[i] = Number(process.hrtime.bigint() - s0) / 1000;
  }
  const so = Array.from(ts).sort((a, b) => a - b);
  return { p50Us: pct(so, 0.5), p99Us: pct(so, 0.99) };
};
const streamBase = streamTime(() => new U.SseUsageReader('chat', false));
const streamRedact = streamTime(() => {
  const r = new U.SseUsageReader('chat', false);
  const g = new P.StreamAnswerGuard('chat', ag(redacting));
  return { push: (c) => g.push(r.push(c)), end: () => (g.push(r.end()), g.end()) };
});
const streamFlag = streamTime(() => {
  const r = new U.SseUsageReader('chat', false);
  const g = new P.StreamAnswerGuard('chat', ag(guard));
  return { push: (c) => g.push(r.push(c)), end: () => (g.push(r.end()), g.end()) };
});
process.stdout.write(
  `${JSON.stringify({ scanMBs, parseMBs, inspect2k: { n: N, p50Us: pct(sorted, 0.5), p99Us: pct(sorted, 0.99), rulesOnly: { p50Us: pct(sortedRules, 0.5), p99Us: pct(sortedRules, 0.99) }, languages: langs }, stream2k: { events: Math.ceil(answer.length / 4), usageOnly: streamBase, redact: streamRedact, flag: streamFlag } })}\n`,
);
