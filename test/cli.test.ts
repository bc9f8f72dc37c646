import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type MockUpstream, startMockUpstream } from '@warden/mock-upstream';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, startWarden } from './cli-helpers.js';

const ROOT = resolve(import.meta.dirname, '..');
let dir: string;
let cfg: string;
let db: string;
let mock: MockUpstream;

function warden(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 20_000, env: { ...process.env, WARDEN_CONFIG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const startServer = () => startWarden(cfg, dir);

const chat = (url: string, key: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warden-cli-'));
  mock = await startMockUpstream({ apiKey: 'sk-cli' });
  db = join(dir, 'data', 'warden.db');
  cfg = join(dir, 'warden.yaml');
  writeFileSync(
    cfg,
    `server:\n  host: 127.0.0.1\n  port: 0\nstorage:\n  url: sqlite:${db}\nlog:\n  level: info\nproviders:\n  - name: mock\n    type: openai\n    base_url: ${mock.url}/v1\n    api_key: \${MOCK_KEY:-sk-cli}\n    models: ["gpt-*"]\n`,
  );
});
afterAll(async () => {
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('warden CLI', () => {
  it('runs as a command: its sh line re-executes the same process as Node with its flags, which answers and stops on SIGTERM', async () => {
    const r = spawnSync(BIN, ['--version'], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    expect([r.status, r.stdout.trim()]).toEqual([0, expect.stringMatching(/^\d+\.\d+\.\d+/)]);
    const w = await startWarden(cfg, dir, process.env, true);
    try {
      // exec, not a child: the pid the caller holds is Node's, so signals (and kill -9) reach the gateway itself.
      const cmdline = readFileSync(`/proc/${w.proc.pid}/cmdline`, 'utf8').split('\0');
      expect(cmdline.slice(0, 2)).toEqual(['node', '--max-semi-space-size=32']);
      expect((await fetch(`${w.url}/health`)).status).toBe(200);
    } finally {
      w.proc.kill('SIGTERM');
    }
    expect(await w.exited).toBe(0);
  });

  it('check-config accepts a good file and exits 2 naming the bad key in a bad one', () => {
    const ok = warden('check-config', '--config', cfg);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('config OK');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'server:\n  port: 99999\nproviders:\n  - name: x\n    type: openai\n    base_url: ftp://nope\n    models: []\n');
    const r = warden('check-config', '--config', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('server.port');
    expect(r.stderr).toContain('providers[0].base_url');
    expect(r.stderr).toContain('providers[0].models');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(warden('start', '--config', join(dir, 'missing.yaml')).code).toBe(2);
  });

  it('migrate applies migrations once', () => {
    const first = warden('migrate', '--config', cfg);
    expect(first.code).toBe(0);
    expect(warden('migrate', '--config', cfg).stdout).toContain('up to date');
  });

  it('keys create prints the key alone on the last line; list never shows it; unknown role exits 2', () => {
    const r = warden('keys', 'create', '--name', 'ci-bot', '--role', 'agent', '--config', cfg);
    expect(r.code).toBe(0);
    const key = r.stdout.trim().split('\n').at(-1)!;
    expect(key).toMatch(/^wdn_[A-Za-z0-9]{40}$/);
    const list = warden('keys', 'list', '--config', cfg);
    expect(list.stdout).toContain('ci-bot');
    expect(list.stdout).not.toContain(key);
    expect(new Database(db, { readonly: true }).prepare('select count(*) n from keys where hash = ?').get(key)).toEqual({ n: 0 });
    expect(warden('keys', 'create', '--name', 'x', '--role', 'root', '--config', cfg).code).toBe(2);
  });

  it('serves keys created by the CLI, and a revocation applies to the running gateway at once', async () => {
    const key = warden('keys', 'create', '--name', 'live', '--config', cfg).stdout.trim().split('\n').at(-1)!;
    const server = await startServer();
    try {
      expect((await chat(server.url, key)).status).toBe(200);
      const id = JSON.parse(warden('keys', 'list', '--json', '--config', cfg).stdout.trim().split('\n').find((l) => l.includes('"live"'))!).id;
      expect(warden('keys', 'revoke', id, '--config', cfg).code).toBe(0);
      const after = await chat(server.url, key);
      expect(after.status).toBe(401);
      expect(((await after.json()) as any).error.code).toBe('revoked_api_key');
    } finally {
      server.proc.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  });

  it('on SIGTERM every answered request has its event written before exit', async () => {
    const key = warden('keys', 'create', '--name', 'burst', '--config', cfg).stdout.trim().split('\n').at(-1)!;
    const server = await startServer();
    const ids: string[] = [];
    const inflight = Array.from({ length: 300 }, (_, i) =>
      fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': `burst-${i}` },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `n${i}` }] }),
      })
        .then(async (r) => {
          await r.text();
          if (r.status === 200) ids.push(`burst-${i}`);
        })
        .catch(() => undefined),
    );
    // Stop while the burst is under way: some answered, the rest still in flight.
    const waitStart = Date.now();
    while (ids.length < 10 && Date.now() - waitStart < 10_000) await new Promise((r) => setTimeout(r, 2));
    server.proc.kill('SIGTERM');
    await Promise.all(inflight);
    expect(await server.exited).toBe(0);
    expect(ids.length).toBeGreaterThan(0);
    const rows = new Database(db, { readonly: true }).prepare("select request_id from events where request_id like 'burst-%' and status = 200").all() as Array<{ request_id: string }>;
    const stored = new Set(rows.map((r) => r.request_id));
    expect(ids.filter((id) => !stored.has(id))).toEqual([]);
  });

  it('audit verify passes, then names the row edited in the database', () => {
    const ok = warden('audit', 'verify', '--config', cfg);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/audit chain OK: \d+ record/);
    const h = new Database(db);
    expect(() => h.prepare('update events set status = 201 where seq = 3').run()).toThrow(/append-only/);
    const triggers = h.prepare("select name from sqlite_master where type = 'trigger' and tbl_name = 'events'").all() as Array<{ name: string }>;
    for (const t of triggers) h.exec(`drop trigger ${t.name}`);
    h.prepare('update events set status = 201 where seq = 3').run();
    h.close();
    const bad = warden('audit', 'verify', '--config', cfg);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('BROKEN at seq 3');
    expect(bad.stderr).toContain('hash_mismatch');
  });

  it('warden demo serves the SDK with the keys it prints, and stops cleanly on SIGINT', async () => {
    const demoDir = join(dir, 'demo');
    const proc = spawn(process.execPath, [BIN, 'demo', '--port', '0', '--data-dir', demoDir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const started = Date.now();
    while (!/Agent key: wdn_/.test(out)) {
      expect(Date.now() - started, out).toBeLessThan(15_000);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = /running at (http:\/\/\S+)/.exec(out)![1]!;
    const agent = /Agent key: (wdn_\w+)/.exec(out)![1]!;
    const admin = /Admin key: (wdn_\w+)/.exec(out)![1]!;
    const { default: OpenAI } = await import('openai');
    const c = new OpenAI({ baseURL: `${url}/v1`, apiKey: agent, maxRetries: 0 });
    const r = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'demo' }] });
    expect(r.choices[0]!.message.content).toBeTruthy();
    const audit = await fetch(`${url}/api/v1/audit?kind=llm.request`, { headers: { authorization: `Bearer ${admin}` } });
    expect(audit.status).toBe(200);
    proc.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('warden demo --config uses the file\'s store and refuses a bad file with exit 2', async () => {
    const bad = join(dir, 'bad-demo.yaml');
    writeFileSync(bad, 'storage:\n  url: 42\n');
    const r = spawnSync(process.execPath, [BIN, 'demo', '--port', '0', '--config', bad], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('storage.url');
  });

  it('npx warden works from the repository root', () => {
    const r = spawnSync('npx', ['--no-install', 'warden', '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('keys');
    expect(r.stdout).toContain('check-config');
  });
});
