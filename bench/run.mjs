#!/usr/bin/env node
// Warden benchmark: throughput and added latency, direct-to-mock vs through the gateway.
// `npm run bench` builds first, then runs this. See docs/benchmarks.md for the method.
import { execFileSync } from 'node:child_process';
import { copyFileSync, createReadStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { abortLoad, median, scrapeMetrics, sequential, throughput, waitForDrain } from './lib/measure.mjs';
import { gatewayConfig } from './lib/limit-rules.mjs';
import { summarise } from './lib/profile.mjs';
import { createKey, startBareProxy, startGateway, startMock, stopAll, stopOne } from './lib/procs.mjs';
import { cpuNote, cpuTable, guardTable, ingestTable, latencyTable, limitTable, machineLine, mcpTable, policyTable, referenceLine, settingsLine, table, throughputTable, updateDocs } from './lib/report.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(ROOT, 'bench/results');
const MODES = ['nonstream', 'stream'];
// Measured in this order in every repetition. "floor" (a bare fastify + undici proxy) is reference only.
const TARGETS = ['direct', 'floor', 'through'];
const MOCK_KEY = 'bench';


function envInt(name, def, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) {
    process.stderr.write(`bench: ${name} must be an integer in ${min}..${max}, got "${raw}"\n`);
    process.exit(2);
  }
  return v;
}

const settings = {
  duration: envInt('BENCH_DURATION', 5, 1, 600),
  reps: envInt('BENCH_REPS', 5, 1, 100),
  connections: envInt('BENCH_CONNECTIONS', 50, 1, 1000),
  latencyRequests: envInt('BENCH_LAT_REQUESTS', 3000, 100, 1_000_000),
  warmupS: 2,
  latencyWarmup: 500,
  latencyWarmupPerRun: 100,
  chunks: 8,
};
const PROFILE = process.env.BENCH_PROFILE === '1';
const KEEP = process.env.BENCH_KEEP === '1';
const log = (s) => process.stdout.write(`${s}\n`);

function machine() {
  const cpuinfo = (() => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return '';
    }
  })();
  let nproc = os.availableParallelism?.() ?? os.cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc;
  } catch {
    /* keep os value */
  }
  return {
    nproc,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadavg: os.loadavg(),
  };
}

/** Rough wall time of a default run, for the plan line and the watchdog. */
function estimateS() {
  const s = settings;
  const runs = MODES.length * TARGETS.length;
  const tput = runs * s.warmupS + s.reps * runs * (s.duration + 0.7);
  const lat = (runs * s.latencyWarmup + s.reps * runs * (s.latencyRequests + s.latencyWarmupPerRun)) * 0.0004;
  return PROFILE ? 3 * s.duration + 20 : tput + lat + 80 + 120; // + the policy, limit, guard and ingestion benchmarks, + the MCP one
}

async function setup(dir, nodeArgs = []) {
  const mock = await startMock(ROOT, dir, { apiKey: MOCK_KEY, chunks: settings.chunks });
  const bare = await startBareProxy(ROOT, dir, { upstream: mock.url, apiKey: MOCK_KEY });
  const configFile = join(dir, 'warden.yaml');
  writeFileSync(
    configFile,
    gatewayConfig(ROOT, dir, ['providers:', `  - { name: mock, type: openai, base_url: "${mock.url}/v1", api_key: "${MOCK_KEY}", models: ["*"] }`]),
  );
  const key = await createKey(ROOT, configFile);
  const logFile = join(dir, 'gateway.log');
  const gw = await startGateway(ROOT, dir, configFile, { logFile, nodeArgs });
  const targets = {
    direct: { origin: mock.url, auth: `Bearer ${MOCK_KEY}` },
    floor: { origin: bare.url, auth: `Bearer ${MOCK_KEY}` }, // not checked: the bare proxy sends the mock key itself
    through: { origin: gw.url, auth: `Bearer ${key}` },
  };
  const watch = { mock: mock.pid, bareProxy: bare.pid, gateway: gw.pid };
  // One request per target and mode first: fail fast with the reason instead of benchmarking errors.
  for (const mode of MODES) {
    for (const name of TARGETS) {
      const r = await sequential({ ...targets[name], mode, count: 3 });
      if (!r.valid) throw new Error(`sanity check failed for ${name} ${mode}: ${r.firstProblem}`);
    }
  }
  return { mock, gw, targets, watch, logFile };
}

