// Load generation: autocannon for throughput, a sequential undici loop for latency.
import autocannon from 'autocannon';
import { Client } from 'undici';
import { cpuSeconds, selfCpuSeconds, systemBusySeconds } from './procs.mjs';

export const BODIES = {
  nonstream: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'benchmark' }] }),
  stream: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'benchmark' }], stream: true }),
};

/** Cheap completeness checks: a whole JSON completion, or an SSE stream that reached [DONE]. */
export function bodyOk(mode, text) {
  return mode === 'stream' ? text.endsWith('data: [DONE]\n\n') : text.startsWith('{') && text.includes('"choices"') && text.endsWith('}');
}

let current; // the running autocannon instance, so an abort can stop it

export function abortLoad() {
  current?.stop();
}

/**
 * One time-bounded autocannon run. Also samples the CPU time of the watched processes
 * (mock, gateway, and this harness as load generator) over the run.
 */
export function throughput({ origin, auth, mode, connections, duration, watch = {} }) {
  const cpu0 = sampleCpu(watch);
  return new Promise((resolve, reject) => {
    current = autocannon(
      {
        url: `${origin}/v1/chat/completions`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: auth },
        body: BODIES[mode],
        connections,
        pipelining: 1,
        duration,
        timeout: 10,
      },
      (err, r) => {
        current = undefined;
        if (err) return reject(err);
        const cpu1 = sampleCpu(watch);
        const ok = r['2xx'];
        const bad = r.non2xx + r.errors + r.timeouts + r.mismatches + r.resets;
        resolve({
          rps: ok / r.duration,
          requests: r.requests.total,
          ok2xx: ok,
          non2xx: r.non2xx,
          errors: r.errors,
          timeouts: r.timeouts,
          resets: r.resets,
          valid: bad === 0 && ok > 0,
          durationS: r.duration,
          // autocannon records whole milliseconds: informational only.
          latencyMsP50: r.latency.p50,
          latencyMsP99: r.latency.p99,
          cpu: cpuShare(cpu0, cpu1, ok),
        });
      },
    );
  });
}

function sampleCpu(watch) {
  const s = { t: process.hrtime.bigint(), harness: selfCpuSeconds() };
  for (const [name, pid] of Object.entries(watch)) s[name] = cpuSeconds(pid);
  s.system = systemBusySeconds();
  return s;
}

/** Per process: share of one core over the run (1.0 = one core busy) and CPU µs per completed request. */
function cpuShare(a, b, requests) {
  const wall = Number(b.t - a.t) / 1e9;
  const out = {};
  for (const name of Object.keys(a)) {
    if (name === 't') continue;
    const used = b[name] - a[name];
    out[name] = { cores: used / wall, usPerReq: requests > 0 ? (used * 1e6) / requests : NaN };
  }
  // Everything else on the machine (other users' processes, the kernel's own work) during the run.
  let ours = 0;
  for (const name of Object.keys(out)) if (name !== 'system') ours += out[name].cores;
  out.other = { cores: Math.max(0, out.system.cores - ours), usPerReq: NaN };
  return out;
}

/**
 * Sequential requests over one keep-alive connection, timed with hrtime from just before
 * the request until the last body byte is read. Returns the raw samples in ms. Bounded by
 * `count` and by `maxMs`; every request also has a 10 s header/body timeout.
 */
export async function sequential({ origin, auth, mode, count, warmup = 0, maxMs = 60_000, watch = {} }) {
  const client = new Client(origin, {
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const headers = { 'content-type': 'application/json', authorization: auth };
  const body = BODIES[mode];
  const samples = new Float64Array(count);
  let n = 0;
  let non200 = 0;
  let errors = 0;
  let badBody = 0;
  let firstProblem;
  try {
    for (let i = 0; i < warmup; i++) {
      const res = await client.request({ path: '/v1/chat/completions', method: 'POST', headers, body });
      await res.body.text();
    }
    const cpu0 = sampleCpu(watch);
    const started = process.hrtime.bigint();
    const deadline = started + BigInt(maxMs) * 1_000_000n;
    while (n < count) {
      const t0 = process.hrtime.bigint();
      if (t0 > deadline) break;
      try {
        const res = await client.request({ path: '/v1/chat/completions', method: 'POST', headers, body });
        const text = await res.body.text();
        const t1 = process.hrtime.bigint();
        samples[n++] = Number(t1 - t0) / 1e6;
        if (res.statusCode !== 200) {
          non200++;
          firstProblem ??= `status ${res.statusCode}: ${text.slice(0, 200)}`;
        } else if (!bodyOk(mode, text)) {
          badBody++;
          firstProblem ??= `incomplete body: ${text.slice(-200)}`;
        }
      } catch (err) {
        errors++;
        firstProblem ??= String(err?.message ?? err);
        if (errors > 10) break;
      }
    }
    const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
    const done = samples.subarray(0, n).sort();
    return {
      n,
      elapsedS,
      rps: n / elapsedS,
      p50: percentile(done, 50),
      p90: percentile(done, 90),
      p99: percentile(done, 99),
      max: done[n - 1],
      non200,
      errors,
      badBody,
      valid: n === count && non200 + errors + badBody === 0,
      firstProblem,
      cpu: cpuShare(cpu0, sampleCpu(watch), n),
    };
  } finally {
    await client.close().catch(() => client.destroy());
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Reads the gateway's Prometheus text and returns the named (label-less) samples. */
export async function scrapeMetrics(origin, names) {
  const client = new Client(origin, { headersTimeout: 5000, bodyTimeout: 5000 });
  try {
    const res = await client.request({ path: '/metrics', method: 'GET' });
    const text = await res.body.text();
    const out = {};
    for (const name of names) {
      const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
      out[name] = m ? Number(m[1]) : NaN;
    }
    return out;
  } finally {
    await client.close().catch(() => client.destroy());
  }
}

/** Waits (bounded) until the gateway's event queue is empty, so one run's writes do not spill into the next. */
export async function waitForDrain(origin, maxMs = 10_000) {
  const until = Date.now() + maxMs;
  for (;;) {
    const m = await scrapeMetrics(origin, ['warden_event_queue_depth']);
    if (m.warden_event_queue_depth === 0) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
