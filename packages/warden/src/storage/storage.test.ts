import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chainHash, GENESIS_HASH, serializeDetail } from '../audit/chain.js';
import { blankEvent, type WardenEvent } from '../events/event.js';
import { openStorage, type KeyRecord, type Storage } from './index.js';
import type { PostgresStorage } from './postgres.js';
import type { SqliteStorage } from './sqlite.js';
import { postgresBackend, sqliteBackend } from './test-backends.js';

async function exec(store: Storage, text: string): Promise<unknown[]> {
  const { rows } = await sql.raw(text).execute((store as SqliteStorage | PostgresStorage).db);
  return rows as unknown[];
}

let counter = 0;
function event(over: Partial<WardenEvent> = {}): WardenEvent {
  counter++;
  return {
    ...blankEvent(),
    id: `evt-${String(counter).padStart(8, '0')}-${randomUUID()}`,
    ts: 1_700_000_000_000 + counter,
    requestId: `req-${counter}`,
    kind: 'api.request',
    ...over,
  };
}

function events(n: number, over: Partial<WardenEvent> = {}): WardenEvent[] {
  return Array.from({ length: n }, () => event(over));
}

function key(over: Partial<KeyRecord> = {}): KeyRecord {
  const id = randomUUID();
  return {
    id,
    name: `key ${id.slice(0, 4)}`,
    role: 'agent',
    prefix: 'wdn_AbCd',
    hash: randomUUID().replaceAll('-', '').repeat(2),
    orgId: 'org-1',
    projectId: null,
    models: ['gpt-4o*', 'claude-*'],
    createdAt: 1_700_000_000_000,
    revokedAt: null,
    ...over,
  };
}

