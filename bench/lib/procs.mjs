// Child processes for the benchmark: the mock upstream, the bare proxy ("floor") and the
// gateway, each its own process, always killed at the end (normal exit, error, signal or watchdog).
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const children = new Set();

/** Environment for children: no WARDEN_* overrides or NODE_OPTIONS leaking in from the caller's shell. */
function childEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('WARDEN_') || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return env;
}

function track(child, name) {
  const entry = { child, name, exited: false };
  children.add(entry);
  entry.done = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      entry.exited = true;
      entry.code = code;
      entry.signal = signal;
      children.delete(entry);
      resolve();
    });
  });
  return entry;
}

/** SIGTERM every child we started (by pid), SIGKILL whatever is still alive after `graceMs`. */
export async function stopAll(graceMs = 5000) {
  const live = [...children];
  for (const e of live) {
    try {
      e.child.kill('SIGTERM');
    } catch {
      /* already gone */
    }
  }
  await Promise.race([Promise.all(live.map((e) => e.done)), new Promise((r) => setTimeout(r, graceMs).unref())]);
  for (const e of live) {
    if (!e.exited) {
      try {
        e.child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

// Last resort: a synchronous kill when the harness exits for any reason.
process.on('exit', () => {
  for (const e of children) {
    try {
      e.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function tail(file, n = 20) {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/**
 * Spawns `node ARGS` and resolves with { url, pid, entry } once stdout shows "listening on URL".
 * stderr goes to `errFile` (quoted in the error if the child dies or is slow to start).
 */
async function startListener(root, name, args, errFile) {
  const errFd = openSync(errFile, 'w');
  const child = spawn(process.execPath, args, { cwd: root, env: childEnv(), stdio: ['ignore', 'pipe', errFd] });
  closeSync(errFd);
  const entry = track(child, name);
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 10 s\n${tail(errFile)}`)), 10_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buf += d;
      const m = /listening on (http:\/\/\S+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    entry.done.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (code ${entry.code})\n${tail(errFile)}`));
    });
  });
  child.stdout.resume(); // nothing more is printed, but never let the pipe fill
  return { url, pid: child.pid, entry };
}

/** Starts the mock upstream on an ephemeral loopback port; resolves with { url, pid }. */
export function startMock(root, dir, { apiKey, chunks }) {
  const args = [join(root, 'packages/mock-upstream/dist/cli.js'), '--host', '127.0.0.1', '--port', '0', '--api-key', apiKey];
  if (chunks) args.push('--chunks', String(chunks));
  return startListener(root, 'mock-upstream', args, join(dir, 'mock.stderr'));
}

/** Starts bench/lib/bare-proxy.mjs (the "floor" target) in front of `upstream`; resolves with { url, pid }. */
export function startBareProxy(root, dir, { upstream, apiKey }) {
  const args = [join(root, 'bench/lib/bare-proxy.mjs'), '--upstream', upstream, '--api-key', apiKey];
  return startListener(root, 'bare-proxy', args, join(dir, 'bare-proxy.stderr'));
}

/** Starts bench/lib/mcp-server.mjs (an MCP tool server, Streamable HTTP); resolves with { url, pid }, url ending in /mcp. */
export function startMcpServer(root, dir) {
  return startListener(root, 'mcp-server', [join(root, 'bench/lib/mcp-server.mjs')], join(dir, 'mcp-server.stderr'));
}

/** `warden keys create`; the key is alone on the last line of stdout. */
export function createKey(root, configFile) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(root, 'packages/warden/bin/warden.js'), 'keys', 'create', '--name', 'bench', '--config', configFile],
      { cwd: root, env: childEnv(), timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`warden keys create failed: ${err.message}\n${stderr}`));
        const key = stdout.trim().split('\n').at(-1)?.trim();
        if (!key) return reject(new Error('warden keys create printed no key'));
        resolve(key);
      },
    );
  });
}

/** The Node flags the `warden` command runs with (its second line re-executes it as `exec node FLAGS "$0"`), so the gateway measured is the one users start. */
function binNodeFlags(bin) {
  const m = /^":" \/\/; exec node (.*) "\$0" "\$@"$/m.exec(readFileSync(bin, 'utf8'));
  if (!m) throw new Error(`${bin} does not start with the sh line that names its Node flags`);
  return m[1].trim().split(/\s+/).filter(Boolean);
}

/**
 * Starts `warden start --config FILE` with stdout (its JSON logs) written straight to a
 * file by the child itself, so the harness never touches the log stream. Resolves with
 * { url, pid } once the "warden listening" line appears.
 */
export async function startGateway(root, dir, configFile, { logFile, nodeArgs = [] } = {}) {
  const errFile = join(dir, 'gateway.stderr');
  const outFd = openSync(logFile, 'w');
  const errFd = openSync(errFile, 'w');
  const bin = join(root, 'packages/warden/bin/warden.js');
  const child = spawn(
    process.execPath,
    [...binNodeFlags(bin), ...nodeArgs, bin, 'start', '--config', configFile],
    { cwd: dir, env: childEnv(), stdio: ['ignore', outFd, errFd] },
  );
  closeSync(outFd);
  closeSync(errFd);
  const entry = track(child, 'gateway');
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (entry.exited) throw new Error(`gateway exited (code ${entry.code})\n${tail(errFile)}\n${tail(logFile)}`);
    const text = readFileSync(logFile, 'utf8');
    for (const line of text.split('\n')) {
      if (!line.includes('"warden listening"')) continue;
      const { url } = JSON.parse(line);
      return { url, pid: child.pid, entry };
    }
    await sleep(100);
  }
  throw new Error(`gateway did not log "warden listening" within 20 s\n${tail(errFile)}`);
}

/** Stops one child gracefully (SIGTERM, then SIGKILL after graceMs); resolves when it has exited. */
export async function stopOne(entry, graceMs = 10_000) {
  if (entry.exited) return;
  entry.child.kill('SIGTERM');
  const t = setTimeout(() => entry.exited || entry.child.kill('SIGKILL'), graceMs);
  await entry.done;
  clearTimeout(t);
}

let clkTck = 100;
try {
  clkTck = Number(
    await new Promise((resolve) => execFile('getconf', ['CLK_TCK'], (err, out) => resolve(err ? 100 : out.trim()))),
  ) || 100;
} catch {
  /* keep 100 */
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / clkTck; // utime, stime (fields 14 and 15)
  } catch {
    return NaN;
  }
}

/** CPU seconds all CPUs spent busy (not idle or iowait) since boot, from /proc/stat; NaN elsewhere. */
export function systemBusySeconds() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal (guest time is already in user)
    return (total - f[3] - f[4]) / clkTck;
  } catch {
    return NaN;
  }
}

/** CPU seconds used by this (the load generator's) process. */
export function selfCpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
