// Rendering: aligned pipe tables (valid Markdown, readable on a terminal) and the docs section.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const START = '<!-- bench:results:start -->';
export const END = '<!-- bench:results:end -->';

const MODE = { nonstream: 'non-stream', stream: 'stream' };
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toString() : 'n/a');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : 'n/a');
const verdict = (t) => (!t.valid ? 'INVALID' : t.pass ? 'PASS' : 'FAIL');

export function table(header, rows, align) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const cell = (c, i) => (align?.[i] === 'r' ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]));
  const line = (cells) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (align?.[i] === 'r' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function throughputTable(res) {
  const rows = [];
  for (const mode of ['nonstream', 'stream']) {
    const t = res.throughput[mode];
    const target = res.targets.find((x) => x.id === `throughput.${mode}`);
    const bad = t.floorValid ? '' : '!';
    rows.push([MODE[mode], res.settings.connections, f0(t.median.direct), f0(t.median.through), f3(t.median.ratio),
      t.reps.map((r) => f2(r.ratio) + (r.valid ? '' : '!')).join(' '), `>= ${target.target}`, verdict(target),
      f0(t.median.floor) + bad, f3(t.median.floorRatio) + bad, f3(t.median.throughFloorRatio) + bad]);
  }
  for (const mode of ['nonstream', 'stream']) {
    const l = res.latency[mode];
    const bad = l.floorValid ? '' : '!';
    rows.push([MODE[mode], '1 (seq.)', f0(l.median.directRps), f0(l.median.throughRps), f3(l.median.rpsRatio),
      l.reps.map((r) => f2(r.rpsRatio) + (r.valid ? '' : '!')).join(' '), 'report only', l.valid ? '-' : 'INVALID',
      f0(l.median.floorRps) + bad, f3(l.median.floorRpsRatio) + bad, f3(l.median.throughFloorRpsRatio) + bad]);
  }
  return table(['mode', 'connections', 'direct req/s', 'through req/s', 'ratio', 'ratio per rep', 'target', 'result',
    'floor req/s (ref.)', 'floor/direct (ref.)', 'through/floor (ref.)'], rows,
  ['l', 'r', 'r', 'r', 'r', 'l', 'l', 'l', 'r', 'r', 'r']);
}

export function latencyTable(res) {
  const rows = [];
  for (const mode of ['nonstream', 'stream']) {
    const l = res.latency[mode].median;
    const t50 = res.targets.find((x) => x.id === `added_p50.${mode}`);
    const t99 = res.targets.find((x) => x.id === `added_p99.${mode}`);
    const bad = res.latency[mode].floorValid ? '' : '!';
    const floor = (p) => [f3(l[`floor${p}`]) + bad, f3(l[`floorAdded${p}`]) + bad, f3(l[`overFloor${p}`]) + bad];
    rows.push([MODE[mode], 'p50', f3(l.directP50), f3(l.throughP50), f3(l.addedP50),
      res.latency[mode].reps.map((r) => f3(r.addedP50)).join(' '), t50.target === null ? 'report only' : `<= ${t50.target}`,
      t50.target === null ? (t50.valid ? '-' : 'INVALID') : verdict(t50), ...floor('P50')]);
    rows.push([MODE[mode], 'p99', f3(l.directP99), f3(l.throughP99), f3(l.addedP99),
      res.latency[mode].reps.map((r) => f3(r.addedP99)).join(' '), `<= ${t99.target}`, verdict(t99), ...floor('P99')]);
  }
  return table(['mode', 'pct', 'direct ms', 'through ms', 'added ms', 'added per rep', 'target', 'result',
    'floor ms (ref.)', 'floor - direct (ref.)', 'through - floor (ref.)'], rows,
  ['l', 'l', 'r', 'r', 'r', 'l', 'l', 'l', 'r', 'r', 'r']);
}

/** One line with the floor's reference values (no target), for the console. */
export function referenceLine(res) {
  return ['nonstream', 'stream'].map((mode) => {
    const t = res.throughput[mode];
    const l = res.latency[mode].median;
    const bad = t.floorValid && res.latency[mode].floorValid ? '' : ' INVALID';
    return `${MODE[mode]} floor/direct ${f3(t.median.floorRatio)}, through/floor ${f3(t.median.throughFloorRatio)}, ` +
      `floor p99 ${f3(l.floorP99)} ms (+${f3(l.floorAddedP99)} over direct)${bad}`;
  }).join('; ');
}

export function cpuTable(res) {
  const rows = [];
  const n = res.machine.nproc;
  for (const mode of ['nonstream', 'stream']) {
    for (const kind of ['direct', 'floor', 'through']) {
      const c = res.throughput[mode].cpu[kind];
      const proxyUs = { direct: '-', floor: f0(c.bareProxyUsPerReq), through: f0(c.gatewayUsPerReq) }[kind];
      rows.push([`${MODE[mode]} ${kind}`, pct(c.harness), pct(c.mock), kind === 'floor' ? pct(c.bareProxy) : '-', kind === 'through' ? pct(c.gateway) : '-',
        pct(c.other), `${pct(c.system)} of ${n * 100}%`, f0(c.mockUsPerReq), proxyUs]);
    }
  }
  return table(['run', 'load generator', 'mock', 'bare proxy', 'gateway', 'rest of machine', 'all CPUs busy', 'mock CPU us/req', 'proxy CPU us/req'], rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
}

/** What limited each side, worded from the measured CPU shares rather than assumed. */
export function cpuNote(res) {
  const n = res.machine.nproc;
  const d = res.throughput.nonstream.cpu.direct;
  const t = res.throughput.nonstream.cpu.through;
  const f = res.throughput.nonstream.cpu.floor;
  const lines = [
    `CPU (non-stream, ${res.settings.connections} connections): ${n} cores are shared by the load generator (autocannon in the harness process),`,
    `the mock and the gateway. Direct: mock ${pct(d.mock)} of a core, load generator ${pct(d.harness)}, ${pct(d.system)} of ${n * 100}% busy in all.`,
    `Through: gateway ${pct(t.gateway)}, mock ${pct(t.mock)}, load generator ${pct(t.harness)}, ${pct(t.system)} of ${n * 100}% busy in all.`,
  ];
  if (d.mock >= 0.9) lines.push('The direct rate is bounded by the mock\'s single thread (one Node process), so it is a modest baseline, not a ceiling of the hardware.');
  if (t.gateway >= 0.9 && t.system < n * 0.9) {
    lines.push(
      `The gateway process uses about a core (its event loop plus the event-writer, GC and libuv threads) while the machine still has idle CPU,`,
      `so the through rate is limited by the gateway's per-request cost and how its threads are scheduled, not by the load generator;`,
      `the ratio is then near the mock's CPU/req in the direct run over the gateway's CPU/req (${f0(d.mockUsPerReq)} / ${f0(t.gatewayUsPerReq)} us = ${f2(d.mockUsPerReq / t.gatewayUsPerReq)}).`,
    );
  } else if (t.system >= n * 0.9) {
    lines.push('All cores were busy in the through runs: the three processes compete, so the ratio understates a gateway on its own host.');
  }
  lines.push(
    `The gateway's cost of ${f0(t.gatewayUsPerReq)} CPU us per request barely depends on this sharing; it is the number to compare across changes.`,
    `"proxy CPU us/req" is the bare proxy's in floor runs and the gateway's in through runs. The floor (reference only) costs ${f0(f.bareProxyUsPerReq)} us`,
    `per request for the fastify + undici stack alone, so about ${f0(t.gatewayUsPerReq - f.bareProxyUsPerReq)} us of the gateway's ${f0(t.gatewayUsPerReq)} is Warden's own pipeline.`,
    'Latency is measured at 1 connection, where the machine is mostly idle, so CPU sharing matters little there.',
  );
  const other = Math.max(d.other, f.other, t.other);
  if (other > 0.1) {
    lines.push(`The rest of the machine (other processes, kernel network work on loopback) used up to ${pct(other)} of a core during these runs.`);
  }
  return lines.join('\n');
}

export function settingsLine(res) {
  const s = res.settings;
  return `${s.reps} repetitions, interleaved direct, floor (reference), through; throughput ${s.duration} s per run at ${s.connections} connections ` +
    `(warm-up ${s.warmupS} s per target and mode); latency ${s.latencyRequests} sequential requests per run on 1 keep-alive connection ` +
    `(warm-up ${s.latencyWarmup} + ${s.latencyWarmupPerRun} per run); mock stream chunks ${s.chunks}; gateway log level info to a file.`;
}

export function machineLine(res) {
  const m = res.machine;
  return `${m.nproc} CPUs (${m.cpuModel}), ${m.memGiB} GiB RAM, Node ${m.node}, ${m.os}; load average at start ${m.loadavg.map((x) => x.toFixed(2)).join(' ')}`;
}

export function problems(res) {
  const out = [];
  for (const p of res.problems) out.push(`- ${p}`);
  return out.join('\n');
}

/** Decision latency in µs, and as a share of a direct (no gateway) non-streamed call's p50 measured in the same run. */
export function policyTable(res) {
  const base = res.latency?.nonstream?.median?.directP50; // ms
  const rows = [];
  for (const [action, r] of Object.entries(res.policy.actions)) {
    for (const kind of ['cached', 'uncached']) {
      const m = r[kind];
      rows.push([action, kind, m.n, m.p50Us.toFixed(1), m.p99Us.toFixed(1), base ? (m.p50Us / 1000 / base).toFixed(3) : '-']);
    }
  }
  return table(['action', 'decision', 'samples', 'p50 us', 'p99 us', 'p50 / direct call p50'], rows, ['l', 'l', 'r', 'r', 'r', 'r']);
}

export function limitTable(res) {
  const base = res.latency?.nonstream?.median?.directP50; // ms
  const rows = [];
  for (const [store, m] of [['in-process', res.limits.memory], ['Redis (127.0.0.1)', res.limits.redis]]) {
    rows.push([store, m.n, m.p50Us.toFixed(1), m.p99Us.toFixed(1), base ? (m.p50Us / 1000 / base).toFixed(3) : '-']);
  }
  return table(['store', 'samples', 'p50 us', 'p99 us', 'p50 / direct call p50'], rows, ['l', 'r', 'r', 'r', 'r']);
}

/** The 2 KB request in other languages: the slowest of them against English timed in the same loop. */
function languageRows(langs) {
  if (!langs) return [];
  const other = Object.entries(langs).filter(([l]) => l !== 'en');
  const p50 = Math.max(...other.map(([, v]) => v.p50Us)), p99 = Math.max(...other.map(([, v]) => v.p99Us));
  return [[`the same request in other languages (slowest of ${other.map(([l]) => l).join(', ')}), p50 / p99`, `${p50.toFixed(1)} / ${p99.toFixed(1)} us`, `English, same loop: ${langs.en.p50Us.toFixed(1)} / ${langs.en.p99Us.toFixed(1)} us`, (p50 / langs.en.p50Us).toFixed(3), '<= 200 us p99', p99 <= 200 ? 'PASS' : 'FAIL']];
}

export function guardTable(res) {
  const g = res.guard;
  const base = res.latency?.nonstream?.median?.directP50; // ms
  return table(
    ['measure', 'value', 'baseline (same run)', 'ratio', 'target', 'result'],
    [
      ['PII + secrets scan, one core', `${g.scanMBs.toFixed(0)} MB/s`, `JSON.parse ${g.parseMBs.toFixed(0)} MB/s`, (g.scanMBs / g.parseMBs).toFixed(2), '>= 50 MB/s', g.scanMBs >= 50 ? 'PASS' : 'FAIL'],
      ['inspect a 2 KB chat request, p50', `${g.inspect2k.p50Us.toFixed(1)} us`, base ? `direct call p50 ${(base * 1000).toFixed(0)} us` : '-', base ? (g.inspect2k.p50Us / 1000 / base).toFixed(3) : '-', '', ''],
      ['inspect a 2 KB chat request, p99', `${g.inspect2k.p99Us.toFixed(1)} us`, '', '', '<= 200 us', g.inspect2k.p99Us <= 200 ? 'PASS' : 'FAIL'],
      ...languageRows(g.inspect2k.languages),
      ...(g.inspect2k.rulesOnly
        ? [['the same without the injection classifier, p50 / p99', `${g.inspect2k.rulesOnly.p50Us.toFixed(1)} / ${g.inspect2k.rulesOnly.p99Us.toFixed(1)} us`, 'interleaved, same process', (g.inspect2k.p50Us / g.inspect2k.rulesOnly.p50Us).toFixed(3), '', '']]
        : []),
      ...(g.stream2k
        ? [
            ['streamed 2 KB answer, redact (held back), p50', `${g.stream2k.redact.p50Us.toFixed(0)} us (${(g.stream2k.redact.p50Us / g.stream2k.events).toFixed(2)} us/event)`, `usage reader alone ${g.stream2k.usageOnly.p50Us.toFixed(0)} us`, (g.stream2k.redact.p50Us / g.stream2k.usageOnly.p50Us).toFixed(1), '', ''],
            ['streamed 2 KB answer, flag (read beside), p50', `${g.stream2k.flag.p50Us.toFixed(0)} us (${(g.stream2k.flag.p50Us / g.stream2k.events).toFixed(2)} us/event)`, `usage reader alone ${g.stream2k.usageOnly.p50Us.toFixed(0)} us`, (g.stream2k.flag.p50Us / g.stream2k.usageOnly.p50Us).toFixed(1), '', ''],
          ]
        : []),
    ],
    ['l', 'r', 'l', 'r', 'l', 'l'],
  );
}

export function guardNote() {
  return '`bench/lib/guard-bench.mjs`, its own process: the PII and secrets detectors over 8 MiB of prompt-like text (prose with emails, IPs, URLs, code, log lines and order numbers), best of 3; and `Guard.inspectRequest` on a chat request with a 2 KB user message (PII, secrets and prompt-injection scoring), 5000 times after 500 warm-up calls; and a streamed 2 KB answer (512 OpenAI chat chunks of 4 characters, fed in 512-byte reads) through the answer guard, with redaction on (held back, rescanned as it flows) and with flag only (read beside the stream), against the SSE usage reader that every stream already passes through.';
}

/** Trace ingestion through the gateway against raw SQLite inserts of the same rows, same run. */
export function ingestTable(res) {
  const i = res.ingest;
  return table(
    ['measure', 'value', 'baseline (same run)', 'ratio', 'target', 'result'],
    [
      [`events/s acknowledged (batches of ${i.batch} x ${i.eventBytes} B, ${i.connections} clients, 202 after commit)`, i.eventsPerS.toFixed(0), `raw SQLite inserts ${i.rawSqliteRowsPerS.toFixed(0)} rows/s`, i.ratio.toFixed(3), '>= 50,000 events/s', i.eventsPerS >= 50_000 ? 'PASS' : 'FAIL'],
      ['batch answered, p50 / p99', `${i.batchP50Ms.toFixed(1)} / ${i.batchP99Ms.toFixed(1)} ms`, '', '', '', ''],
      ['sent to readable through GET /api/v1/runs/{id}, p50 / p99', `${i.queryableP50Ms.toFixed(1)} / ${i.queryableP99Ms.toFixed(1)} ms (${i.samples} samples)`, '', '', 'within 1 s', i.queryableP99Ms <= 1000 ? 'PASS' : 'FAIL'],
      ['batches refused or failed', String(i.failedBatches), '', '', '0', i.failedBatches === 0 ? 'PASS' : 'FAIL'],
    ],
    ['l', 'r', 'l', 'r', 'l', 'l'],
  );
}

export function ingestNote() {
  return '`bench/lib/ingest-bench.mjs`: a gateway in its own process on SQLite, guardrails on (the default), rate limits without per-role caps; concurrent clients each post batches of 100 reasoning events of about 1 KB with idempotency keys to POST /api/v1/runs/{id}/events, each answered 202 only once committed, for 5 s after a 1 s warm-up. The ceiling is the same rows inserted into the same schema (same pragmas and background WAL checkpoints, 100 rows per IMMEDIATE transaction) by one thread with no HTTP, validation or guardrails, in the same run.';
}

export function limitNote() {
  return 'One decision = `Limiter.admit()` plus `settle()` for a chat call under the two rules the gateway above also runs with (a per-caller request limit and a per-org token limit, so the prompt is tokenized with o200k_base and a reservation is made and settled), sequentially in its own process. With Redis that is one Lua script (EVALSHA) per decision plus one per settlement. The baseline is the direct call\'s p50 at 1 connection from this same run.';
}

export function policyNote(res) {
  return `Policies: Warden's built-in defaults plus the ${res.policy.policies} rules of \`bench/policies/bench.cedar\`, which the gateway in the throughput and latency runs above also enforces (every proxied call is an \`llm:call\` decision and writes a \`policy.decision\` event). ` +
    '"cached" repeats one request (the gateway\'s case for a steady caller: decisions are cached per principal, action, resource and context to the minute); ' +
    '"uncached" gives every call a new principal and an engine without a cache. The baseline is the direct call\'s p50 at 1 connection from the latency runs of this same benchmark.';
}

/** MCP tools/call through Warden against the same tool server called directly, same run (bench/lib/mcp-bench.mjs). */
export function mcpTable(res) {
  const m = res.mcp;
  const l = m.latency;
  const t = m.throughput;
  const mark = (r) => (r.valid ? '' : '!');
  const result = (valid) => (valid ? '-' : 'INVALID');
  const us = (x) => f0(x);
  const plus = (x) => (x >= 0 ? `+${f3(x)}` : f3(x));
  const c = t.cpu;
  return table(
    ['measure', 'direct', 'through', 'added / ratio', 'per rep', 'target', 'result'],
    [
      ['tools/call latency p50, 1 session (ms)', f3(l.median.directP50), f3(l.median.throughP50), plus(l.median.addedP50), l.reps.map((r) => f3(r.addedP50) + mark(r)).join(' '), 'report only', result(l.valid)],
      ['tools/call latency p99, 1 session (ms)', f3(l.median.directP99), f3(l.median.throughP99), plus(l.median.addedP99), l.reps.map((r) => f3(r.addedP99) + mark(r)).join(' '), 'report only', result(l.valid)],
      [`throughput, ${m.settings.clients} clients (calls/s)`, f0(t.median.direct), f0(t.median.through), f3(t.median.ratio), t.reps.map((r) => f2(r.ratio) + mark(r)).join(' '), 'report only', result(t.valid)],
      [`CPU per call at ${m.settings.clients} clients, server / gateway / clients (us)`, `${us(c.direct.serverUsPerCall)} / - / ${us(c.direct.clientsUsPerCall)}`,
        `${us(c.through.serverUsPerCall)} / ${us(c.through.gatewayUsPerCall)} / ${us(c.through.clientsUsPerCall)}`, '', '', '', ''],
      ['calls that failed or returned the wrong content', '', '', '', '', '0', m.errors === 0 ? 'PASS' : 'FAIL'],
    ],
    ['l', 'r', 'r', 'r', 'l', 'l', 'l'],
  );
}

export function mcpNote(res) {
  const s = res.mcp.settings;
  return '`bench/lib/mcp-bench.mjs`, its own process: an MCP tool server (`bench/lib/mcp-server.mjs`, the official SDK\'s low-level `Server` and ' +
    '`StreamableHTTPServerTransport` on node:http, one `echo` tool with a JSON Schema `{text: string}`) and a Warden gateway (`warden start`, SQLite, ' +
    'guardrails on, the policies and limits of the proxy benchmark above) naming it under `mcp.servers`, each its own process. The clients are the SDK\'s ' +
    '`Client` over `StreamableHTTPClientTransport`: *direct* calls `echo` on the server, *through* calls `bench__echo` at Warden\'s `/mcp` with a Warden key ' +
    `(one \`mcp.tool_invoke\` event per call). Latency: one session per target, ${s.calls} sequential \`tools/call\`s per run (after ${s.warmup} warm-up calls ` +
    `and ${s.warmupPerRun} per run), timed from the call to its parsed result; throughput: ${s.clients} clients per target, each its own session, ` +
    `looping \`tools/call\` for ${s.seconds} s. ${s.reps} repetitions, each direct then through; medians of the per-repetition values. ` +
    `Every result must be exactly the text sent (${s.varyArguments ? 'a different text each call' : 'the same text every call, as the proxy benchmark repeats one request'}); ` +
    'a failed or wrong call makes the run INVALID ("!"). The clients share the machine\'s CPUs with the server and the gateway, so CPU per call is the figure to compare across changes.' +
    mcpFindings(res.mcp);
}

/** What the measured CPU shares and warnings say, worded from this run's figures. */
function mcpFindings(m) {
  const d = m.throughput.cpu.direct;
  const out = [];
  if (d.clientsCores >= 0.9) {
    out.push(`The direct rate is bounded by the clients' single thread (${pct(d.clientsCores)} of a core, ${f0(d.clientsUsPerCall)} us of CPU per call in the SDK's client), so it is a modest baseline.`);
  }
  const w = m.listenerWarnings;
  if (w?.gateway > 0) {
    out.push(`The gateway printed ${w.gateway} MaxListenersExceededWarning lines: its one SDK session to the server hands the same AbortSignal to every request, and listeners wait for GC.`);
  }
  return out.length ? ` ${out.join(' ')}` : '';
}

export function section(res) {
  const lines = [
    START,
    `## Latest results`,
    '',
    `- Date: ${res.date}`,
    `- Command: \`${res.command}\``,
    `- Machine: ${machineLine(res)}`,
    `- Settings: ${settingsLine(res)}`,
    `- Pipeline: ${res.pipeline}`,
    '',
    `### Throughput (median of ${res.settings.reps} repetitions; ratio = through / direct)`,
    '',
    throughputTable(res),
    '',
    'The 1-connection rows come from the sequential latency loop (requests / wall time), not autocannon.',
    'Columns marked (ref.) are reference only: the floor is a bare fastify + undici proxy with no target; it never changes a result. "!" marks invalid data.',
    '',
    `### Added latency at 1 connection (through minus direct, median of the per-repetition values)`,
    '',
    latencyTable(res),
    '',
    'floor - direct is what the bare HTTP stack adds; through - floor is what Warden\'s own pipeline adds on top (both reference only).',
    '',
    `### CPU use during the ${res.settings.connections}-connection runs (median, 100% = one core)`,
    '',
    cpuTable(res),
    '',
    cpuNote(res),
  ];
  if (res.policy) {
    lines.push('', '### Policy decision latency (PolicyEngine.decide, its own process)', '', policyTable(res), '', policyNote(res));
    if (res.limits) lines.push('', '### Limit decision latency (Limiter.admit + settle, its own process)', '', limitTable(res), '', limitNote());
    if (res.guard) lines.push('', '### Guardrails', '', guardTable(res), '', guardNote());
    if (res.ingest) lines.push('', '### Trace ingestion', '', ingestTable(res), '', ingestNote());
  }
  if (res.mcp) lines.push('', '### MCP tools/call (through Warden vs the MCP server directly)', '', mcpTable(res), '', mcpNote(res));
  if (res.problems.length) lines.push('', '### Problems', '', problems(res));
  lines.push(END);
  return lines.join('\n');
}

function intro(res) {
  return `# Benchmarks

How much throughput and latency Warden costs compared with calling the upstream directly.
Everything runs on one machine over loopback (127.0.0.1): the load generator, a fake OpenAI
upstream (\`packages/mock-upstream\`) and the gateway, each in its own process.

Run it with:

\`\`\`sh
npm run bench        # builds, then runs bench/run.mjs (about 5.5 minutes with the defaults on 2 cores)
\`\`\`

Tuning: \`BENCH_DURATION\` (seconds per throughput run, default 5), \`BENCH_REPS\` (default 5),
\`BENCH_CONNECTIONS\` (default 50), \`BENCH_LAT_REQUESTS\` (requests per latency run, default 3000).
The MCP benchmark has its own: \`BENCH_MCP_REPS\` (default 5), \`BENCH_MCP_CALLS\` (sequential calls per latency run, default 2000),
\`BENCH_MCP_CLIENTS\` (default 16), \`BENCH_MCP_S\` (seconds per throughput run, default 4); \`BENCH_MCP_VARY=1\` sends a different text every call.
Machine-readable results go to \`bench/results/latest.json\`.
\`BENCH_PROFILE=1 node bench/run.mjs\` is a separate experiment: it runs the gateway under
\`node --cpu-prof\` and prints the functions with the most self time (timings from it are not comparable).

## Method

- **Targets.** *Direct* is the mock upstream; *through* is Warden in front of that same mock
  process. All targets get the same request (\`POST /v1/chat/completions\`, \`{"model":"gpt-4o-mini","messages":[...]}\`,
  plus \`"stream": true\` for streaming) and an \`Authorization\` header (the mock checks its own key,
  the gateway checks a key made with \`warden keys create\`).
- **Floor (reference only).** A third target, \`bench/lib/bare-proxy.mjs\`, is a bare proxy built from the
  stack Warden uses (fastify 5 and an undici 7 \`Pool\`) that only forwards the raw body to the same mock and
  passes the response (or SSE stream) back, with none of Warden's pipeline. It splits the gap to direct into what the
  HTTP stack costs (floor/direct) and what Warden's own work costs (through/floor); it has no target and never changes a result.
- **Full pipeline.** The gateway runs as \`warden start\` with SQLite storage in a temporary directory and
  log level \`info\`, its JSON log written to a file: key authentication, routing, upstream call,
  usage/cost accounting, metrics, one log line and one audit event (hash-chained, batched into SQLite) per request.
- **Throughput** is autocannon 8 (in the harness process) at a fixed number of connections for a fixed
  time: completed 2xx responses per second.
- **Latency** is a sequential loop over one keep-alive connection (undici \`Client\`), timed with
  \`process.hrtime.bigint()\` from sending the request to reading the last body byte, percentiles from the raw
  samples. autocannon is not used for this because it records whole milliseconds, too coarse for a 1 ms target.
- **Interleaving.** Each repetition runs direct, then floor, then through, for every mode, so drift (thermal, other
  processes) hits all of them; the tables report medians over repetitions and the ratio per repetition. Each target is
  warmed up first, and the gateway's event queue is drained between runs.
- **Validity.** Every response must be 200 (and, in the latency loop, a complete JSON body or an SSE stream
  ending in \`[DONE]\`); a run with non-2xx, errors, timeouts or resets makes its target INVALID (an invalid
  floor run is marked \`!\` and listed under Problems, without touching the targets' results).
- **MCP \`tools/call\`** (\`bench/lib/mcp-bench.mjs\`, its own process, after the other sub-benchmarks). *Direct* is an MCP
  tool server (\`bench/lib/mcp-server.mjs\`: the official SDK's low-level \`Server\` and \`StreamableHTTPServerTransport\`, one
  \`echo\` tool, its own process); *through* is its own Warden gateway (same kind of config as above, \`mcp.servers\` naming
  that server) at \`/mcp\`, tool \`bench__echo\`, with a Warden key. The clients are the SDK's \`Client\` with
  \`StreamableHTTPClientTransport\`. Latency: one session per target, sequential calls, p50/p99 per repetition and
  added = through - direct; throughput: 16 clients per target, each its own session, looping for 4 s, calls/s and
  through/direct. Interleaved direct, through in every repetition, medians of 5; every result must be the text sent,
  and any failed call makes the result INVALID. CPU per call of the clients, server and gateway is recorded.
- **Targets from the issue.** through/direct >= 0.35 at 50 connections; added p99 latency <= 1 ms at 1 connection.
  The MCP comparison has no target: it reports added p50/p99 and the throughput ratio.
- **Machine** (when this file was created): ${machineLine(res)}. The load generator, mock and gateway share
  these CPUs (the bare proxy too); see the CPU table in the results for how they compete.

`;
}

/** Replaces the marked section of docs/benchmarks.md, creating the file (intro, method, markers) if needed. */
export function updateDocs(file, res) {
  const body = section(res);
  if (!existsSync(file)) {
    writeFileSync(file, `${intro(res)}${body}\n`);
    return 'created';
  }
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a !== -1 && b > a) {
    writeFileSync(file, text.slice(0, a) + body + text.slice(b + END.length));
    return 'updated';
  }
  writeFileSync(file, `${text.replace(/\n*$/, '\n\n')}${body}\n`);
  return 'appended';
}