async function waitFor(read: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await read()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function collect(store: Storage, order: 'asc' | 'desc', limit: number): Promise<number[]> {
  const seqs: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.queryEvents({ limit, order, ...(cursor === undefined ? {} : { cursor }) });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    seqs.push(...page.items.map((e) => e.seq));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return seqs;
}

describe.each([sqliteBackend(), postgresBackend()])('$name storage', (backend) => {
  const opened: Storage[] = [];
  beforeAll(() => backend.setup(), 15_000);
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  afterAll(() => backend.teardown(), 30_000);

  async function open(url: string): Promise<Storage> {
    const store = await openStorage(url);
    opened.push(store);
    return store;
  }

  async function fresh(): Promise<{ url: string; store: Storage }> {
    const url = await backend.freshUrl();
    const store = await open(url);
    await store.migrate();
    return { url, store };
  }

  it('migrate applies every migration once and then nothing; migrationStatus shows nothing pending', async () => {
    const store = await open(await backend.freshUrl());
    const all = ['0001_init', '0002_tenancy_identity', '0003_limit_rules', '0004_traces', '0005_run_evaluation_progress', '0006_spans', '0007_mcp_servers'];
    expect(await store.migrationStatus()).toEqual({ applied: [], pending: all });
    expect(await store.migrate()).toEqual(all);
    expect(await store.migrate()).toEqual([]);
    expect(await store.migrationStatus()).toEqual({ applied: all, pending: [] });
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('creates keys, finds one by hash and lists them all', async () => {
    const { store } = await fresh();
    const a = key({ createdAt: 1 });
    const b = key({ createdAt: 2, role: 'admin', models: null });
    await store.createKey(a);
    await store.createKey(b);
    expect(await store.findKeyByHash(b.hash)).toEqual(b);
    expect(await store.findKeyByHash('0'.repeat(64))).toBeUndefined();
    expect(await store.listKeys()).toEqual([a, b]);
  });

  it('revokes a key once: revokedAt is set and kept on a second revoke; an unknown id gives undefined', async () => {
    const { store } = await fresh();
    const k = key();
    await store.createKey(k);
    expect(await store.revokeKey(k.id, 1000)).toEqual({ ...k, revokedAt: 1000 });
    expect(await store.revokeKey(k.id, 2000)).toEqual({ ...k, revokedAt: 1000 });
    expect(await store.findKeyByHash(k.hash)).toEqual({ ...k, revokedAt: 1000 });
    expect(await store.revokeKey('no-such-key', 1000)).toBeUndefined();
  });

  it('keysRevision changes after a create and after a revoke', async () => {
    const { store } = await fresh();
    const r0 = await store.keysRevision();
    const k = key();
    await store.createKey(k);
    const r1 = await store.keysRevision();
    expect(r1).not.toBe(r0);
    await store.revokeKey(k.id, 5);
    expect(await store.keysRevision()).not.toBe(r1);
  });

  it('keysRevision changes when a second instance on the same database creates or revokes a key', async () => {
    const { url, store: gateway } = await fresh();
    const cli = await open(url);
    const k = key();
    for (const change of [() => cli.createKey(k), () => cli.revokeKey(k.id, 7)]) {
      const before = await gateway.keysRevision();
      await change();
      expect(await waitFor(async () => (await gateway.keysRevision()) !== before, 2000)).toBe(true);
    }
  });

  it('appendEvents then queryEvents round-trips every field exactly, including nulls', async () => {
    const { store } = await fresh();
    const full = event({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736', kind: 'llm.request', method: 'POST',
      route: '/v1/chat/completions', status: 200, durationMs: 123.456, upstreamMs: 100.25,
      ttftMs: 0.5, keyId: 'key-1', userId: 'user-1', agentId: 'agent-1', orgId: 'org-1',
      model: 'gpt-4o-mini', provider: 'openai', tokensIn: 12, tokensOut: 34, costUsd: 0.000123,
      clientIp: '::1', userAgent: 'openai-python/1.0 ✓', errorType: 'upstream',
      errorCode: 'upstream_timeout', decision: 'allow',
      detail: { z: 1, a: [1, 'two', null, { nested: true }], emoji: '🦉', float: 1e-7, empty: {} },
    });
    const blank = event();
    await store.appendEvents([full, blank]);
    const { items } = await store.queryEvents({ limit: 10, order: 'asc' });
    const first = chainHash(GENESIS_HASH, full, serializeDetail(full.detail));
    expect(items).toEqual([
      { ...full, seq: items[0]?.seq, prevHash: GENESIS_HASH, hash: first },
      { ...blank, seq: items[1]?.seq, prevHash: first, hash: chainHash(first, blank, null) },
    ]);
    expect(Object.keys(items[0]?.detail ?? {})).toEqual(['z', 'a', 'emoji', 'float', 'empty']);
    expect(typeof items[0]?.seq).toBe('number');
    expect(typeof items[0]?.ts).toBe('number');
  });

  it('stores NUL, lone surrogates, fractional counts and NaN without failing the batch or the chain', async () => {
    const { store } = await fresh();
    const odd = event({ model: 'gpt\u0000x\ud800', userAgent: '\udc00', tokensIn: 1.6, costUsd: Number.NaN });
    await store.appendEvents([odd, event()]);
    const { items } = await store.queryEvents({ limit: 10, order: 'asc' });
    expect(items[0]).toMatchObject({ model: 'gpt\ufffdx\ufffd', userAgent: '\ufffd', tokensIn: 2, costUsd: null });
    expect((await store.verifyAudit()).ok).toBe(true);
  });

  it('filters by time range, kinds, key, model, status and decision', async () => {
    const { store } = await fresh();
    await store.appendEvents([
      event({ ts: 1000, kind: 'llm.request', keyId: 'k1', model: 'm1', status: 200, decision: 'allow' }),
      event({ ts: 2000, kind: 'auth.failure', keyId: 'k2', model: 'm2', status: 401, decision: 'deny' }),
      event({ ts: 3000, kind: 'api.request', keyId: 'k1', model: 'm2', status: 200, decision: null }),
    ]);
    const ids = async (q: Record<string, unknown>): Promise<number[]> =>
      (await store.queryEvents({ limit: 100, order: 'asc', ...q })).items.map((e) => e.ts);
    expect(await ids({ from: 2000 })).toEqual([2000, 3000]);
    expect(await ids({ to: 2000 })).toEqual([1000]);
    expect(await ids({ from: 1000, to: 3000 })).toEqual([1000, 2000]);
    expect(await ids({ kinds: ['llm.request', 'api.request'] })).toEqual([1000, 3000]);
    expect(await ids({ kinds: [] })).toEqual([1000, 2000, 3000]);
    expect(await ids({ keyId: 'k1' })).toEqual([1000, 3000]);
    expect(await ids({ model: 'm2' })).toEqual([2000, 3000]);
    expect(await ids({ status: 401 })).toEqual([2000]);
    expect(await ids({ decision: 'allow' })).toEqual([1000]);
    expect(await ids({ keyId: 'k1', model: 'm2', status: 200 })).toEqual([3000]);
    expect(await ids({})).toEqual([1000, 2000, 3000]);
    expect((await store.queryEvents({ limit: 100 })).items.map((e) => e.ts)).toEqual([3000, 2000, 1000]);
  });

  it('cursor pagination returns every row exactly once, in order, in both directions', async () => {
    const { store } = await fresh();
    await store.appendEvents(events(23));
    const asc = await collect(store, 'asc', 5);
    expect(asc).toHaveLength(23);
    expect([...asc].sort((a, b) => a - b)).toEqual(asc);
    expect(await collect(store, 'desc', 5)).toEqual([...asc].reverse());
    expect(await collect(store, 'asc', 23)).toEqual(asc);
  });

  it('rejects a malformed cursor with code invalid_cursor', async () => {
    const { store } = await fresh();
    for (const cursor of ['', 'not a cursor!', Buffer.from('abc').toString('base64url'), 'MTI=', 'LTE', 'MDE']) {
      await expect(store.queryEvents({ limit: 10, cursor }), cursor).rejects.toMatchObject({ code: 'invalid_cursor' });
    }
  });

  it('a batch retried after it committed (lost acknowledgement) is not written twice and does not wedge later batches', async () => {
    const { store } = await fresh();
    const batch = events(5);
    await store.appendEvents(batch);
    await store.appendEvents(batch); // the writer retries: it never saw the first commit's answer
    await store.appendEvents(events(3));
    const { items } = await store.queryEvents({ limit: 100 });
    expect(items).toHaveLength(8);
    expect(await store.verifyAudit()).toMatchObject({ ok: true, checked: 8 });
  });

  it('verifyAudit reports ok on an empty log and on thousands of events appended in many batches', async () => {
    const { store } = await fresh();
    expect(await store.verifyAudit()).toEqual({ ok: true, checked: 0, headHash: GENESIS_HASH });
    let appended = 0;
    for (let i = 0; i < 60; i++) {
      const batch = events(50 + (i % 7));
      await store.appendEvents(batch);
      appended += batch.length;
    }
    const head = (await store.queryEvents({ limit: 1 })).items[0];
    expect(appended).toBeGreaterThan(3000);
    expect(await store.verifyAudit()).toEqual({ ok: true, checked: appended, headHash: head?.hash });
  });

  it('two instances appending interleaved batches concurrently still give a chain that verifies', async () => {
    const { url, store: a } = await fresh();
    const b = await open(url);
    const runs = ['a1', 'b1', 'a2', 'b2'].map((tag) => ({
      store: tag.startsWith('a') ? a : b,
      batches: Array.from({ length: 15 }, () => events(40, { agentId: tag })),
    }));
    await Promise.all(
      runs.map(async ({ store, batches }) => {
        for (const batch of batches) await store.appendEvents(batch);
      }),
    );
    expect(await a.verifyAudit()).toMatchObject({ ok: true, checked: 2400 });
    const stored: WardenEvent[] = [];
    let cursor: string | null = null;
    do {
      const page = await b.queryEvents({ limit: 1000, order: 'asc', ...(cursor === null ? {} : { cursor }) });
      stored.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    for (const { batches } of runs) {
      const tag = batches[0]?.[0]?.agentId;
      expect(stored.filter((e) => e.agentId === tag).map((e) => e.id)).toEqual(batches.flat().map((e) => e.id));
    }
  });

  it('the database rejects UPDATE and DELETE on events', async () => {
    const { store } = await fresh();
    await store.appendEvents(events(3));
    await expect(exec(store, 'UPDATE events SET status = 500')).rejects.toThrow(/append-only/);
    await expect(exec(store, 'DELETE FROM events')).rejects.toThrow(/append-only/);
    if (backend.name === 'postgres') await expect(exec(store, 'TRUNCATE events')).rejects.toThrow(/append-only/);
    expect((await store.queryEvents({ limit: 10 })).items).toHaveLength(3);
  });

  it('verifyAudit reports exactly the edited row as hash_mismatch once the trigger is bypassed', async () => {
    const { store } = await fresh();
    for (let i = 0; i < 5; i++) await store.appendEvents(events(20, { status: 200 }));
    const target = (await store.queryEvents({ limit: 100, order: 'asc' })).items[41];
    for (const text of backend.dropTriggers) await exec(store, text);
    await exec(store, `UPDATE events SET status = 201 WHERE seq = ${target?.seq}`);
    expect(await store.verifyAudit()).toEqual({
      ok: false,
      checked: 42,
      headHash: (await store.queryEvents({ limit: 100, order: 'asc' })).items[40]?.hash,
      firstBad: { seq: target?.seq, id: target?.id, reason: 'hash_mismatch' },
    });
  });

  it('verifyAudit reports the row after a deleted one as broken_link', async () => {
    const { store } = await fresh();
    await store.appendEvents(events(10));
    const rows = (await store.queryEvents({ limit: 100, order: 'asc' })).items;
    for (const text of backend.dropTriggers) await exec(store, text);
    await exec(store, `DELETE FROM events WHERE seq = ${rows[5]?.seq}`);
    expect(await store.verifyAudit()).toMatchObject({
      ok: false,
      firstBad: { seq: rows[6]?.seq, id: rows[6]?.id, reason: 'broken_link' },
    });
  });

  if (backend.name === 'postgres') {
    it('keeps keysRevision fresh and raises no unhandled error when its connections are killed', async () => {
      const { url, store: gateway } = await fresh();
      const cli = await open(url);
      const dbName = new URL(url).pathname.slice(1);
      await gateway.keysRevision();
      const listening = async () =>
        (await exec(cli, `SELECT 1 FROM pg_stat_activity WHERE datname = '${dbName}' AND application_name = 'warden-keys-listener'`)).length === 1;
      expect(await waitFor(listening, 2000)).toBe(true);
      await exec(cli, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName}' AND pid <> pg_backend_pid()`);
      const before = await gateway.keysRevision();
      await cli.createKey(key());
      expect(await waitFor(async () => (await gateway.keysRevision()) !== before, 2000)).toBe(true);
      expect(await waitFor(listening, 5000)).toBe(true);
      await expect(gateway.ping()).resolves.toBeUndefined();
    });
  }
}, 30_000);
