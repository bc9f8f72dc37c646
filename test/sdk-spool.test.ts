import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { WardenClient, type WardenClientOptions, type WardenSdkError } from '@warden/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../packages/warden/src/config/index.js';
import { type Gateway, startGateway } from '../packages/warden/src/gateway.js';
import { newKey } from '../packages/warden/src/identity/index.js';
import { type Stack, startStack } from './helpers.js';
import { countingFetch, eventually, freePort, spoolFiles, startFaultProxy, tempDir, traceOf } from './sdk-helpers.js';

const dir = tempDir('warden-sdk-spool-');
let gateway: Gateway | undefined;
const clients: WardenClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close({ timeoutMs: 500 })));
  await gateway?.close();
  dir.remove();
});

/** Warden on a fixed port and SQLite file, so a restart is the same server with the same data. */
function startWarden(port: number, db: string): Promise<Gateway> {
  const yaml = stringify({
    server: { host: '127.0.0.1', port },
    storage: { url: `sqlite:${db}` },
    log: { level: 'silent' },
    events: { flush_interval_ms: 5 },
    providers: [{ name: 'none', type: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: 'x', models: ['*'] }],
  });
  return startGateway(parseConfig(yaml, 'test', {}), { logDestination: new Writable({ write: (_c, _e, cb) => cb() }) });
}

function exactlyOnce(events: any[], runId: string, n: number): void {
  expect(events.map((e) => e.meta.idempotency_key)).toEqual(Array.from({ length: n }, (_, i) => `${runId}:${i + 1}`));
  expect(events.map((e) => e.payload.text)).toEqual(Array.from({ length: n }, (_, i) => `${runId} step ${i + 1}`));
}

describe('Warden down and back up', () => {
  it('spools while Warden is down, across a restart of the client, and replays every event exactly once when it is back', async () => {
    const port = await freePort();
    const db = join(dir.path, 'warden.db');
    const spoolDir = join(dir.path, 'spool');
    gateway = await startWarden(port, db);
    const k = newKey('sdk-spool', 'agent', null);
    await gateway.storage.createKey(k.record); // kept in the database file across the restart
    const url = `http://127.0.0.1:${port}`;
    const errors: WardenSdkError[] = [];
    const options: WardenClientOptions = {
      url,
      apiKey: k.key,
      spoolDir,
      maxBatchEvents: 5,
      flushIntervalMs: 20,
      retry: { maxAttempts: 2, baseMs: 5, maxMs: 20 },
      circuit: { failureThreshold: 2, cooldownMs: 150 },
      onError: (e) => errors.push(e),
    };
    const step = (run: { id: string; reasoning(t: string): number }, from: number, to: number) => {
      for (let i = from; i <= to; i++) run.reasoning(`${run.id} step ${i}`);
    };

    // Up: the first 10 events are delivered.
    const first = new WardenClient(options);
    clients.push(first);
    const a = first.startRun({ agent: 'spool-a', id: 'spool-run-a' });
    step(a, 1, 10);
    await first.flush();
    expect(first.stats()).toMatchObject({ queuedEvents: 0, spooledBatches: 0 });
    expect((await traceOf(url, k.key, a.id)).events).toHaveLength(10);

    // Down: the next 20 and the finalize go to disk; the process "exits".
    await gateway.close();
    gateway = undefined;
    step(a, 11, 30);
    expect(await a.finish()).toBeNull();
    await first.close();
    expect(spoolFiles(spoolDir).length).toBeGreaterThanOrEqual(5);

    // A new process on the same spool, still down: its own run is spooled behind the first's.
    const counted = countingFetch();
    const second = new WardenClient({ ...options, fetch: counted.fetch });
    clients.push(second);
    const b = second.startRun({ agent: 'spool-b', id: 'spool-run-b' });
    step(b, 1, 12);
    const bFinished = b.finish();
    expect(await bFinished).toBeNull();
    await eventually(() => second.stats().queuedEvents === 0, 3000, 'the second client to spool');
    const spooled = spoolFiles(spoolDir);
    expect(spooled).toHaveLength(10);
    // Keep copies, to replay them again after they were delivered.
    const copies = join(dir.path, 'copies');
    mkdirSync(copies);
    for (const f of spooled) copyFileSync(join(spoolDir, f), join(copies, f));

    // Back up, same port and database: the waiting client's next probe replays the spool, oldest first.
    const upAt = Date.now();
    gateway = await startWarden(port, db);
    await eventually(() => second.stats().spooledBatches === 0 && second.stats().circuit === 'closed', 5000, 'the spool to drain');
    await second.close();
    expect(spoolFiles(spoolDir)).toEqual([]);
    const runA = await traceOf(url, k.key, a.id);
    const runB = await traceOf(url, k.key, b.id);
    exactlyOnce(runA.events, a.id, 30);
    exactlyOnce(runB.events, b.id, 12);
    expect(runA.run).toMatchObject({ status: 'completed', events: 30, last_seq: 30 });
    expect(runB.run).toMatchObject({ status: 'completed', events: 12 });
    // The finalize came after every event: the evaluation saw all 30 and no missing step (only the absent final_output).
    expect(runA.run.evaluation).toMatchObject({ events: 30, findings: [{ check: 'final_output' }] });
    // Each spooled request was replayed once, in the order it was recorded.
    const batch = '/api/v1/trace-events/batch';
    expect(counted.sent.filter((r) => r.at >= upAt).map((r) => r.path)).toEqual([batch, batch, batch, batch, '/api/v1/runs/spool-run-a/finalize', '/api/v1/runs', batch, batch, batch, '/api/v1/runs/spool-run-b/finalize']);
    expect(errors).toEqual([]);

    // A process that died after sending but before deleting leaves files Warden already has:
    // a client starting on them replays them, and nothing is stored twice.
    for (const f of spooled) copyFileSync(join(copies, f), join(spoolDir, f));
    const replay = countingFetch();
    const third = new WardenClient({ ...options, fetch: replay.fetch });
    clients.push(third);
    await eventually(() => spoolFiles(spoolDir).length === 0, 5000, 'the replay on start');
    await third.close();
    expect(replay.sent).toHaveLength(spooled.length);
    exactlyOnce((await traceOf(url, k.key, a.id)).events, a.id, 30);
    exactlyOnce((await traceOf(url, k.key, b.id)).events, b.id, 12);
    expect(errors).toEqual([]);
  });
});

