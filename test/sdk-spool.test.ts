import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { WardenClient, type WardenClientOptions, type WardenSdkError } from '@warden/sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../packages/warden/src/config/index.js';
import { type Gateway, startGateway } from '../packages/warden/src/gateway.js';
import { newKey } from '../packages/warden/src/identity/index.js';
import { countingFetch, eventually, freePort, tempDir, traceOf } from './sdk-helpers.js';

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

const spoolFiles = (path: string) => readdirSync(path).filter((n) => n.endsWith('.json'));

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
});