const sent = { through: 0 }; // requests the harness completed through the gateway (for the pipeline check)

async function runThroughput(targets, watch, problems) {
  const out = {};
  for (const mode of MODES) out[mode] = { reps: [] };
  log(`\nwarm-up: autocannon ${settings.warmupS} s per target and mode`);
  for (const mode of MODES) {
    for (const name of TARGETS) {
      const r = await throughput({ ...targets[name], mode, connections: settings.connections, duration: settings.warmupS });
      if (name === 'through') sent.through += r.requests;
      if (!r.valid) problems.push(`warm-up ${mode} ${name}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
    }
  }
  if (!(await waitForDrain(targets.through.origin))) problems.push('gateway event queue did not drain after warm-up');
  for (let rep = 1; rep <= settings.reps; rep++) {
    for (const mode of MODES) {
      const run = {};
      for (const name of TARGETS) {
        const r = await throughput({ ...targets[name], mode, connections: settings.connections, duration: settings.duration, watch });
        run[name] = r;
        if (name === 'through') sent.through += r.requests;
        if (!r.valid) {
          problems.push(`throughput ${mode} ${name} rep ${rep}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts, ${r.resets} resets`);
        }
        log(`  [rep ${rep}/${settings.reps}] ${mode.padEnd(9)} ${name.padEnd(7)} ${settings.connections} conn: ${Math.round(r.rps).toString().padStart(6)} req/s` +
          `  (cpu: gen ${pct(r.cpu.harness.cores)}, mock ${pct(r.cpu.mock.cores)}, bare ${pct(r.cpu.bareProxy.cores)}, gateway ${pct(r.cpu.gateway.cores)}, ` +
          `rest ${pct(r.cpu.other.cores)})${r.valid ? '' : '  INVALID'}`);
      }
      if (!(await waitForDrain(targets.through.origin))) problems.push(`gateway event queue did not drain after ${mode} rep ${rep}`);
      out[mode].reps.push({
        direct: run.direct.rps,
        through: run.through.rps,
        ratio: run.through.rps / run.direct.rps,
        valid: run.direct.valid && run.through.valid, // the target's validity: direct and through only
        floor: run.floor.rps, // reference only, from here on
        floorRatio: run.floor.rps / run.direct.rps,
        throughFloorRatio: run.through.rps / run.floor.rps,
        floorValid: run.direct.valid && run.floor.valid && run.through.valid,
        runs: run,
      });
    }
  }
  for (const mode of MODES) {
    const reps = out[mode].reps;
    const m = (f) => median(reps.map(f));
    out[mode].median = {
      direct: m((r) => r.direct), through: m((r) => r.through), ratio: m((r) => r.ratio),
      floor: m((r) => r.floor), floorRatio: m((r) => r.floorRatio), throughFloorRatio: m((r) => r.throughFloorRatio),
    };
    out[mode].valid = reps.every((r) => r.valid);
    out[mode].floorValid = reps.every((r) => r.floorValid);
    const cpu = (kind) => {
      const c = (name, f = 'cores') => m((r) => r.runs[kind].cpu[name][f]);
      return {
        harness: c('harness'), mock: c('mock'), bareProxy: c('bareProxy'), gateway: c('gateway'), other: c('other'), system: c('system'),
        mockUsPerReq: c('mock', 'usPerReq'), bareProxyUsPerReq: c('bareProxy', 'usPerReq'), gatewayUsPerReq: c('gateway', 'usPerReq'),
      };
    };
    out[mode].cpu = Object.fromEntries(TARGETS.map((kind) => [kind, cpu(kind)]));
  }
  return out;
}

const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : 'n/a');

async function runLatency(targets, watch, problems) {
  const out = {};
  for (const mode of MODES) out[mode] = { reps: [] };
  const n = settings.latencyRequests;
  log(`\nlatency: ${n} sequential requests per run on 1 connection (warm-up ${settings.latencyWarmup} per target and mode)`);
  for (const mode of MODES) {
    for (const name of TARGETS) {
      const r = await sequential({ ...targets[name], mode, count: settings.latencyWarmup });
      if (name === 'through') sent.through += r.n;
      if (!r.valid) problems.push(`latency warm-up ${mode} ${name}: ${r.firstProblem}`);
    }
  }
  await waitForDrain(targets.through.origin);
  for (let rep = 1; rep <= settings.reps; rep++) {
    for (const mode of MODES) {
      const run = {};
      for (const name of TARGETS) {
        const r = await sequential({ ...targets[name], mode, count: n, warmup: settings.latencyWarmupPerRun, maxMs: Math.max(60_000, n * 20), watch });
        run[name] = r;
        if (name === 'through') sent.through += r.n + settings.latencyWarmupPerRun;
        if (!r.valid) {
          problems.push(`latency ${mode} ${name} rep ${rep}: ${r.n}/${n} done, ${r.non200} non-200, ${r.errors} errors, ${r.badBody} bad bodies; first: ${r.firstProblem}`);
        }
        log(`  [rep ${rep}/${settings.reps}] ${mode.padEnd(9)} ${name.padEnd(7)} 1 conn: p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  ` +
          `max ${r.max.toFixed(2)} ms  ${Math.round(r.rps)} req/s${r.valid ? '' : '  INVALID'}`);
      }
      if (!(await waitForDrain(targets.through.origin))) problems.push(`gateway event queue did not drain after latency ${mode} rep ${rep}`);
      const d = run.direct;
      const f = run.floor;
      const t = run.through;
      const pick = (r) => ({ p50: r.p50, p90: r.p90, p99: r.p99, max: r.max, rps: r.rps });
      out[mode].reps.push({
        direct: pick(d),
        through: pick(t),
        addedP50: t.p50 - d.p50,
        addedP99: t.p99 - d.p99,
        rpsRatio: t.rps / d.rps,
        valid: d.valid && t.valid, // the target's validity: direct and through only
        gatewayUsPerReq: t.cpu.gateway.usPerReq,
        floor: pick(f), // reference only, from here on
        floorAddedP50: f.p50 - d.p50,
        floorAddedP99: f.p99 - d.p99,
        overFloorP50: t.p50 - f.p50,
        overFloorP99: t.p99 - f.p99,
        floorRpsRatio: f.rps / d.rps,
        throughFloorRpsRatio: t.rps / f.rps,
        floorValid: d.valid && f.valid && t.valid,
        bareProxyUsPerReq: f.cpu.bareProxy.usPerReq,
      });
    }
  }
  for (const mode of MODES) {
    const reps = out[mode].reps;
    const m = (f) => median(reps.map(f));
    out[mode].median = {
      directP50: m((r) => r.direct.p50), throughP50: m((r) => r.through.p50), addedP50: m((r) => r.addedP50),
      directP99: m((r) => r.direct.p99), throughP99: m((r) => r.through.p99), addedP99: m((r) => r.addedP99),
      directRps: m((r) => r.direct.rps), throughRps: m((r) => r.through.rps), rpsRatio: m((r) => r.rpsRatio),
      gatewayUsPerReq: m((r) => r.gatewayUsPerReq),
      floorP50: m((r) => r.floor.p50), floorP99: m((r) => r.floor.p99), floorRps: m((r) => r.floor.rps),
      floorAddedP50: m((r) => r.floorAddedP50), floorAddedP99: m((r) => r.floorAddedP99),
      overFloorP50: m((r) => r.overFloorP50), overFloorP99: m((r) => r.overFloorP99),
      floorRpsRatio: m((r) => r.floorRpsRatio), throughFloorRpsRatio: m((r) => r.throughFloorRpsRatio),
      bareProxyUsPerReq: m((r) => r.bareProxyUsPerReq),
    };
    out[mode].valid = reps.every((r) => r.valid);
    out[mode].floorValid = reps.every((r) => r.floorValid);
  }
  return out;
}

async function countLogLines(file) {
  let lines = 0;
  for await (const chunk of createReadStream(file)) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
  }
  return { lines, bytes: statSync(file).size };
}

async function benchmark(dir) {
  const problems = [];
  const { gw, targets, watch, logFile } = await setup(dir, process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : []);
  log(`mock upstream ${targets.direct.origin} (pid ${watch.mock}), bare proxy ${targets.floor.origin} (pid ${watch.bareProxy}), ` +
    `gateway ${targets.through.origin} (pid ${watch.gateway}), temp dir ${dir}`);
  sent.through += 6; // sanity checks
  const tput = await runThroughput(targets, watch, problems);
  const lat = await runLatency(targets, watch, problems);

  await waitForDrain(targets.through.origin);
  const ev = await scrapeMetrics(targets.through.origin, ['warden_events_written_total', 'warden_events_dropped_total', 'warden_event_write_failures_total']);
  await stopOne(gw.entry); // graceful: flushes the log before it is counted
  const logs = await countLogLines(logFile);
  const written = ev.warden_events_written_total;
  if (ev.warden_events_dropped_total > 0) problems.push(`gateway dropped ${ev.warden_events_dropped_total} events`);
  if (ev.warden_event_write_failures_total > 0) problems.push(`gateway had ${ev.warden_event_write_failures_total} event write failures`);
  if (!(written >= sent.through)) problems.push(`only ${written} events written for ${sent.through} completed requests`);
  const pipeline = `${written} events written to SQLite for ${sent.through} requests completed through the gateway (the excess are requests in flight when a run stopped); ` +
    `${ev.warden_events_dropped_total} dropped, ${ev.warden_event_write_failures_total} write failures; ${logs.lines} log lines (${(logs.bytes / 2 ** 20).toFixed(1)} MiB) written by the gateway.`;

  const targetsOut = [];
  for (const mode of MODES) {
    const v = tput[mode].median.ratio;
    targetsOut.push({ id: `throughput.${mode}`, what: `through/direct req/s at ${settings.connections} connections`, value: v, target: 0.35, pass: v >= 0.35, valid: tput[mode].valid });
  }
  for (const mode of MODES) {
    const l = lat[mode];
    targetsOut.push({ id: `added_p50.${mode}`, what: 'added p50 latency (ms) at 1 connection', value: l.median.addedP50, target: null, pass: null, valid: l.valid });
    targetsOut.push({ id: `added_p99.${mode}`, what: 'added p99 latency (ms) at 1 connection', value: l.median.addedP99, target: 1, pass: l.median.addedP99 <= 1, valid: l.valid });
  }
  // Reference values (the "floor" bare proxy): no target, never part of a PASS/FAIL.
  const reference = [];
  for (const mode of MODES) {
    const t = tput[mode];
    const ref = (id, what, value) => reference.push({ id: `${id}.${mode}`, what, value, target: null, valid: t.floorValid });
    ref('floor_rps', `floor req/s at ${settings.connections} connections`, t.median.floor);
    ref('floor_over_direct', `floor/direct req/s at ${settings.connections} connections`, t.median.floorRatio);
    ref('through_over_floor', `through/floor req/s at ${settings.connections} connections`, t.median.throughFloorRatio);
  }
  for (const mode of MODES) {
    const l = lat[mode];
    const ref = (id, what, value) => reference.push({ id: `${id}.${mode}`, what, value, target: null, valid: l.floorValid });
    for (const p of ['p50', 'p99']) {
      const P = p.toUpperCase();
      ref(`floor_${p}`, `floor ${p} latency (ms) at 1 connection`, l.median[`floor${P}`]);
      ref(`floor_added_${p}`, `floor minus direct ${p} latency (ms) at 1 connection`, l.median[`floorAdded${P}`]);
      ref(`through_minus_floor_${p}`, `through minus floor ${p} latency (ms) at 1 connection`, l.median[`overFloor${P}`]);
    }
  }
  if (settings.connections !== 50) problems.push(`BENCH_CONNECTIONS=${settings.connections}: the throughput target is defined at 50 connections`);
  return { throughput: tput, latency: lat, targets: targetsOut, reference, pipeline, problems };
}

async function profileRun(dir) {
  const profDir = join(dir, 'prof');
  mkdirSync(profDir);
  const { gw, targets } = await setup(dir, ['--cpu-prof', '--cpu-prof-dir', profDir]);
  log(`profiling gateway pid ${gw.pid}: ${settings.duration} s non-stream + ${settings.duration} s stream at ${settings.connections} connections`);
  for (const mode of MODES) {
    const r = await throughput({ ...targets.through, mode, connections: settings.connections, duration: settings.duration });
    log(`  ${mode}: ${Math.round(r.rps)} req/s under the profiler${r.valid ? '' : ' INVALID'}`);
  }
  await waitForDrain(targets.through.origin);
  await stopOne(gw.entry, 30_000); // the profile is written when the process exits normally
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('the gateway wrote no .cpuprofile (did it exit cleanly?)');
  const s = summarise(join(profDir, file), 30);
  mkdirSync(RESULTS, { recursive: true });
  copyFileSync(join(profDir, file), join(RESULTS, 'gateway.cpuprofile'));
  writeFileSync(join(RESULTS, 'profile.json'), `${JSON.stringify(s, null, 2)}\n`);
  log(`\nprofile: ${s.busyMs} ms busy, ${s.idleMs} ms idle (percentages are of busy time)\n`);
  log(table(['area', 'self ms', '% busy'], s.areas.map((a) => [a.area, a.ms, a.pctBusy]), ['l', 'r', 'r']));
  log('');
  log(table(['function', 'where', 'self ms', '% busy'], s.functions.map((f) => [f.fn.slice(0, 40), f.where.slice(-70), f.ms, f.pctBusy]), ['l', 'l', 'r', 'r']));
  log(`\nwrote bench/results/profile.json and bench/results/gateway.cpuprofile`);
}

/** bench/lib/limit-bench.mjs in its own process (in-process store and the real Redis). */
function runLimitBench() {
  return JSON.parse(execFileSync(process.execPath, [join(ROOT, 'bench/lib/limit-bench.mjs')], { encoding: 'utf8', timeout: 120_000 }));
}

/** bench/lib/guard-bench.mjs in its own process: scanning throughput and the cost of inspecting a 2 KB request. */
function runGuardBench() {
  return JSON.parse(execFileSync(process.execPath, [join(ROOT, 'bench/lib/guard-bench.mjs')], { encoding: 'utf8', timeout: 180_000 }));
}

/** bench/lib/ingest-bench.mjs in its own process (it starts its own gateway): acknowledged events/s beside raw SQLite. */
function runIngestBench() {
  return JSON.parse(execFileSync(process.execPath, [join(ROOT, 'bench/lib/ingest-bench.mjs')], { encoding: 'utf8', timeout: 180_000 }).trim().split('\n').at(-1));
}

/**
 * bench/lib/mcp-bench.mjs in its own process (its own tool server and gateway): tools/call through Warden
 * against the same server directly. It exits 1 on invalid data but still prints its result, which is kept.
 */
function runMcpBench() {
  const parse = (out) => JSON.parse(String(out).trim().split('\n').at(-1));
  try {
    return parse(execFileSync(process.execPath, [join(ROOT, 'bench/lib/mcp-bench.mjs')], { encoding: 'utf8', timeout: 600_000 }));
  } catch (err) {
    if (err?.status === 1 && String(err.stdout ?? '').trim().startsWith('{')) return parse(err.stdout);
    throw err;
  }
}

/** bench/lib/policy-bench.mjs in its own process, before the load runs, so nothing else competes with it. */
function runPolicyBench() {
  const out = execFileSync(process.execPath, [join(ROOT, 'bench/lib/policy-bench.mjs')], { encoding: 'utf8', timeout: 120_000 });
  const { policies, ...actions } = JSON.parse(out);
  return { policies, actions };
}

async function main() {
  const m = machine();
  const est = estimateS();
  log(`Warden benchmark${PROFILE ? ' (profile mode)' : ''}: ${machineLine({ machine: m })}`);
  log(PROFILE ? `settings: ${settings.duration} s per mode at ${settings.connections} connections, gateway under --cpu-prof` : `settings: ${settingsLine({ settings })}`);
  log(`estimated time: ${Math.floor(est / 60)} min ${Math.round(est % 60)} s (an upper bound)`);
  const dir = mkdtempSync(join(os.tmpdir(), 'warden-bench-'));
  let finished = false;
  const cleanup = async () => {
    abortLoad();
    await stopAll();
    if (!KEEP) rmSync(dir, { recursive: true, force: true });
  };
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: watchdog: still running after ${Math.round(est * 3 + 60)} s, stopping\n`);
    cleanup().finally(() => process.exit(1));
  }, (est * 3 + 60) * 1000);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      process.stderr.write(`bench: ${sig}, stopping child processes\n`);
      cleanup().finally(() => process.exit(130));
    });
  }
  const t0 = Date.now();
  try {
    if (PROFILE) {
      await profileRun(dir);
      finished = true;
      return;
    }
    const policy = runPolicyBench();
    log(`policy decisions (own process): ${Object.entries(policy.actions).map(([a, r]) => `${a} cached p50 ${r.cached.p50Us.toFixed(1)} us, uncached p50 ${r.uncached.p50Us.toFixed(1)} us`).join('; ')}`);
    const limits = runLimitBench();
    log(`limit decisions (own process): in-process p50 ${limits.memory.p50Us.toFixed(1)} us, Redis p50 ${limits.redis.p50Us.toFixed(1)} us`);
    const guard = runGuardBench();
    log(`guardrails (own process): PII + secrets scan ${guard.scanMBs.toFixed(0)} MB/s (JSON.parse ${guard.parseMBs.toFixed(0)} MB/s), 2 KB request p99 ${guard.inspect2k.p99Us.toFixed(0)} us`);
    const ingest = runIngestBench();
    log(`trace ingestion (own gateway): ${ingest.eventsPerS.toFixed(0)} events/s acknowledged, raw SQLite ${ingest.rawSqliteRowsPerS.toFixed(0)} rows/s (ratio ${ingest.ratio.toFixed(3)}), readable p99 ${ingest.queryableP99Ms.toFixed(0)} ms`);
    const mcp = runMcpBench();
    log(`MCP tools/call (own server and gateway): added p50 ${mcp.latency.median.addedP50.toFixed(3)} ms, p99 ${mcp.latency.median.addedP99.toFixed(3)} ms; ` +
      `${mcp.settings.clients} clients through/direct ${mcp.throughput.median.ratio.toFixed(3)}${mcp.valid ? '' : ' INVALID'}`);
    const r = await benchmark(dir);
    r.problems.push(...mcp.problems.map((p) => `MCP benchmark: ${p}`));
    const res = {
      date: new Date().toISOString(),
      command: 'npm run bench',
      settings,
      machine: m,
      wallS: Math.round((Date.now() - t0) / 1000),
      ...r,
      policy,
      limits,
      guard,
      ingest,
      mcp,
    };
    log(`\n== Throughput (median of ${settings.reps}; ratio = through/direct; "!" marks an invalid repetition; floor columns are reference only) ==\n`);
    log(throughputTable(res));
    log(`\n== Added latency at 1 connection (through - direct, median of per-repetition values; floor columns are reference only) ==\n`);
    log(latencyTable(res));
    log(`\n== CPU during the ${settings.connections}-connection runs (median, 100% = one core) ==\n`);
    log(cpuTable(res));
    log(`\n${cpuNote(res)}`);
    log(`\n== Policy decision latency ==\n`);
    log(policyTable(res));
    log(`\n== Limit decision latency ==\n`);
    log(limitTable(res));
    log(`\n== Guardrails ==\n`);
    log(guardTable(res));
    log(`\n== Trace ingestion ==\n`);
    log(ingestTable(res));
    log(`\n== MCP tools/call (through Warden vs the MCP server directly) ==\n`);
    log(mcpTable(res));
    log(`\npipeline: ${res.pipeline}`);
    if (res.problems.length) log(`\nPROBLEMS:\n${res.problems.map((p) => `  - ${p}`).join('\n')}`);
    log(`\ntargets: ${res.targets.filter((t) => t.target !== null).map((t) => `${t.id} ${!t.valid ? 'INVALID' : t.pass ? 'PASS' : 'FAIL'}`).join(', ')}`);
    log(`reference, no target (floor = bare fastify + undici proxy): ${referenceLine(res)}`);
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'latest.json'), `${JSON.stringify(res, null, 2)}\n`);
    const how = updateDocs(join(ROOT, 'docs/benchmarks.md'), res);
    log(`\nwrote bench/results/latest.json; ${how} docs/benchmarks.md; ${res.wallS} s in total`);
    finished = true;
    if ([...res.targets, ...res.reference].some((t) => !t.valid) || !mcp.valid) process.exitCode = 1; // invalid data (not a FAIL)
  } finally {
    clearTimeout(watchdog);
    await cleanup();
    if (!finished) process.exitCode = 1;
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
});
