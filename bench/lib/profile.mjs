// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per area.
import { readFileSync } from 'node:fs';

/** Where a frame's code lives: a dependency, Warden itself, Node internals, or V8 pseudo-frames. */
export function area(url, fn) {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const w = /packages\/([^/]+)\/dist\/(.+?)(\.js)?$/.exec(url);
  if (w) return `${w[1]}/${w[2].split('/')[0]}`;
  return url.split('/').slice(-2).join('/');
}

export function summarise(file, top = 25) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map(); // node id -> microseconds
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i];
    self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, v]) => a + v, 0);
  const busy = total - idle;
  const fns = new Map();
  const areas = new Map();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const fn = functionName || '(anonymous)';
    if (fn === '(idle)') continue;
    const where = url ? `${url.replace(/^file:\/\/.*?(node_modules|packages)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${fn} ${where}`;
    const e = fns.get(key) ?? { fn, where, us: 0 };
    e.us += us;
    fns.set(key, e);
    const a = area(url, fn);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const share = (us) => Math.round((us / busy) * 1000) / 10;
  return {
    totalMs: Math.round(total / 1000),
    busyMs: Math.round(busy / 1000),
    idleMs: Math.round(idle / 1000),
    functions: [...fns.values()].sort((a, b) => b.us - a.us).slice(0, top).map((e) => ({ ...e, ms: Math.round(e.us / 1000), pctBusy: share(e.us) })),
    areas: [...areas].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ area: name, ms: Math.round(us / 1000), pctBusy: share(us) })),
  };
}
