import { WardenClient, type EventRejection, type WardenSdkError } from '@warden/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers.js';
import { countingFetch, eventually, traceOf } from './sdk-helpers.js';

let s: Stack;
const clients: WardenClient[] = [];
beforeAll(async () => {
  s = await startStack();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close({ timeoutMs: 1000 })));
  await s?.close();
});

function client(opts: Partial<ConstructorParameters<typeof WardenClient>[0]> = {}) {
  const c = new WardenClient({ url: s.url, apiKey: s.agentKey, onError: (e) => errors.push(e), ...opts });
  clients.push(c);
  return c;
}
let errors: WardenSdkError[] = [];
const BATCH = '/api/v1/trace-events/batch';

describe('recording a run', () => {
  it('creates the run before its events, stores them in order with keys and usage, and finish() answers with the evaluation', async () => {
    errors = [];
    const counted = countingFetch();
    const c = client({ fetch: counted.fetch });
    const run = c.startRun({ agent: 'sdk-planner', scenario: 'refund', seed: 7, metadata: { build: '1.2' } });
    expect(run.id).toMatch(/^run_[A-Za-z0-9_-]{24}$/);
    expect(run.reasoning('Look the order up first.')).toBe(1);
    run.actionRequest('lookup_order', { order: 'A-17' }, { callId: 'c1' });
    run.actionResponse('lookup_order', { status: 'shipped' }, { callId: 'c1', usage: { input_tokens: 12, output_tokens: 3, cost_usd: 0.001 } });
    run.finalOutput('It has shipped.', { usage: { input_tokens: 30, output_tokens: 8 } });
    const done = await run.finish();

    expect(done).toMatchObject({ id: run.id, agent: 'sdk-planner', scenario: 'refund', seed: '7', status: 'completed', events: 4, errors: 0 });
    expect(done!.usage).toEqual({ input_tokens: 42, output_tokens: 11, cost_usd: 0.001 });
    expect(done!.evaluation).toMatchObject({ severity: 'INFO', findings: [] });
    // One create, one batch, one finalize, in that order.
    expect(counted.sent.map((r) => r.path)).toEqual(['/api/v1/runs', BATCH, `/api/v1/runs/${run.id}/finalize`]);

    const { events } = await traceOf(s.url, s.agentKey, run.id);
    expect(events.map((e) => [e.seq, e.type, e.actor])).toEqual([
      [1, 'reasoning', 'agent'],
      [2, 'action_request', 'agent'],
      [3, 'action_response', 'tool'],
      [4, 'final_output', 'agent'],
    ]);
    expect(events.map((e) => e.meta.idempotency_key)).toEqual([1, 2, 3, 4].map((n) => `${run.id}:${n}`));
    expect(events.every((e) => e.meta.agent_id === 'sdk-planner' && e.flags.length === 0)).toBe(true);
    expect(events[1].payload).toEqual({ tool: 'lookup_order', arguments: { order: 'A-17' }, call_id: 'c1' });
    expect(events[2].payload).toMatchObject({ tool: 'lookup_order', call_id: 'c1', output: { status: 'shipped' }, status: 'ok' });
    expect(events[3].payload.text).toBe('It has shipped.');
    expect(errors).toEqual([]);
  });

  it('records errors and failed tool calls, and finish("failed") gets the findings they cause', async () => {
    const c = client();
    const run = c.startRun({ agent: 'sdk-failing', id: `sdk-fail-${Date.now()}` });
    run.actionRequest('charge', { amount: 5 }, { callId: 'x', actor: 'system' });
    run.actionResponse('charge', undefined, { callId: 'x', error: 'card declined' });
    run.error('gave up', { code: 'E_GIVE_UP', extra: { step: 3 } });
    const done = await run.finish('failed');
    expect(done).toMatchObject({ status: 'failed', errors: 1 });
    expect(done!.evaluation!.severity).toBe('ERROR');
    expect(done!.evaluation!.findings.map((f) => f.check).sort()).toEqual(['error_rate', 'tool_failure_rate']);
    const { events } = await traceOf(s.url, s.agentKey, run.id);
    expect(events[0].actor).toBe('system');
    expect(events[1].payload).toMatchObject({ status: 'error', error: 'card declined' });
    expect(events[2].payload).toEqual({ step: 3, message: 'gave up', code: 'E_GIVE_UP' });
    // A second finish is the first one's answer, not a second finalize.
    expect(await run.finish('completed')).toBe(done);
  });

  it('reports events Warden refuses one by one through onRejected, stores the rest, and does not retry them', async () => {
    const rejected: EventRejection[] = [];
    const counted = countingFetch();
    const c = client({ fetch: counted.fetch, onRejected: (r) => rejected.push(...r) });
    const run = c.startRun({ agent: 'sdk-207' });
    run.reasoning('fine');
    run.actionRequest('', { bad: true }); // a tool name must not be empty
    run.reasoning('also fine');
    await c.flush();
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ code: 'invalid_event', field: '/payload/tool', event: { seq: 2, type: 'action_request' } });
    expect(counted.to(BATCH)).toHaveLength(1);
    const { events } = await traceOf(s.url, s.agentKey, run.id);
    expect(events.map((e) => e.seq)).toEqual([1, 3]);
  });

  it('does not retry a request Warden refuses (401): it is reported through onError and dropped', async () => {
    errors = [];
    const counted = countingFetch();
    const c = client({ fetch: counted.fetch, apiKey: 'wk_not-a-key' });
    const run = c.startRun({ agent: 'sdk-unauthorized' });
    run.reasoning('nobody will see this');
    expect(await run.finish()).toBeNull();
    expect(counted.sent.map((r) => r.path)).toEqual(['/api/v1/runs', BATCH, `/api/v1/runs/${run.id}/finalize`]);
    expect(errors.map((e) => [e.code, e.status, e.details.operation])).toEqual([
      ['refused', 401, 'create_run'],
      ['refused', 401, 'events'],
      ['refused', 401, 'finalize_run'],
    ]);
    expect(c.stats()).toMatchObject({ queuedEvents: 0, circuit: 'closed' });
  });
});

