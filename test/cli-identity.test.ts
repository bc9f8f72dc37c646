import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MockUpstream, startMockUpstream } from '@warden/mock-upstream';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../packages/warden/src/identity/index.js';
import { BIN, startWarden } from './cli-helpers.js';

let dir: string;
let cfg: string;
let mock: MockUpstream;

function warden(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args, '--config', cfg], { cwd: dir, encoding: 'utf8', timeout: 20_000, input, env: { ...process.env, WARDEN_CONFIG: '', WARDEN_MASTER_KEY: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const lastLine = (s: string) => s.trim().split('\n').at(-1)!;

async function withServer<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const w = await startWarden(cfg, dir, { ...process.env, WARDEN_MASTER_KEY: '' });
  try {
    return await fn(w.url);
  } finally {
    w.proc.kill('SIGTERM');
    await w.exited;
  }
}

const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warden-cli-id-'));
  mock = await startMockUpstream({ apiKey: 'sk-cli' });
  cfg = join(dir, 'warden.yaml');
  writeFileSync(
    cfg,
    `server: { host: 127.0.0.1, port: 0 }\nstorage: { url: "sqlite:${join(dir, 'data/warden.db')}" }\nproviders:\n  - { name: mock, type: openai, base_url: "${mock.url}/v1", api_key: sk-cli, models: ["gpt-*"] }\n`,
  );
});
afterAll(async () => {
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('warden CLI: orgs, users, secrets', () => {
  it('creates an org, a key in it and a user whose generated password signs in; unknown orgs are refused with exit 2', async () => {
    expect(warden(['orgs', 'create', '--name', 'Acme', '--id', 'acme']).code).toBe(0);
    expect(warden(['orgs', 'list']).stdout).toContain('acme\tAcme');
    const admin = lastLine(warden(['keys', 'create', '--name', 'acme-admin', '--role', 'admin', '--org', 'acme']).stdout);
    const nope = warden(['keys', 'create', '--name', 'x', '--org', 'nope']);
    expect(nope.code).toBe(2);
    expect(nope.stderr).toContain('no organization "nope"');
    const made = warden(['users', 'create', '--username', 'ana@acme.test', '--role', 'user', '--org', 'acme']);
    expect(made.code).toBe(0);
    const password = lastLine(made.stdout);
    const piped = warden(['users', 'create', '--username', 'bo@acme.test', '--org', 'acme', '--password-stdin'], 'short\n');
    expect(piped.code).toBe(2); // password policy
    await withServer(async (url) => {
      const login = await fetch(`${url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: 'ana@acme.test', password }) });
      expect(login.status).toBe(200);
      const t = (await login.json()) as { access_token: string; user: { org_id: string } };
      expect(t.user.org_id).toBe('acme');
      const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${t.access_token}`, 'content-type': 'application/json' }, body });
      expect(r.status).toBe(200);
      const users = (await (await fetch(`${url}/api/v1/users`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { data: { username: string }[] };
      expect(users.data.map((u) => u.username)).toEqual(['ana@acme.test']);
    });
  }, 60_000);

  it('rotate-master-key re-seals stored secrets under a new key; signed requests keep working and nothing is left on the old key', async () => {
    const admin = lastLine(warden(['keys', 'create', '--name', 'rot-admin', '--role', 'admin']).stdout);
    const secret = await withServer(async (url) => {
      const r = await fetch(`${url}/api/v1/signing-secrets`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ci' }) });
      expect(r.status).toBe(201);
      return (await r.json()) as { id: string; secret: string };
    });
    const keyFile = join(dir, 'data/master.key');
    expect(statSync(keyFile).mode & 0o077).toBe(0);
    const sealedBefore = new Database(join(dir, 'data/warden.db'), { readonly: true }).prepare('SELECT sealed FROM signing_secrets WHERE id = ?').pluck().get(secret.id) as string;
    expect(sealedBefore).not.toContain(secret.secret);
    const rotated = warden(['secrets', 'rotate-master-key']);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/re-sealed [1-9]/);
    const db = new Database(join(dir, 'data/warden.db'), { readonly: true });
    const sealedAfter = db.prepare('SELECT sealed FROM signing_secrets WHERE id = ?').pluck().get(secret.id) as string;
    db.close();
    expect(sealedAfter.split(':')[2]).not.toBe(sealedBefore.split(':')[2]); // sealed by another key id
    expect(warden(['secrets', 'rotate-master-key', '--resume', '--drop-previous']).code).toBe(0);
    const keyLines = readFileSync(keyFile, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    expect(keyLines).toHaveLength(1);
    await withServer(async (url) => {
      const path = '/v1/chat/completions';
      const headers = signRequest({ secret: secret.secret, keyId: secret.id, method: 'POST', path, body });
      const r = await fetch(url + path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
      expect(r.status).toBe(200);
    });
  }, 60_000);

  it('secrets seal encrypts a provider key for the config: the gateway opens it, and an envelope moved to another provider stops the start', async () => {
    const sealed = warden(['secrets', 'seal', '--provider', 'mock'], 'sk-cli');
    expect(sealed.code).toBe(0);
    const envelope = lastLine(sealed.stdout);
    expect(envelope).toMatch(/^wdn-sec:v1:/);
    expect(envelope).not.toContain('sk-cli');
    const plain = readFileSync(cfg, 'utf8');
    try {
      // The mock accepts only its own key, so a 200 proves the envelope was opened for the upstream call.
      writeFileSync(cfg, plain.replace('api_key: sk-cli', `api_key: "${envelope}"`));
      const admin = lastLine(warden(['keys', 'create', '--name', 'seal-admin']).stdout);
      await withServer(async (url) => {
        const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body });
        expect(r.status).toBe(200);
      });
      writeFileSync(cfg, plain.replace('name: mock', 'name: other').replace('api_key: sk-cli', `api_key: "${envelope}"`));
      const start = spawnSync(process.execPath, [BIN, 'start', '--config', cfg], { cwd: dir, encoding: 'utf8', timeout: 20_000, env: { ...process.env, WARDEN_MASTER_KEY: '' } });
      expect(start.status).toBe(2);
      expect(start.stderr).toContain('providers "other"');
      expect(start.stderr).not.toContain('sk-cli');
    } finally {
      writeFileSync(cfg, plain);
    }
  }, 60_000);

  it('a gateway started with another master key than the one that sealed the database refuses to start, saying so', () => {
    const r = spawnSync(process.execPath, [BIN, 'start', '--config', cfg], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, WARDEN_MASTER_KEY: 'ab'.repeat(32) },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('sealed with a master key this gateway does not have');
    expect(r.stderr).not.toContain('ab'.repeat(32));
  });
});