describe('limits of delivery without Warden', () => {
  it('close() with Warden unreachable and no spoolDir reports the events it could not deliver', async () => {
    const errors: WardenSdkError[] = [];
    const c = new WardenClient({ url: `http://127.0.0.1:${await freePort()}`, apiKey: 'k', retry: { maxAttempts: 2, baseMs: 5, maxMs: 10 }, circuit: { failureThreshold: 2, cooldownMs: 60_000 }, onError: (e) => errors.push(e) });
    const run = c.startRun({ agent: 'nowhere' });
    for (let i = 0; i < 7; i++) run.reasoning('lost');
    const started = Date.now();
    await c.close({ timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(errors.map((e) => [e.code, e.details.events])).toEqual([['lost_at_close', 7]]);
  });

  it('a full spool drops the batch that does not fit and says so', async () => {
    const errors: WardenSdkError[] = [];
    const spoolDir = join(dir.path, 'small-spool');
    const c = new WardenClient({ url: `http://127.0.0.1:${await freePort()}`, apiKey: 'k', spoolDir, maxSpoolBytes: 2000, maxBatchEvents: 5, retry: { maxAttempts: 1 }, circuit: { failureThreshold: 1, cooldownMs: 60_000 }, onError: (e) => errors.push(e) });
    const run = c.startRun({ agent: 'cramped' });
    for (let i = 0; i < 20; i++) run.reasoning(`${i} ${'z'.repeat(100)}`);
    await c.close({ timeoutMs: 1000 });
    const kept = spoolFiles(spoolDir);
    expect(kept.length).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.code === 'spool_full')).toBe(true);
    // What was kept plus what was reported dropped is every batch: the create and four of five events.
    expect(kept.length + errors.length).toBe(5);
  });

  it('a spool that cannot be written does not let memory grow past maxQueuedEvents: new events are dropped, counted and reported', async () => {
    const errors: WardenSdkError[] = [];
    const spoolDir = join(dir.path, 'vanishing-spool');
    const c = new WardenClient({ url: `http://127.0.0.1:${await freePort()}`, apiKey: 'k', spoolDir, maxQueuedEvents: 100, maxBatchEvents: 10, retry: { maxAttempts: 1 }, circuit: { failureThreshold: 1, cooldownMs: 60_000 }, onError: (e) => errors.push(e) });
    const run = c.startRun({ agent: 'no-disk' });
    await c.flush(); // the spool is open and holds the run's create
    expect(spoolFiles(spoolDir)).toHaveLength(1);
    rmSync(spoolDir, { recursive: true, force: true }); // the disk goes away under the client
    for (let i = 0; i < 5000; i++) run.reasoning(`${i}`);
    await c.flush();
    await eventually(() => errors.some((e) => e.code === 'spool_error'), 3000, 'the spool to fail');
    const { queuedEvents, droppedEvents } = c.stats();
    expect(queuedEvents).toBeLessThanOrEqual(200);
    expect(queuedEvents + droppedEvents).toBe(5000);
    expect(errors.filter((e) => e.code === 'queue_full')).toHaveLength(1);
    const spoolErrors = errors.filter((e) => e.code === 'spool_error');
    expect(spoolErrors.length).toBeGreaterThanOrEqual(1);
    expect(spoolErrors.length).toBeLessThanOrEqual(2);
    await c.close({ timeoutMs: 300 });
    expect(errors.at(-1)).toMatchObject({ code: 'lost_at_close', details: { events: queuedEvents } });
  });
});

