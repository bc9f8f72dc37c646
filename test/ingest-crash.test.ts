import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signRequest } from '../packages/warden/src/identity/index.js';
import { BIN, startWarden, type WardenProcess } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-crash-'));
const cfg = join(dir, 'warden.yaml');
writeFileSync(
  cfg,
  [
    'server: { host: 127.0.0.1, port: 0, body_limit_bytes: 1048576 }',
    `storage: { url: "sqlite:${join(dir, 'warden.db')}" }`,
    'log: { level: info }',
    'limits: { roles: { admin: null, agent: null } }',
    'providers:',
    '  - { name: none, type: openai, base_url: "http://127.0.0.1:9/v1", api_key: "x", models: ["*"] }',
    '',
  ].join('\n'),
);
let running: WardenProcess | undefined;
afterAll(() => {
  running?.proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const BATCH = 50;
const CLIENTS = 8;
const batchBody = (client: number, from: number) =>
  JSON.stringify({
    events: Array.from({ length: BATCH }, (_, i) => ({ seq: from + i, t: Date.now(), actor: 'agent', type: 'reasoning', payload: { text: `client ${client} step ${from + i}` }, meta: { idempotency_key: `c${client}-${from + i}` } })),
  });

describe('a crash while signed batches are being ingested', () => {
  it('kill -9 mid-load, restart: every acknowledged event is there exactly once, and retries of the rest add each once', async () => {
    const created = spawnSync(process.execPath, [BIN, 'keys', 'create', '--name', 'crash', '--role', 'admin', '--config', cfg], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    expect(created.status, created.stderr).toBe(0);
    const adminKey = created.stdout.trim().split('\n').at(-1)!.trim();
    running = await startWarden(cfg, dir);
    const api = async (url: string, method: string, path: string, body?: unknown) => {
      const r = await fetch(url + path, { method, headers: { authorization: `Bearer ${adminKey}`, ...(body !== undefined && { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as any };
    };
    const made = await api(running.url, 'POST', '/api/v1/signing-secrets', { name: 'crash-agent' });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const secret = made.body as { id: string; secret: string };
    expect((await api(running.url, 'POST', '/api/v1/runs', { id: 'crash-run', agent: 'loader' })).status).toBe(201);

    const path = '/api/v1/runs/crash-run/events';
    const send = async (url: string, body: string) => {
      const headers = signRequest({ secret: secret.secret, keyId: secret.id, method: 'POST', path, body });
      const r = await fetch(url + path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
      return { status: r.status, body: (await r.json()) as any };
    };
    const acked = new Set<string>();
    const unacked: string[] = [];
    const url = running.url;
    let stop = false;
    const clients = Array.from({ length: CLIENTS }, async (_, c) => {
      for (let from = 1; !stop; from += BATCH) {
        const body = batchBody(c, from);
        let r: { status: number; body: any };
        try {
          r = await send(url, body);
        } catch {
          unacked.push(body); // the connection died with the process: not acknowledged
          return;
        }
        if (r.status !== 202) throw new Error(`a batch answered ${r.status}: ${JSON.stringify(r.body)}`);
        for (let i = 0; i < BATCH; i++) acked.add(`c${c}-${from + i}`);
      }
    });
    // Let the load run, then kill the process without warning while batches are in flight.
    const failed = Promise.all(clients).then(() => undefined);
    const deadline = Date.now() + 20_000;
    while (acked.size < 20 * BATCH && Date.now() < deadline) await Promise.race([new Promise((r) => setTimeout(r, 20)), failed]);
    expect(acked.size).toBeGreaterThanOrEqual(20 * BATCH);
    running.proc.kill('SIGKILL');
    await running.exited;
    stop = true;
    await Promise.all(clients);
    expect(unacked.length).toBeGreaterThan(0);

    running = await startWarden(cfg, dir);
    // Every stored event's key, page by page.
    const keysOf = async () => {
      const keys: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { events: Array<{ meta: { idempotency_key: string } }>; next_cursor: string | null } = (await api(running!.url, 'GET', `/api/v1/runs/crash-run/trace?limit=10000${cursor ? `&cursor=${cursor}` : ''}`)).body;
        keys.push(...page.events.map((e) => e.meta.idempotency_key));
        cursor = page.next_cursor;
      } while (cursor);
      return keys;
    };
    const after = await keysOf();
    const counts = new Map<string, number>();
    for (const k of after) counts.set(k, (counts.get(k) ?? 0) + 1);
    for (const k of acked) expect(counts.get(k), `acknowledged ${k}`).toBe(1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    // The clients retry what was never acknowledged: each event ends up stored once.
    for (const body of unacked) expect((await send(running.url, body)).status).toBe(202);
    const final = await keysOf();
    const expected = new Set([...acked, ...unacked.flatMap((b) => (JSON.parse(b).events as Array<{ meta: { idempotency_key: string } }>).map((e) => e.meta.idempotency_key))]);
    expect(final.length).toBe(expected.size);
    expect(new Set(final)).toEqual(expected);
    expect((await api(running.url, 'GET', '/api/v1/runs/crash-run')).body.events).toBe(expected.size);
  }, 60_000);
});
