#!/usr/bin/env node
// Ingestion: batches of 100 trace events of about 1 KB each, posted to a Warden
// gateway (its own process, SQLite) by concurrent clients, each answered only
// once committed (202). Reported beside the ceiling measured in the same run:
// the same rows inserted straight into SQLite (same schema, same pragmas, the
// same background checkpoints, the same 100 rows per transaction), with no
// HTTP, no validation, no guardrails.
// Also the ingest-to-queryable latency: from sending a batch to its last event
// being visible through GET /api/v1/runs/{id}.
// Env: BENCH_INGEST_S (seconds per run, default 5), BENCH_INGEST_CONN (default 16),
// BENCH_GUARD (e.g. 'enabled: false'), BENCH_INGEST_PROF (a directory: the gateway writes a CPU profile there).
// Prints one JSON object.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { createKey, startGateway, stopAll } from './procs.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SECONDS = Number(process.env.BENCH_INGEST_S ?? 5);
const CONN = Number(process.env.BENCH_INGEST_CONN ?? 16);
const BATCH = 100;
const TEXT = 'The agent considered the next step of the plan, weighed the tool results it had so far and decided what to do. '.repeat(9).slice(0, 960);
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

const dir = mkdtempSync(join(tmpdir(), 'warden-ingest-bench-'));
const S = await import(join(ROOT, 'packages/warden/dist/storage/index.js'));
const T = await import(join(ROOT, 'packages/warden/dist/storage/sqlite.js'));

/** The same rows, straight into SQLite: the ceiling. */
async function rawCeiling(seconds) {
  const store = await S.openStorage(`sqlite:${join(dir, 'raw.db')}`);
  await store.migrate();
  await store.traces.createRun(S.newRun({ id: 'raw', orgId: 'o', agent: 'a' }));
  await store.close();
  const db = T.openSqliteDatabase(join(dir, 'raw.db'));
  const checkpoints = new S.WalCheckpointer(join(dir, 'raw.db'));
  const insert = db.prepare('INSERT INTO trace_events (org_id, run_id, seq, t, actor, type, payload, blob, meta, idempotency_key, flags, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, ?)');
  const tx = db.transaction((from) => {
    for (let i = 0; i < BATCH; i++) {
      const seq = from + i;
      insert.run('o', 'raw', seq, Date.now(), 'agent', 'reasoning', JSON.stringify({ text: TEXT }), '{"by":"k"}', `raw-${seq}`, Date.now());
    }
  });
  let n = 0;
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    tx.immediate(n + 1);
    n += BATCH;
  }
  await checkpoints.close();
  db.close();
  return n / seconds;
}

async function throughGateway(seconds) {
  const configFile = join(dir, 'warden.yaml');
  writeFileSync(
    configFile,
    [
      'server: { host: 127.0.0.1, port: 0, body_limit_bytes: 4194304 }',
      `storage: { url: "sqlite:${join(dir, 'warden.db')}" }`,
      'log: { level: info }',
      // The shipped per-role request caps (600 a minute) would cap the load, not measure it.
      'limits: { roles: { admin: null, user: null, agent: null } }',
      ...(process.env.BENCH_GUARD ? [`guard: { ${process.env.BENCH_GUARD} }`] : []),
      'providers:',
      '  - { name: none, type: openai, base_url: "http://127.0.0.1:9/v1", api_key: "x", models: ["*"] }',
      '',
    ].join('\n'),
  );
  const key = await createKey(ROOT, configFile);
  const prof = process.env.BENCH_INGEST_PROF;
  const gw = await startGateway(ROOT, dir, configFile, { logFile: join(dir, 'gateway.log'), nodeArgs: [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), ...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [])] });
  const pool = new Pool(gw.url, { connections: CONN + 1, pipelining: 1 });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const post = async (path, body) => {
    const r = await pool.request({ method: 'POST', path, headers, body: JSON.stringify(body) });
    const text = await r.body.text();
    return { status: r.statusCode, text };
  };
  for (let c = 0; c < CONN; c++) {
    const r = await post('/api/v1/runs', { id: `bench-${c}`, agent: 'bench' });
    if (r.status !== 201) throw new Error(`creating a run answered ${r.status}: ${r.text}`);
  }
  const latencies = [];
  const visible = [];
  let acked = 0, failed = 0;
  const body = (c, from) =>
    JSON.stringify({
      events: Array.from({ length: BATCH }, (_, i) => ({ seq: from + i, t: Date.now(), actor: 'agent', type: 'reasoning', payload: { text: TEXT }, meta: { idempotency_key: `b${c}-${from + i}` } })),
    });
  const measure = async (until) => {
    await Promise.all(
      Array.from({ length: CONN }, async (_, c) => {
        let seq = 1, n = 0;
        while (performance.now() < until) {
          const t0 = performance.now();
          const r = await pool.request({ method: 'POST', path: `/api/v1/runs/bench-${c}/events`, headers, body: body(c, seq) });
          const text = await r.body.text();
          const t1 = performance.now();
          if (r.statusCode === 202) {
            acked += BATCH;
            latencies.push(t1 - t0);
          } else {
            failed++;
            if (failed === 1) process.stderr.write(`ingest bench: ${r.statusCode} ${text.slice(0, 300)}\n`);
          }
          // Every 20th batch of a client: how soon after sending is its last event readable?
          if (++n % 20 === 0) {
            const g = await pool.request({ method: 'GET', path: `/api/v1/runs/bench-${c}`, headers: { authorization: headers.authorization } });
            const run = JSON.parse(await g.body.text());
            if (run.last_seq >= seq + BATCH - 1) visible.push(performance.now() - t0);
          }
          seq += BATCH;
        }
      }),
    );
  };
  await measure(performance.now() + 1000); // warm-up
  acked = 0;
  failed = 0;
  latencies.length = 0;
  visible.length = 0;
  const started = performance.now();
  await measure(started + seconds * 1000);
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  visible.sort((a, b) => a - b);
  return { eventsPerS: acked / elapsed, failedBatches: failed, batchP50Ms: pct(latencies, 0.5), batchP99Ms: pct(latencies, 0.99), queryableP50Ms: pct(visible, 0.5), queryableP99Ms: pct(visible, 0.99), samples: visible.length };
}

try {
  const raw = await rawCeiling(Math.min(3, SECONDS));
  const gw = await throughGateway(SECONDS);
  process.stdout.write(`${JSON.stringify({ batch: BATCH, eventBytes: JSON.stringify({ text: TEXT }).length, connections: CONN, rawSqliteRowsPerS: raw, ...gw, ratio: gw.eventsPerS / raw })}\n`);
} finally {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
