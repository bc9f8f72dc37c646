#!/usr/bin/env node
// MCP tools/call through Warden against calling the same MCP server directly, in the same run.
// The tool server (bench/lib/mcp-server.mjs, one `echo` tool) and a Warden gateway (`warden start`,
// SQLite, guardrails on, the benchmark's policies and limits) each run in their own process;
// the clients are the official SDK's Client over StreamableHTTPClientTransport in this process.
//   direct:  Client → http://127.0.0.1:PORT/mcp              tool `echo`
//   through: Client → Warden /mcp (Bearer key) → that server  tool `bench__echo`
// Latency: sequential callTool loops on one session per target; throughput: concurrent clients,
// each with its own session, looping callTool for a fixed time. Both interleaved direct, through
// in every repetition; medians over repetitions. Every result must be the text sent.
// Env: BENCH_MCP_REPS (default 5), BENCH_MCP_CALLS (per latency run, 2000), BENCH_MCP_CLIENTS (16),
// BENCH_MCP_S (seconds per throughput run, 4), BENCH_MCP_VARY=1 (a different text every call, so
// no policy decision is served from the cache), BENCH_GUARD (e.g. 'enabled: false'), BENCH_NODE_ARGS
// (Node flags for the gateway, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
// Prints one JSON object on stdout; progress goes to stderr.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { gatewayConfig } from './limit-rules.mjs';
import { median, percentile, scrapeMetrics, waitForDrain } from './measure.mjs';
import { cpuSeconds, createKey, selfCpuSeconds, startGateway, startMcpServer, stopAll } from './procs.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SERVER = 'bench'; // its tools are `bench__{tool}` at Warden's /mcp

function envInt(name, def, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return v;
}

const settings = {
  reps: envInt('BENCH_MCP_REPS', 5, 1, 100),
  calls: envInt('BENCH_MCP_CALLS', 2000, 100, 1_000_000),
  warmup: 300, // per target before the first repetition (and one throughput second per target)
  warmupPerRun: 50,
  clients: envInt('BENCH_MCP_CLIENTS', 16, 1, 256),
  seconds: envInt('BENCH_MCP_S', 4, 1, 600),
  varyArguments: process.env.BENCH_MCP_VARY === '1',
  tool: 'echo',
};
const log = (s) => process.stderr.write(`mcp bench: ${s}\n`);

// The SDK's client transport hands one AbortSignal to every fetch of a session, and each fetch (undici)
// re-arms that signal's listener warning, so once more than 1,500 requests' listeners wait for GC, every
// call prints a MaxListenersExceededWarning. Counted here rather than printed thousands of times.
let clientListenerWarnings = 0;
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name === 'MaxListenersExceededWarning') clientListenerWarnings++;
  else process.stderr.write(`${w.name}: ${w.message}\n`);
});

/** The same warning in the gateway's stderr (its one session to the upstream server). */
function listenerWarningsIn(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('MaxListenersExceededWarning')).length;
  } catch {
    return NaN;
  }
}
const textFor = (n) => (settings.varyArguments ? `benchmark ${n}` : 'benchmark');

/** Rough wall time: calls at ~2 ms on this machine, plus start-up; the watchdog allows three times as much. */
function estimateS() {
  const s = settings;
  return 20 + 2 * s.seconds + s.reps * 2 * (s.seconds + 0.5) + (2 * s.warmup + s.reps * 2 * (s.calls + s.warmupPerRun)) * 0.002;
}

async function setup(dir) {
  const server = await startMcpServer(ROOT, dir);
  const configFile = join(dir, 'warden.yaml');
  // The same config as the proxy benchmark's gateway (bench/run.mjs); no policy or limit refuses these calls.
  writeFileSync(
    configFile,
    gatewayConfig(ROOT, dir, [
      'providers:',
      '  - { name: none, type: openai, base_url: "http://127.0.0.1:9/v1", api_key: "x", models: ["*"] }',
      'mcp:',
      '  servers:',
      `    - { name: ${SERVER}, url: "${server.url}", timeout_ms: 10000 }`,
    ]),
  );
  const key = await createKey(ROOT, configFile);
  const nodeArgs = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [];
  const gw = await startGateway(ROOT, dir, configFile, { logFile: join(dir, 'gateway.log'), nodeArgs });
  const targets = {
    direct: { url: server.url, headers: {}, tool: settings.tool },
    through: { url: `${gw.url}/mcp`, headers: { authorization: `Bearer ${key}` }, tool: `${SERVER}__${settings.tool}` },
  };
  return { server, gw, targets, watch: { server: server.pid, gateway: gw.pid } };
}