describe('a spool replay that Warden refuses', () => {
  let s: Stack;
  let guestKey: string;
  beforeAll(async () => {
    s = await startStack();
    const k = newKey('sdk-guest', 'guest', null); // may read models, not write runs
    await s.gateway.storage.createKey(k.record);
    guestKey = k.key;
  });
  afterAll(async () => s?.close());

  /** A run recorded while Warden was away and the process then exited: its create, two batches and its finalize, a file each. */
  async function spoolOffline(spoolDir: string, runId: string): Promise<string[]> {
    const c = new WardenClient({ url: `http://127.0.0.1:${await freePort()}`, apiKey: 'wk_offline', spoolDir, maxBatchEvents: 2, retry: { maxAttempts: 1 }, circuit: { failureThreshold: 1, cooldownMs: 60_000 }, onError: () => {} });
    const run = c.startRun({ agent: 'spool-refused', id: runId });
    for (let i = 1; i <= 4; i++) run.reasoning(`${runId} step ${i}`);
    await run.finish();
    await c.close({ timeoutMs: 1000 });
    return spoolFiles(spoolDir);
  }

  it.each([
    ['a key Warden does not know', 401, (): Partial<WardenClientOptions> => ({ apiKey: 'wk_not-a-key' })],
    ['a key whose role may not write runs', 403, (): Partial<WardenClientOptions> => ({ apiKey: guestKey })],
    ['a url path Warden has no route for', 404, (): Partial<WardenClientOptions> => ({ url: `${s.url}/not-warden` })],
  ])('refused for %s (%i): keeps every file on disk, reports it once, tries again later, and a client that can deliver them does', async (_why, status, options) => {
    const spoolDir = join(dir.path, `held-${status}`);
    const runId = `spool-held-${status}`;
    const files = await spoolOffline(spoolDir, runId);
    expect(files).toHaveLength(4);
    const errors: WardenSdkError[] = [];
    const counted = countingFetch();
    const refused = new WardenClient({ url: s.url, apiKey: s.agentKey, ...options(), spoolDir, fetch: counted.fetch, circuit: { cooldownMs: 200 }, onError: (e) => errors.push(e) });
    await eventually(() => counted.sent.length >= 2, 3000, 'a second replay after the cooldown');
    await refused.flush();
    await refused.close({ timeoutMs: 500 });
    expect(spoolFiles(spoolDir)).toEqual(files);
    // Only the oldest file was tried: the rest wait behind it, in order.
    expect(counted.sent.every((r) => r.path.endsWith('/api/v1/runs'))).toBe(true);
    expect(errors.map((e) => [e.code, e.status, e.details.operation])).toEqual([['refused', status, 'create_run']]);

    // The key (or the url) is put right: the same files are replayed, then deleted.
    const fixed = new WardenClient({ url: s.url, apiKey: s.agentKey, spoolDir, onError: (e) => errors.push(e) });
    await eventually(() => spoolFiles(spoolDir).length === 0, 5000, 'the replay');
    await fixed.close();
    const { run, events } = await traceOf(s.url, s.agentKey, runId);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(run.status).toBe('completed');
    expect(errors).toHaveLength(1);
  });

  it('moves a spooled request refused for good (422, 404 run_not_found) aside as .rejected, reports it, and replays the rest', async () => {
    const spoolDir = join(dir.path, 'rejected');
    const runId = 'spool-rejected';
    const [, batch1, , finalize] = await spoolOffline(spoolDir, runId);
    let batches = 0;
    const proxy = await startFaultProxy(s.url, (_n, req) => {
      if (req.url === '/api/v1/trace-events/batch' && ++batches === 1) return { status: 422, body: { error: { type: 'validation', code: 'validation_failed', message: 'Not a batch this server takes.' } } };
      if (req.url?.endsWith('/finalize')) return { status: 404, body: { error: { type: 'not_found', code: 'run_not_found', message: 'There is no run with this id.' } } };
      return 'forward';
    });
    const errors: WardenSdkError[] = [];
    const c = new WardenClient({ url: proxy.url, apiKey: s.agentKey, spoolDir, onError: (e) => errors.push(e) });
    await eventually(() => spoolFiles(spoolDir).length === 0, 5000, 'the replay');
    await c.close();
    await proxy.close();
    expect(readdirSync(spoolDir).sort()).toEqual([`${batch1}.rejected`, `${finalize}.rejected`]);
    expect(errors.map((e) => [e.code, e.status, e.serverCode, e.details.operation])).toEqual([
      ['refused', 422, 'validation_failed', 'events'],
      ['refused', 404, 'run_not_found', 'finalize_run'],
    ]);
    expect(errors[0]!.message).toContain(`${batch1}.rejected`);
    expect(proxy.seen).toHaveLength(4); // each file once: none was tried again
    expect((await traceOf(s.url, s.agentKey, runId)).events.map((e) => e.seq)).toEqual([3, 4]);
  });

  it('does not spool, and so never sends again, a request refused while it was being copied to the spool', async () => {
    const spoolDir = join(dir.path, 'refused-in-flight');
    const errors: WardenSdkError[] = [];
    const creates: number[] = [];
    let answer: ((r: Response) => void) | undefined;
    let createSent: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => (createSent = resolve));
    // The first create is held until the test answers it; everything else goes to Warden.
    const held: typeof fetch = (input, init) => {
      const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
      if (path !== '/api/v1/runs') return fetch(input, init);
      creates.push(Date.now());
      if (creates.length > 1) return fetch(input, init);
      createSent();
      return new Promise((resolve) => (answer = resolve));
    };
    const c = new WardenClient({ url: s.url, apiKey: s.agentKey, spoolDir, fetch: held, maxQueuedEvents: 5, maxBatchEvents: 1, onError: (e) => errors.push(e), onRejected: () => {} });
    const run = c.startRun({ agent: 'sdk-refused-in-flight', id: 'refused-in-flight' });
    await inFlight;
    // Past maxQueuedEvents the queue moves to the spool, the create in flight included (as a copy)...
    for (let i = 1; i <= 6; i++) run.reasoning(`step ${i}`);
    // ...and while that copy is being written, Warden refuses the create.
    answer!(new Response(JSON.stringify({ error: { type: 'validation', code: 'validation_failed', message: 'The run is not valid.' } }), { status: 422, headers: { 'content-type': 'application/json' } }));
    await c.flush();
    await c.close();
    expect(creates).toHaveLength(1);
    expect(errors.filter((e) => e.details.operation === 'create_run').map((e) => [e.code, e.status])).toEqual([['refused', 422]]);
    expect(spoolFiles(spoolDir)).toEqual([]);
  });
});