describe('batching', () => {
  it('sends N events in ceil(N / maxBatchEvents) batch requests', async () => {
    const counted = countingFetch();
    const c = client({ fetch: counted.fetch, maxBatchEvents: 40, flushIntervalMs: 60_000 });
    const run = c.startRun({ agent: 'sdk-batches' });
    for (let i = 1; i <= 130; i++) run.reasoning(`step ${i}`);
    await c.flush();
    expect(counted.to(BATCH)).toHaveLength(4);
    const { events } = await traceOf(s.url, s.agentKey, run.id);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 130 }, (_, i) => i + 1));
  });

  it('keeps every batch body under maxBatchBytes', async () => {
    const counted = countingFetch();
    const c = client({ fetch: counted.fetch, maxBatchBytes: 8 * 1024, gzip: false, flushIntervalMs: 60_000 });
    const run = c.startRun({ agent: 'sdk-bytes' });
    for (let i = 1; i <= 40; i++) run.reasoning(`${i} ${'x'.repeat(900)}`);
    await c.flush();
    const batches = counted.to(BATCH);
    // About 1 KB an event: 7 fit in 8 KiB, so 40 take 6 batches.
    expect(batches).toHaveLength(6);
    expect(Math.max(...batches.map((b) => b.bodyBytes))).toBeLessThanOrEqual(8 * 1024);
    expect((await traceOf(s.url, s.agentKey, run.id)).events).toHaveLength(40);
  });

  it('halves a batch the server refuses as too large (413) until it fits, storing each event once', async () => {
    errors = [];
    const counted = countingFetch();
    // 100 events of ~2 KB: 200 KB, over this stack's 64 KiB body limit (gzip does not help: the limit is on the inflated body).
    const c = client({ fetch: counted.fetch, maxBatchBytes: 1024 * 1024, flushIntervalMs: 60_000 });
    const run = c.startRun({ agent: 'sdk-413' });
    for (let i = 1; i <= 100; i++) run.reasoning(`${i} ${'y'.repeat(2000)}`);
    await c.flush();
    // 100 → 413; 50 + 50 → 413 each; four of 25 fit.
    expect(counted.to(BATCH)).toHaveLength(7);
    const { events } = await traceOf(s.url, s.agentKey, run.id);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(errors).toEqual([]);
  });

  it('sends a batch flushIntervalMs after its first event without a flush()', async () => {
    const counted = countingFetch();
    const c = client({ fetch: counted.fetch, flushIntervalMs: 300 });
    const run = c.startRun({ agent: 'sdk-interval' });
    const at = Date.now();
    run.reasoning('one');
    await new Promise((r) => setTimeout(r, 150));
    run.reasoning('two');
    expect(counted.to(BATCH)).toHaveLength(0);
    await eventually(() => counted.to(BATCH).length === 1, 3000, 'the timed batch');
    const waited = counted.to(BATCH)[0]!.at - at;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(1500);
    // The count is of batches sent; the gateway answers (and the run is readable) once it has committed it.
    await eventually(async () => (await traceOf(s.url, s.agentKey, run.id)).events.length === 2, 3000, 'the batch committed');
    expect((await traceOf(s.url, s.agentKey, run.id)).events.map((e) => e.seq)).toEqual([1, 2]);
  });
});