async function connect(target) {
  const client = new Client({ name: 'warden-bench', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(target.url), { requestInit: { headers: target.headers } });
  await client.connect(transport, { timeout: 10_000 });
  return { client, transport, target, n: 0 };
}

/** Ends the session (DELETE) and closes the client; bounded, never throws. */
async function disconnect(c) {
  const end = (async () => {
    await c.transport.terminateSession().catch(() => {});
    await c.client.close().catch(() => {});
  })();
  await Promise.race([end, new Promise((r) => setTimeout(r, 3000).unref())]);
}

const failed = { calls: 0, first: undefined }; // every failed call, warm-ups included: any makes the result invalid

/** One tools/call; null when the result is exactly the text sent, else what was wrong. */
async function callOnce(c) {
  const text = textFor(c.n++);
  let problem = null;
  try {
    const r = await c.client.callTool({ name: c.target.tool, arguments: { text } }, undefined, { timeout: 10_000 });
    const item = r.content?.[0];
    if (r.isError || r.content?.length !== 1 || item.type !== 'text' || item.text !== text) problem = `unexpected result: ${JSON.stringify(r).slice(0, 200)}`;
  } catch (err) {
    problem = `error: ${String(err?.message ?? err).slice(0, 200)}`;
  }
  if (problem) {
    failed.calls++;
    failed.first ??= `${c.target.tool}: ${problem}`;
  }
  return problem;
}

/** CPU seconds of the watched processes and of this one (the clients), with the wall clock. */
function sampleCpu(watch) {
  const s = { t: process.hrtime.bigint(), clients: selfCpuSeconds() };
  for (const [name, pid] of Object.entries(watch)) s[name] = cpuSeconds(pid);
  return s;
}

function cpuUse(a, b, calls) {
  const wall = Number(b.t - a.t) / 1e9;
  const out = {};
  for (const name of Object.keys(a)) {
    if (name !== 't') out[name] = { cores: (b[name] - a[name]) / wall, usPerCall: calls > 0 ? ((b[name] - a[name]) * 1e6) / calls : NaN };
  }
  return out;
}

/** Sequential calls on one session, each timed from the call to its parsed result. */
async function latencyRun(c, count, watch) {
  for (let i = 0; i < settings.warmupPerRun; i++) await callOnce(c);
  const samples = new Float64Array(count);
  let n = 0;
  let errors = 0;
  let firstProblem;
  const cpu0 = sampleCpu(watch);
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.max(60_000, count * 20)) * 1_000_000n;
  while (n < count && process.hrtime.bigint() < deadline) {
    const t0 = process.hrtime.bigint();
    const problem = await callOnce(c);
    samples[n++] = Number(process.hrtime.bigint() - t0) / 1e6;
    if (problem) {
      errors++;
      firstProblem ??= problem;
      if (errors > 10) break;
    }
  }
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  const done = samples.subarray(0, n).sort();
  return {
    n, errors, firstProblem, valid: n === count && errors === 0,
    p50: percentile(done, 50), p99: percentile(done, 99), max: done[n - 1], callsPerS: n / elapsedS,
    cpu: cpuUse(cpu0, sampleCpu(watch), n),
  };
}

/** Every client loops callTool until `seconds` have passed; completed calls per second until the last one answered. */
async function throughputRun(clients, seconds, watch) {
  let ok = 0;
  let errors = 0;
  let firstProblem;
  const cpu0 = sampleCpu(watch);
  const started = process.hrtime.bigint();
  const until = started + BigInt(seconds * 1e9);
  await Promise.all(clients.map(async (c) => {
    let mine = 0;
    while (process.hrtime.bigint() < until) {
      const problem = await callOnce(c);
      if (!problem) ok++;
      else {
        errors++;
        firstProblem ??= problem;
        if (++mine > 50) break; // a broken session: stop hammering it
      }
    }
  }));
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  return { callsPerS: ok / elapsedS, calls: ok, errors, firstProblem, valid: errors === 0 && ok > 0, cpu: cpuUse(cpu0, sampleCpu(watch), ok) };
}

