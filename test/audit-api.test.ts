import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, adminGet, flushed, startStack } from './helpers.js';

let s: Stack;
const N = 25;

beforeAll(async () => {
  s = await startStack();
  const agent = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: s.agentKey, maxRetries: 0 });
  const limited = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: s.limitedKey, maxRetries: 0 });
  for (let i = 0; i < N; i++) await agent.chat.completions.create({ model: i % 2 ? 'gpt-4o' : 'gpt-4o-mini', messages: [{ role: 'user', content: `q${i}` }] });
  await limited.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'denied' }] }).catch(() => undefined);
  await agent.chat.completions.create({ model: 'mock-error-500', messages: [{ role: 'user', content: 'x' }] }).catch(() => undefined);
  await flushed(s);
});
afterAll(async () => s?.close());

describe('GET /api/v1/audit', () => {
  it('pages through every event exactly once with cursors, newest first', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const r: any = await adminGet(s, `/api/v1/audit?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.data.map((e: any) => e.seq));
      cursor = r.body.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
    expect(seen.length).toBeGreaterThanOrEqual(N + 2);
  });

  it('filters by kind, model, status, decision, key and time range', async () => {
    const byModel = (await adminGet(s, '/api/v1/audit?model=gpt-4o&limit=100')).body.data;
    expect(byModel).toHaveLength(Math.floor(N / 2));
    expect(byModel.every((e: any) => e.model === 'gpt-4o')).toBe(true);

    const denied = (await adminGet(s, '/api/v1/audit?decision=deny&limit=100')).body.data;
    expect(denied.map((e: any) => [e.model, e.status])).toEqual([['gpt-4.1', 403]]);

    const failed = (await adminGet(s, '/api/v1/audit?status=500&limit=100')).body.data;
    expect(failed.map((e: any) => e.model)).toEqual(['mock-error-500']);

    const limitedId = (await s.gateway.storage.listKeys()).find((k) => k.name === 'limited')!.id;
    const byKey = (await adminGet(s, `/api/v1/audit?key_id=${limitedId}&limit=100`)).body.data;
    expect(byKey).toHaveLength(1);

    const kinds = (await adminGet(s, '/api/v1/audit?kind=llm.request,auth.failure&limit=1000')).body.data;
    expect(kinds.every((e: any) => ['llm.request', 'auth.failure'].includes(e.kind))).toBe(true);

    const all = (await adminGet(s, '/api/v1/audit?order=asc&kind=llm.request&limit=1000')).body.data;
    const mid = all[10];
    const range = (await adminGet(s, `/api/v1/audit?kind=llm.request&from=${encodeURIComponent(mid.time)}&to=${Date.parse(all[15].time)}&limit=100`)).body.data;
    expect(range.length).toBeGreaterThanOrEqual(1);
    expect(range.every((e: any) => e.time >= mid.time && Date.parse(e.time) < Date.parse(all[15].time))).toBe(true);
  });

  it('events carry the full record: ids, timings, tokens, cost, caller and chain hashes', async () => {
    const e = (await adminGet(s, '/api/v1/audit?model=gpt-4o-mini&limit=1')).body.data[0];
    expect(e).toMatchObject({ kind: 'llm.request', method: 'POST', route: '/v1/chat/completions', status: 200, provider: 'mock-openai', decision: 'allow', client_ip: '127.0.0.1', org_id: 'default' });
    expect(e.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(e.key_id).toMatch(/^key_/);
    expect(e.user_agent).toMatch(/OpenAI/);
    expect(e.tokens_in).toBeGreaterThan(0);
    expect(e.cost_usd).toBeGreaterThan(0);
    expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(e.prev_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('GET /api/v1/audit/export', () => {
  it('streams JSONL with one event per line, oldest first', async () => {
    const r = await fetch(`${s.url}/api/v1/audit/export?format=jsonl&kind=llm.request`, { headers: { authorization: `Bearer ${s.adminKey}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('application/x-ndjson');
    expect(r.headers.get('content-disposition')).toMatch(/attachment; filename="warden-audit-.*\.jsonl"/);
    const lines = (await r.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(N + 2);
    expect(lines.every((l) => l.kind === 'llm.request')).toBe(true);
    expect(lines.map((l) => l.seq)).toEqual([...lines.map((l) => l.seq)].sort((a, b) => a - b));
  });

  it('streams CSV with a header row and quoted fields', async () => {
    const r = await fetch(`${s.url}/api/v1/audit/export?format=csv&model=gpt-4o`, { headers: { authorization: `Bearer ${s.adminKey}` } });
    expect(r.headers.get('content-type')).toContain('text/csv');
    const rows = (await r.text()).trim().split('\r\n');
    expect(rows[0]!.startsWith('seq,id,time,request_id')).toBe(true);
    expect(rows).toHaveLength(1 + Math.floor(N / 2));
    const text = rows.join('\n');
    expect(text).not.toContain(s.agentKey);
  });

  it('rejects an unknown format with 400', async () => {
    const r = await adminGet(s, '/api/v1/audit/export?format=xml');
    expect(r.status).toBe(400);
    expect(r.body.error.type).toBe('validation');
  });
});

describe('GET /api/v1/audit/verify', () => {
  it('reports an intact chain with its head', async () => {
    const r = await adminGet(s, '/api/v1/audit/verify');
    expect(r.body).toMatchObject({ ok: true, first_bad: null });
    expect(r.body.checked).toBeGreaterThanOrEqual(N);
    expect(r.body.head_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('key management API', () => {
  it('creates a key once-visible, lists it without secrets, revokes it for the next request, and audits both', async () => {
    const created = await fetch(`${s.url}/api/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'api-made', role: 'user', models: ['gpt-4o-mini'] }) });
    expect(created.status).toBe(201);
    const k: any = await created.json();
    expect(k.key).toMatch(/^wdn_/);
    const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: k.key, maxRetries: 0 });
    await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    const list = await adminGet(s, '/api/v1/keys');
    expect(JSON.stringify(list.body)).not.toContain(k.key);
    expect(JSON.stringify(list.body)).not.toContain('hash');
    const del = await fetch(`${s.url}/api/v1/keys/${k.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${s.adminKey}` } });
    expect(del.status).toBe(200);
    const after = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(after.status).toBe(401);
    const missing = await fetch(`${s.url}/api/v1/keys/key_nope`, { method: 'DELETE', headers: { authorization: `Bearer ${s.adminKey}` } });
    expect(missing.status).toBe(404);
    await flushed(s);
    const admin = (await adminGet(s, '/api/v1/audit?kind=admin.key.create,admin.key.revoke&limit=10')).body.data;
    expect(admin.map((e: any) => e.kind).sort()).toEqual(['admin.key.create', 'admin.key.revoke', 'admin.key.revoke']);
    expect(JSON.stringify(admin)).not.toContain(k.key);
  });
});
