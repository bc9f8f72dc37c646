import { describe, expect, it } from 'vitest';
import { newRun, type RunRecord, type TraceEventInput } from './index.js';
import { migratedStores, postgresBackend, sqliteBackend } from './test-backends.js';

function run(over: Partial<RunRecord> = {}): RunRecord {
  return newRun({ id: `run-${Math.random().toString(36).slice(2)}`, orgId: 'org-a', agent: 'planner', scenario: 'checkout', seed: '42', metadata: { build: 7 }, createdBy: 'key-1', createdAt: 1_700_000_000_000, ...over });
}

function ev(runId: string, seq: number, over: Partial<TraceEventInput> = {}): TraceEventInput {
  return {
    orgId: 'org-a',
    runId,
    seq,
    t: 1_700_000_000_000 + seq,
    actor: 'agent',
    type: 'reasoning',
    payload: JSON.stringify({ text: `step ${seq}` }),
    blob: null,
    meta: null,
    idempotencyKey: `${runId}:${seq}`,
    flags: [],
    receivedAt: 1_700_000_001_000,
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
    ...over,
  };
}

describe.each([sqliteBackend(), postgresBackend()])('$name trace store', (backend) => {
  const fresh = migratedStores(backend);

  it('creates a run once, finalizes it once, and keeps it to its org', async () => {
    const { traces } = await fresh();
    const r = run();
    expect(await traces.createRun(r)).toBe('created');
    expect(await traces.createRun({ ...r, agent: 'other' })).toBe('exists');
    expect(await traces.getRun('org-a', r.id)).toEqual(r);
    expect(await traces.getRun('org-b', r.id)).toBeUndefined();
    expect((await traces.finalizeRun('org-a', r.id, 'completed', 1_700_000_009_000))?.status).toBe('completed');
    // A second finalize keeps the first status and time.
    const again = await traces.finalizeRun('org-a', r.id, 'failed', 1_700_000_010_000);
    expect([again?.status, again?.finalizedAt]).toEqual(['completed', 1_700_000_009_000]);
    expect(await traces.finalizeRun('org-b', r.id, 'failed', 1)).toBeUndefined();
  });

  it('gives events without a sequence of their own (autoSeq) the next numbers of their run, unflagged', async () => {
    const { traces } = await fresh();
    const r = run();
    await traces.createRun(r);
    await traces.appendTraceEvents([ev(r.id, 1), ev(r.id, 2)]);
    const auto = (key: string) => ev(r.id, 0, { idempotencyKey: key, autoSeq: true });
    expect(await traces.appendTraceEvents([auto('s1'), auto('s2'), auto('s1')])).toEqual([{ status: 'stored', flags: [] }, { status: 'stored', flags: [] }, { status: 'duplicate' }]);
    expect(await traces.appendTraceEvents([auto('s3')])).toEqual([{ status: 'stored', flags: [] }]);
    const stored = await traces.runEvents('org-a', r.id, 10);
    expect(stored.map((e) => [e.seq, e.idempotencyKey])).toEqual([[1, `${r.id}:1`], [2, `${r.id}:2`], [3, 's1'], [4, 's2'], [5, 's3']]);
    expect((await traces.getRun('org-a', r.id))?.lastSeq).toBe(5);
  });

  it('keeps spans once each, per org, and reads a trace and a run as their spans by start', async () => {
    const { traces } = await fresh();
    const span = (spanId: string, start: string, over: Record<string, unknown> = {}) => ({
      orgId: 'org-a', traceId: 'ab'.repeat(16), spanId, parentSpanId: null, runId: null, name: spanId, kind: 1, startNs: start, endNs: start,
      statusCode: 0, statusMessage: null, attributes: { k: 'v' }, events: [], links: [], resource: { 'service.name': 's' }, scope: { name: 'x' }, receivedAt: 1, ...over,
    });
    expect(await traces.appendSpans([span('b', '1764662400000000002', { runId: 'r1' }), span('a', '1764662400000000001'), span('c', '1764662400000000003', { orgId: 'org-b' })])).toBe(3);
    expect(await traces.appendSpans([span('a', '1764662400000000001', { name: 'changed' })])).toBe(0);
    expect((await traces.traceSpans('org-a', 'ab'.repeat(16), 10)).map((x) => [x.spanId, x.name])).toEqual([['a', 'a'], ['b', 'b']]);
    expect((await traces.runSpans('org-a', 'r1', 10)).map((x) => x.spanId)).toEqual(['a', 'b']);
    expect(await traces.runSpans('org-b', 'r1', 10)).toEqual([]);
    expect((await traces.traceSpans('org-a', 'ab'.repeat(16), 1))[0]).toEqual(span('a', '1764662400000000001'));
  });

  it('stores a batch, drops retried events by idempotency key, and flags gaps, repeats and late arrivals', async () => {
    const { traces } = await fresh();
    const r = run();
    await traces.createRun(r);
    const first = await traces.appendTraceEvents([ev(r.id, 1), ev(r.id, 2), ev(r.id, 2, { idempotencyKey: null }), ev(r.id, 5, { type: 'error', tokensIn: 10, tokensOut: 3, costUsd: 0.5 })]);
    expect(first).toEqual([
      { status: 'stored', flags: [] },
      { status: 'stored', flags: [] },
      { status: 'stored', flags: ['duplicate_seq'] },
      { status: 'stored', flags: ['gap'] },
    ]);
    // The retry of the same batch changes nothing but the unkeyed event, which cannot be told apart.
    const retry = await traces.appendTraceEvents([ev(r.id, 1), ev(r.id, 2), ev(r.id, 5, { type: 'error' }), ev(r.id, 3), ev(r.id, 3, { idempotencyKey: `${r.id}:3` })]);
    expect(retry).toEqual([{ status: 'duplicate' }, { status: 'duplicate' }, { status: 'duplicate' }, { status: 'stored', flags: ['out_of_order'] }, { status: 'duplicate' }]);
    const stored = await traces.getRun('org-a', r.id);
    expect(stored).toMatchObject({ lastSeq: 5, eventCount: 5, errorCount: 1, flaggedCount: 3, tokensIn: 10, tokensOut: 3, costUsd: 0.5 });
    const events = await traces.runEvents('org-a', r.id, 100);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 2, 3, 5]);
    expect(events[0]).toMatchObject({ runId: r.id, actor: 'agent', type: 'reasoning', payload: { text: 'step 1' }, idempotencyKey: `${r.id}:1`, flags: [] });
    expect(await traces.runEvents('org-b', r.id, 100)).toEqual([]);
  });

  it('refuses events for a run that does not exist or belongs to another org, and flags events after finalize', async () => {
    const { traces } = await fresh();
    const r = run();
    await traces.createRun(r);
    await traces.finalizeRun('org-a', r.id, 'failed', 1_700_000_002_000);
    const out = await traces.appendTraceEvents([ev('no-such-run', 1), ev(r.id, 1, { orgId: 'org-b' }), ev(r.id, 1)]);
    expect(out).toEqual([{ status: 'run_not_found' }, { status: 'run_not_found' }, { status: 'stored', flags: ['after_finalize'] }]);
  });

  it('keeps run ids and idempotency keys per org: the same id and key in two orgs are two runs and two events', async () => {
    const { traces } = await fresh();
    const a = run(), b = run({ orgId: 'org-b', id: a.id, agent: 'b-agent' });
    await traces.createRun(a);
    expect(await traces.createRun(b)).toBe('created');
    const out = await traces.appendTraceEvents([ev(a.id, 1, { idempotencyKey: 'k1' }), ev(b.id, 1, { orgId: 'org-b', idempotencyKey: 'k1' })]);
    expect(out).toEqual([{ status: 'stored', flags: [] }, { status: 'stored', flags: [] }]);
    expect([(await traces.getRun('org-a', a.id))?.agent, (await traces.getRun('org-b', a.id))?.agent]).toEqual(['planner', 'b-agent']);
    expect((await traces.runEvents('org-b', a.id, 10)).map((e) => e.seq)).toEqual([1]);
  });

  it('commits concurrent batches for one run without losing or doubling an event', async () => {
    const { traces } = await fresh();
    const r = run();
    await traces.createRun(r);
    // Ten batches of 20, every event sent twice (a client retrying while the first attempt is in flight).
    const batches = Array.from({ length: 10 }, (_, b) => Array.from({ length: 20 }, (_, i) => ev(r.id, b * 20 + i + 1)));
    const results = await Promise.all([...batches, ...batches].map((batch) => traces.appendTraceEvents(batch)));
    expect(results.flat().filter((o) => o.status === 'stored')).toHaveLength(200);
    const stored = await traces.getRun('org-a', r.id);
    expect([stored?.eventCount, stored?.lastSeq]).toEqual([200, 200]);
    expect((await traces.runEvents('org-a', r.id, 1000)).map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('two concurrent batches for different runs with the same keys: each key stored once, the rest duplicates, nothing fails', async () => {
    const { traces } = await fresh();
    const a = run(), b = run();
    await traces.createRun(a);
    await traces.createRun(b);
    const keys = Array.from({ length: 50 }, (_, i) => `shared-${i}`);
    const results = await Promise.all([
      traces.appendTraceEvents(keys.map((k, i) => ev(a.id, i + 1, { idempotencyKey: k }))),
      traces.appendTraceEvents(keys.map((k, i) => ev(b.id, i + 1, { idempotencyKey: k }))),
    ]);
    const stored = results.flat().filter((o) => o.status === 'stored').length;
    expect([stored, results.flat().filter((o) => o.status === 'duplicate').length]).toEqual([50, 50]);
    const counts = [(await traces.getRun('org-a', a.id))!.eventCount, (await traces.getRun('org-a', b.id))!.eventCount];
    expect(counts[0]! + counts[1]!).toBe(50);
  });

  it('lists runs newest first with filters and a cursor', async () => {
    const { traces } = await fresh();
    for (let i = 0; i < 5; i++) await traces.createRun(run({ id: `r${i}`, agent: i % 2 ? 'coder' : 'planner', createdAt: 1_700_000_000_000 + i }));
    await traces.createRun(run({ id: 'other-org', orgId: 'org-b' }));
    const page1 = await traces.listRuns({ orgId: 'org-a', limit: 2 });
    expect(page1.items.map((r) => r.id)).toEqual(['r4', 'r3']);
    const page2 = await traces.listRuns({ orgId: 'org-a', limit: 2, cursor: page1.nextCursor! });
    expect(page2.items.map((r) => r.id)).toEqual(['r2', 'r1']);
    const last = await traces.listRuns({ orgId: 'org-a', limit: 2, cursor: page2.nextCursor! });
    expect([last.items.map((r) => r.id), last.nextCursor]).toEqual([['r0'], null]);
    expect((await traces.listRuns({ orgId: 'org-a', agent: 'coder', limit: 10 })).items.map((r) => r.id)).toEqual(['r3', 'r1']);
    await expect(traces.listRuns({ orgId: 'org-a', limit: 2, cursor: 'nonsense' })).rejects.toMatchObject({ code: 'invalid_cursor' });
  });
});