const NAMES = ['direct', 'through'];
const count = { through: 0 }; // calls completed through the gateway (for the event check)
const fmt = (x, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

async function measureThroughput(pools, watch, gatewayUrl, problems) {
  const reps = [];
  for (let rep = 1; rep <= settings.reps; rep++) {
    const run = {};
    for (const name of NAMES) {
      const r = await throughputRun(pools[name], settings.seconds, watch);
      run[name] = r;
      if (name === 'through') count.through += r.calls + r.errors;
      if (!r.valid) problems.push(`throughput ${name} rep ${rep}: ${r.errors} failed calls; first: ${r.firstProblem}`);
      log(`[rep ${rep}/${settings.reps}] throughput ${name.padEnd(7)} ${settings.clients} clients: ${Math.round(r.callsPerS)} calls/s ` +
        `(cpu: clients ${fmt(r.cpu.clients.cores, 2)}, server ${fmt(r.cpu.server.cores, 2)}, gateway ${fmt(r.cpu.gateway.cores, 2)} cores)${r.valid ? '' : '  INVALID'}`);
    }
    if (!(await waitForDrain(gatewayUrl))) problems.push(`gateway event queue did not drain after throughput rep ${rep}`);
    const cpu = (name) => ({ clientsUsPerCall: run[name].cpu.clients.usPerCall, serverUsPerCall: run[name].cpu.server.usPerCall, gatewayUsPerCall: run[name].cpu.gateway.usPerCall,
      clientsCores: run[name].cpu.clients.cores, serverCores: run[name].cpu.server.cores, gatewayCores: run[name].cpu.gateway.cores });
    reps.push({ direct: run.direct.callsPerS, through: run.through.callsPerS, ratio: run.through.callsPerS / run.direct.callsPerS,
      valid: run.direct.valid && run.through.valid, cpu: { direct: cpu('direct'), through: cpu('through') } });
  }
  const m = (f) => median(reps.map(f));
  const cpuMedian = (name) => Object.fromEntries(Object.keys(reps[0].cpu[name]).map((k) => [k, m((r) => r.cpu[name][k])]));
  return {
    reps, valid: reps.every((r) => r.valid),
    median: { direct: m((r) => r.direct), through: m((r) => r.through), ratio: m((r) => r.ratio) },
    cpu: { direct: cpuMedian('direct'), through: cpuMedian('through') },
  };
}

async function measureLatency(sessions, watch, gatewayUrl, problems) {
  const reps = [];
  for (let rep = 1; rep <= settings.reps; rep++) {
    const run = {};
    for (const name of NAMES) {
      const r = await latencyRun(sessions[name], settings.calls, watch);
      run[name] = r;
      if (name === 'through') count.through += r.n + settings.warmupPerRun;
      if (!r.valid) problems.push(`latency ${name} rep ${rep}: ${r.n}/${settings.calls} done, ${r.errors} failed; first: ${r.firstProblem}`);
      log(`[rep ${rep}/${settings.reps}] latency ${name.padEnd(7)} 1 session: p50 ${fmt(r.p50)} ms  p99 ${fmt(r.p99)} ms  max ${fmt(r.max, 2)} ms  ${Math.round(r.callsPerS)} calls/s${r.valid ? '' : '  INVALID'}`);
    }
    if (!(await waitForDrain(gatewayUrl))) problems.push(`gateway event queue did not drain after latency rep ${rep}`);
    const d = run.direct;
    const t = run.through;
    reps.push({ direct: { p50: d.p50, p99: d.p99, max: d.max }, through: { p50: t.p50, p99: t.p99, max: t.max },
      addedP50: t.p50 - d.p50, addedP99: t.p99 - d.p99, valid: d.valid && t.valid, gatewayUsPerCall: t.cpu.gateway.usPerCall });
  }
  const m = (f) => median(reps.map(f));
  return {
    reps, valid: reps.every((r) => r.valid),
    median: { directP50: m((r) => r.direct.p50), throughP50: m((r) => r.through.p50), addedP50: m((r) => r.addedP50),
      directP99: m((r) => r.direct.p99), throughP99: m((r) => r.through.p99), addedP99: m((r) => r.addedP99), gatewayUsPerCall: m((r) => r.gatewayUsPerCall) },
  };
}

/** Sessions for both targets, a sanity call on each (fail fast with the reason), then the warm-up. */
async function openSessions(targets) {
  const sessions = {};
  const pools = {};
  for (const name of NAMES) {
    sessions[name] = await connect(targets[name]);
    const problem = await callOnce(sessions[name]);
    if (problem) throw new Error(`sanity check failed for ${name}: ${problem}`);
    pools[name] = await Promise.all(Array.from({ length: settings.clients }, () => connect(targets[name])));
  }
  count.through += 1;
  for (const name of NAMES) {
    for (let i = 0; i < settings.warmup; i++) await callOnce(sessions[name]);
    const w = await throughputRun(pools[name], 1, {});
    if (name === 'through') count.through += settings.warmup + w.calls + w.errors;
  }
  return { sessions, pools };
}

async function benchmark(dir) {
  const problems = [];
  const { gw, targets, watch } = await setup(dir);
  log(`tool server ${targets.direct.url} (pid ${watch.server}), gateway ${targets.through.url} (pid ${watch.gateway}); ` +
    `${settings.reps} reps, ${settings.calls} sequential calls per latency run, ${settings.clients} clients x ${settings.seconds} s per throughput run`);
  const { sessions, pools } = await openSessions(targets);
  await waitForDrain(gw.url);
  const throughput = await measureThroughput(pools, watch, gw.url, problems);
  const latency = await measureLatency(sessions, watch, gw.url, problems);
  await Promise.all([...Object.values(sessions), ...Object.values(pools).flat()].map(disconnect));
  await waitForDrain(gw.url);
  const ev = await scrapeMetrics(gw.url, ['warden_events_written_total', 'warden_events_dropped_total', 'warden_event_write_failures_total']);
  if (ev.warden_events_dropped_total > 0) problems.push(`gateway dropped ${ev.warden_events_dropped_total} events`);
  if (ev.warden_event_write_failures_total > 0) problems.push(`gateway had ${ev.warden_event_write_failures_total} event write failures`);
  if (failed.calls > 0) problems.push(`${failed.calls} calls failed in all (warm-ups included); first: ${failed.first}`);
  if (!(ev.warden_events_written_total >= count.through)) problems.push(`only ${ev.warden_events_written_total} events written for ${count.through} calls through the gateway`);
  return {
    throughput, latency, errors: failed.calls, callsThrough: count.through,
    listenerWarnings: { clients: clientListenerWarnings, gateway: listenerWarningsIn(join(dir, 'gateway.stderr')) },
    events: { written: ev.warden_events_written_total, dropped: ev.warden_events_dropped_total, writeFailures: ev.warden_event_write_failures_total },
    valid: throughput.valid && latency.valid && failed.calls === 0,
    problems,
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'warden-mcp-bench-'));
  const cleanup = async () => {
    await stopAll();
    if (process.env.BENCH_KEEP !== "1") rmSync(dir, { recursive: true, force: true });
  };
  const limitS = Math.round(estimateS() * 3 + 60);
  const watchdog = setTimeout(() => {
    process.stderr.write(`mcp bench: watchdog: still running after ${limitS} s, stopping\n`);
    cleanup().finally(() => process.exit(1));
  }, limitS * 1000);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      process.stderr.write(`mcp bench: ${sig}, stopping child processes\n`);
      cleanup().finally(() => process.exit(130));
    });
  }
  const t0 = Date.now();
  try {
    const r = await benchmark(dir);
    const out = { date: new Date().toISOString(), command: 'node bench/lib/mcp-bench.mjs', settings, wallS: Math.round((Date.now() - t0) / 1000), ...r };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    if (!out.valid) process.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

main().catch((err) => {
  process.stderr.write(`mcp bench: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
});
