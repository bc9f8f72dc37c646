import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, adminGet, flushed, freshPostgres, startStack } from './helpers.js';

/** The gateway end to end on the real local PostgreSQL server (fails, never skips, if it is down). */
let s: Stack;
let db: { url: string; drop(): Promise<void> };

beforeAll(async () => {
  db = await freshPostgres();
  s = await startStack({ storageUrl: db.url });
});
afterAll(async () => {
  await s?.close();
  await db?.drop();
});

describe('gateway on PostgreSQL', () => {
  it('proxies, records events with usage, and the chain verifies', async () => {
    const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: s.agentKey, maxRetries: 0 });
    const a = new Anthropic({ baseURL: s.url, apiKey: s.agentKey, maxRetries: 0 });
    for (let i = 0; i < 5; i++) await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `pg ${i}` }] });
    for await (const _ of await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'pg stream' }], stream: true })) void _;
    await a.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'pg' }] }).finalMessage();
    await flushed(s);
    const ev = (await adminGet(s, '/api/v1/audit?kind=llm.request&limit=100')).body.data;
    expect(ev).toHaveLength(7);
    expect(ev.every((e: any) => e.tokens_in > 0 && e.tokens_out > 0)).toBe(true);
    const v = (await adminGet(s, '/api/v1/audit/verify')).body;
    expect(v.ok).toBe(true);
    // The seven calls plus the admin's own audit query, which is audited too.
    expect(v.checked).toBeGreaterThanOrEqual(7);
    expect((await adminGet(s, '/health/detailed')).body.components.storage.kind).toBe('postgres');
  });

  it('a key revoked by the CLI in another process is refused by the running gateway', async () => {
    const cfg = join(s.dir, 'pg.yaml');
    writeFileSync(cfg, `storage:\n  url: ${db.url}\n`);
    const bin = resolve(import.meta.dirname, '../packages/warden/bin/warden.js');
    const created = spawnSync(process.execPath, [bin, 'keys', 'create', '--name', 'pg-cli', '--config', cfg], { encoding: 'utf8' });
    expect(created.status).toBe(0);
    const key = created.stdout.trim().split('\n').at(-1)!;
    const call = () => fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'text-embedding-3-small', input: 'x' }) });
    // Creation is seen via LISTEN/NOTIFY; allow the notification a moment to arrive.
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      status = (await call()).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
    const id = JSON.parse(spawnSync(process.execPath, [bin, 'keys', 'list', '--json', '--config', cfg], { encoding: 'utf8' }).stdout.split('\n').find((l) => l.includes('pg-cli'))!).id;
    expect(spawnSync(process.execPath, [bin, 'keys', 'revoke', id, '--config', cfg]).status).toBe(0);
    const started = Date.now();
    while ((await call()).status === 200) {
      expect(Date.now() - started).toBeLessThan(2000);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await call()).status).toBe(401);
  });

  it('audit verify names a row edited directly in PostgreSQL', async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await expect(c.query('update events set status = 299 where seq = 2')).rejects.toThrow(/append-only/);
      const triggers = await c.query("select tgname from pg_trigger where tgrelid = 'events'::regclass and not tgisinternal");
      for (const t of triggers.rows) await c.query(`alter table events disable trigger ${t.tgname}`);
      await c.query('update events set model = $1 where seq = 2', ['gpt-tampered']);
    } finally {
      await c.end();
    }
    const r = await adminGet(s, '/api/v1/audit/verify');
    expect(r.body.ok).toBe(false);
    expect(r.body.first_bad).toMatchObject({ seq: 2, reason: 'hash_mismatch' });
  });
});
