import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, adminGet, flushed, startStack } from './helpers.js';

let s: Stack;

beforeAll(async () => {
  s = await startStack({ config: { ingest: { blob_threshold_bytes: 2048, evaluation: { required: [{ agent: 'refund-*', tools: ['verify_identity'] }] } }, guard: { enabled: true, actions: { pii: 'redact', secret: 'block', injection: 'flag' } } } });
});
afterAll(async () => s?.close());

const call = async (method: string, path: string, body?: unknown, key = s.agentKey) => {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
};
// Idempotency keys are unique per org: each event made here gets its own, and a retry resends the same objects.
let made = 0;
const event = (seq: number, over: Record<string, unknown> = {}) => ({ seq, t: 1_760_000_000_000 + seq, actor: 'agent', type: 'reasoning', payload: { text: `thinking ${seq}` }, meta: { idempotency_key: `k-${++made}` }, ...over });

describe('runs', () => {
  it('creates, reads, lists and finalizes a run; a retried create answers with the same run', async () => {
    const created = await call('POST', '/api/v1/runs', { id: 'run-a1', agent: 'planner', scenario: 'refund', seed: 7, metadata: { build: '1.2' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'run-a1', agent: 'planner', scenario: 'refund', seed: '7', status: 'running', events: 0, finalized_at: null });
    expect((await call('POST', '/api/v1/runs', { id: 'run-a1', agent: 'planner' })).status).toBe(200);
    expect((await call('GET', '/api/v1/runs/run-a1')).body.metadata).toEqual({ build: '1.2' });
    const list = await call('GET', '/api/v1/runs?agent=planner&status=running&limit=10');
    expect(list.body.data.map((r: any) => r.id)).toContain('run-a1');
    const done = await call('POST', '/api/v1/runs/run-a1/finalize', { status: 'completed' });
    expect(done.body).toMatchObject({ status: 'completed', finalized_at: expect.any(String) });
    expect((await call('GET', '/api/v1/runs/missing')).body.error.code).toBe('run_not_found');
  });

  it('refuses a bad create, a bad finalize and a bad list query with the error envelope', async () => {
    const bad = await call('POST', '/api/v1/runs', { agent: '' });
    expect([bad.status, bad.body.error.type]).toEqual([400, 'validation']);
    expect((await call('POST', '/api/v1/runs/run-a1/finalize', { status: 'maybe' })).status).toBe(400);
    expect((await call('GET', '/api/v1/runs?limit=0')).status).toBe(400);
    expect((await call('GET', '/api/v1/runs?cursor=zzz')).body.error.code).toBe('invalid_cursor');
    expect((await call('GET', '/api/v1/runs?agent=a&agent=b')).status).toBe(400);
    expect((await call('GET', '/api/v1/runs?from=99999999999999999999')).status).toBe(400);
  });
});

describe('trace events', () => {
  it('answers 202 once a batch is committed; a retry is all duplicates; the trace reads back in order with usage rolled up', async () => {
    await call('POST', '/api/v1/runs', { id: 'run-e1', agent: 'coder' });
    const batch = [
      event(1),
      event(2, { type: 'action_request', payload: { tool: 'search', arguments: { q: 'weather' }, call_id: 'c1' } }),
      event(3, { actor: 'tool', type: 'action_response', payload: { tool: 'search', call_id: 'c1', output: { temp: 21 }, usage: { input_tokens: 10, output_tokens: 4, cost_usd: 0.002 } } }),
      event(4, { type: 'final_output', payload: { text: 'It is 21 degrees.' } }),
    ];
    const first = await call('POST', '/api/v1/runs/run-e1/events', { events: batch });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ stored: 4, duplicates: 0, rejected: 0 });
    const again = await call('POST', '/api/v1/runs/run-e1/events', { events: batch });
    expect([again.status, again.body.stored, again.body.duplicates]).toEqual([202, 0, 4]);
    const trace = await call('GET', '/api/v1/runs/run-e1/trace');
    expect(trace.body.events.map((e: any) => [e.seq, e.type])).toEqual([[1, 'reasoning'], [2, 'action_request'], [3, 'action_response'], [4, 'final_output']]);
    expect(trace.body.events[2].payload.output).toEqual({ temp: 21 });
    expect(trace.body.run).toMatchObject({ events: 4, last_seq: 4, usage: { input_tokens: 10, output_tokens: 4, cost_usd: 0.002 } });
    expect(trace.body.next_cursor).toBeNull();
    // Page by page, in the same order.
    const page1 = await call('GET', '/api/v1/runs/run-e1/trace?limit=3');
    const page2 = await call('GET', `/api/v1/runs/run-e1/trace?limit=3&cursor=${page1.body.next_cursor}`);
    expect([...page1.body.events, ...page2.body.events].map((e: any) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(page2.body.next_cursor).toBeNull();
    expect((await call('GET', '/api/v1/runs/run-e1/trace?cursor=bogus')).body.error.code).toBe('invalid_cursor');
  });

  it('answers 207 with a result per event: invalid ones are refused with the field and why, the rest stored and flagged', async () => {
    await call('POST', '/api/v1/runs', { id: 'run-e2', agent: 'coder' });
    const res = await call('POST', '/api/v1/trace-events/batch', {
      events: [
        event(1, { meta: { run_id: 'run-e2', idempotency_key: 'e2-1' } }),
        event(2, { type: 'action_request', payload: { arguments: {} }, meta: { run_id: 'run-e2' } }),
        event(3, { actor: 'robot', meta: { run_id: 'run-e2' } }),
        event(7, { meta: { run_id: 'run-e2', idempotency_key: 'e2-7' } }),
        event(5, { meta: { run_id: 'run-e2', idempotency_key: 'e2-5' } }),
        event(1, { meta: { run_id: 'no-such-run' } }),
        event(2),
        'not an event',
      ],
    });
    expect(res.status).toBe(207);
    const r = res.body.results;
    expect(r[0]).toEqual({ index: 0, status: 'stored', seq: 1, flags: [] });
    expect(r[1]).toMatchObject({ status: 'rejected', error: { code: 'invalid_event', field: '/payload/tool' } });
    expect(r[2]).toMatchObject({ status: 'rejected', error: { code: 'invalid_event', field: '/actor' } });
    expect(r[3]).toMatchObject({ status: 'stored', flags: ['gap'] });
    expect(r[4]).toMatchObject({ status: 'stored', flags: ['out_of_order'] });
    expect(r[5]).toMatchObject({ status: 'rejected', error: { code: 'run_not_found' } });
    expect(r[6]).toMatchObject({ status: 'rejected', error: { code: 'invalid_event', field: '/meta/run_id' } });
    expect(r[7]).toMatchObject({ status: 'rejected', seq: null, error: { code: 'invalid_event' } });
    // What a database column cannot hold is refused by the schema, alone, never a 500 for the batch.
    const odd = await call('POST', '/api/v1/runs/run-e2/events', { events: [event(8, { meta: { idempotency_key: 'nul\u0000key' } }), event(9, { t: 1e17 }), event(10, { payload: { text: 'x', usage: { input_tokens: 1e21 } } }), event(11)] });
    expect(odd.status).toBe(207);
    expect(odd.body.results.map((x: any) => [x.status, x.error?.field])).toEqual([['rejected', '/meta/idempotency_key'], ['rejected', '/t'], ['rejected', '/payload/usage/input_tokens'], ['stored', undefined]]);
    // Stored: 1, 7 (gap), 5 (out of order), and 11 (gap) from the second batch.
    expect((await call('GET', '/api/v1/runs/run-e2')).body).toMatchObject({ events: 4, flagged: 3, last_seq: 11 });
  });

  it('runs the guardrails on payloads: a secret blocks its event, PII is stored redacted, and nothing found is kept raw', async () => {
    await call('POST', '/api/v1/runs', { id: 'run-g1', agent: 'coder' });
    const secret = 'AKIAZ4Q7XKCVB2MN3PLW';
    const res = await call('POST', '/api/v1/runs/run-g1/events', {
      events: [
        event(1, { actor: 'tool', type: 'action_response', payload: { tool: 'env', output: `AWS_ACCESS_KEY_ID=${secret}` } }),
        event(2, { payload: { text: 'Email the summary to jane.doe@example.com' } }),
      ],
    });
    expect(res.status).toBe(207);
    expect(res.body.results[0]).toMatchObject({ status: 'rejected', error: { code: 'content_blocked', message: expect.stringContaining('AWS_ACCESS_KEY') } });
    expect(JSON.stringify(res.body)).not.toContain(secret);
    const trace = await call('GET', '/api/v1/runs/run-g1/trace');
    expect(trace.body.events).toHaveLength(1);
    expect(trace.body.events[0].payload.text).toBe('Email the summary to [EMAIL_ADDRESS_1]');
    // Redacted, and a gap: the event before it was refused.
    expect(trace.body.events[0].flags).toEqual(['redacted', 'gap']);
    expect(trace.body.events[0].meta.findings[0]).toMatchObject({ type: 'EMAIL_ADDRESS', where: 'text' });
    expect(JSON.stringify(trace.body)).not.toContain('jane.doe@example.com');
  });

  it('keeps a large payload in the blob store and the event holds its reference', async () => {
    await call('POST', '/api/v1/runs', { id: 'run-b1', agent: 'coder' });
    const big = 'lorem ipsum dolor sit amet '.repeat(200);
    const res = await call('POST', '/api/v1/runs/run-b1/events', { events: [event(1, { type: 'final_output', payload: { text: big } })] });
    expect(res.status).toBe(202);
    const e = (await call('GET', '/api/v1/runs/run-b1/trace')).body.events[0];
    expect(e.payload).toBeNull();
    expect(e.blob).toMatch(/^sha256:[0-9a-f]{64}$/);
    const hex = e.blob.slice(7);
    expect(existsSync(join(s.dir, 'blobs', hex.slice(0, 2), hex))).toBe(true);
    // Read back through the run that holds it; another run, or a made-up reference, is a 404.
    const back = await call('GET', `/api/v1/runs/run-b1/blobs/${e.blob}`);
    expect([back.status, back.body.text]).toEqual([200, big]);
    expect((await call('GET', `/api/v1/runs/run-e1/blobs/${e.blob}`)).status).toBe(404);
    expect((await call('GET', `/api/v1/runs/run-b1/blobs/sha256:${'0'.repeat(64)}`)).status).toBe(404);
  });

  it('refuses a caller without a key, and a body that is not a batch, with the error envelope', async () => {
    const anonymous = await fetch(`${s.url}/api/v1/runs/run-e1/trace`);
    expect([anonymous.status, ((await anonymous.json()) as any).error.code]).toEqual([401, 'missing_api_key']);
    const notBatch = await call('POST', '/api/v1/trace-events/batch', { events: [] });
    expect([notBatch.status, notBatch.body.error.type]).toEqual([400, 'validation']);
    const unknownRun = await call('POST', '/api/v1/runs/nope/events', { events: [event(1)] });
    expect([unknownRun.status, unknownRun.body.error.code]).toEqual([404, 'run_not_found']);
  });
});

describe('compressed batches', () => {
  it('takes a gzip body, and refuses bad gzip, other encodings and a body that expands past the limit', async () => {
    await call('POST', '/api/v1/runs', { id: 'run-z1', agent: 'coder' });
    const post = (body: Buffer, encoding: string) =>
      fetch(`${s.url}/api/v1/runs/run-z1/events`, { method: 'POST', headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': 'application/json', 'content-encoding': encoding }, body });
    const ok = await post(gzipSync(JSON.stringify({ events: [event(1), event(2)] })), 'gzip');
    expect([ok.status, ((await ok.json()) as any).stored]).toEqual([202, 2]);
    const bad = await post(Buffer.from('not gzip at all'), 'gzip');
    expect([bad.status, ((await bad.json()) as any).error.code]).toEqual([400, 'invalid_request']);
    const br = await post(Buffer.from('{}'), 'br');
    expect(br.status).toBe(415);
    // 64 KiB is this stack's body limit: a small gzip that expands to 1 MiB is refused, not inflated.
    const bomb = await post(gzipSync(JSON.stringify({ events: [event(3, { payload: { text: 'a'.repeat(1 << 20) } })] })), 'gzip');
    expect([bomb.status, ((await bomb.json()) as any).error.code]).toEqual([413, 'body_too_large']);
  });
});

describe('post-run evaluation', () => {
  it('evaluates a run once when it is finalized, stores the result on the run and records a run.evaluation event', async () => {
    await call('POST', '/api/v1/runs', { id: 'run-v1', agent: 'refund-bot', scenario: 'refund' });
    await call('POST', '/api/v1/runs/run-v1/events', {
      events: [
        event(1, { type: 'action_request', payload: { tool: 'issue_refund', arguments: { amount: 20 } } }),
        event(2, { actor: 'tool', type: 'action_response', payload: { tool: 'issue_refund', status: 'error', error: 'declined' } }),
        event(5, { type: 'error', payload: { message: 'gave up' } }),
      ],
    });
    const done = await call('POST', '/api/v1/runs/run-v1/finalize', { status: 'failed' });
    expect(done.status).toBe(200);
    const checks = done.body.evaluation.findings.map((f: any) => [f.check, f.severity]);
    expect(checks).toEqual([['sequence_gap', 'ERROR'], ['required_step', 'ERROR'], ['error_rate', 'WARNING'], ['tool_failure_rate', 'ERROR']]);
    expect(done.body.evaluation.severity).toBe('ERROR');
    // Stored on the run; a second finalize neither changes nor re-evaluates it.
    expect((await call('GET', '/api/v1/runs/run-v1')).body.evaluation).toEqual(done.body.evaluation);
    expect((await call('POST', '/api/v1/runs/run-v1/finalize', { status: 'completed' })).body).toMatchObject({ status: 'failed', evaluation: done.body.evaluation });
    await flushed(s);
    const events = (await adminGet(s, '/api/v1/audit?kind=run.evaluation&limit=10')).body.data.filter((e: any) => e.detail.run_id === 'run-v1');
    expect(events).toHaveLength(1);
    expect(events[0].detail).toMatchObject({ run_id: 'run-v1', severity: 'ERROR', events: 3 });
  });
});

describe('policy on ingestion', () => {
  it('a Cedar forbid on trace:ingest refuses the events it matches, alone, naming the policy; the denial is audited', async () => {
    const text = '@id("no-wire-transfers")\nforbid (principal, action == Warden::Action::"trace:ingest", resource)\nwhen { context has event && context.event.type == "action_request" && context.event.tool == "wire_money" };';
    const put = await call('PUT', '/api/v1/policies/no-wire', { text }, s.adminKey);
    expect(put.status).toBe(200);
    try {
      await call('POST', '/api/v1/runs', { id: 'run-pol', agent: 'payer' });
      const res = await call('POST', '/api/v1/runs/run-pol/events', {
        events: [event(1, { type: 'action_request', payload: { tool: 'lookup_invoice' } }), event(2, { type: 'action_request', payload: { tool: 'wire_money', arguments: { usd: 9000 } } }), event(3)],
      });
      expect(res.status).toBe(207);
      expect(res.body.results.map((r: any) => r.status)).toEqual(['stored', 'rejected', 'stored']);
      expect(res.body.results[1].error).toMatchObject({ code: 'policy_denied', message: expect.stringContaining('no-wire-transfers') });
      expect((await call('GET', '/api/v1/runs/run-pol/trace')).body.events.map((e: any) => e.seq)).toEqual([1, 3]);
      await flushed(s);
      const denials = (await adminGet(s, '/api/v1/audit?kind=policy.decision&limit=50')).body.data.filter((e: any) => e.detail?.action === 'trace:ingest');
      expect(denials.length).toBeGreaterThanOrEqual(1);
      expect(denials[0].detail).toMatchObject({ decision: 'deny', resource: { type: 'Run', id: 'run-pol' } });
    } finally {
      await call('DELETE', '/api/v1/policies/no-wire', undefined, s.adminKey);
    }
  });
});

describe('progress', () => {
  it('records progress reports, answers the latest and the history, and estimates completion from the curve', async () => {
    await call('POST', '/api/v1/runs', { id: 'run-p1', agent: 'crawler' });
    expect((await call('GET', '/api/v1/progress/run-p1/estimate')).body).toMatchObject({ percent: 0, eta: null, based_on: 0 });
    for (const [percent, step] of [[10, 'fetch'], [20, 'fetch'], [30, 'parse']] as const) {
      const r = await call('POST', '/api/v1/progress/update', { run_id: 'run-p1', percent, status: 'running', step });
      expect(r.status).toBe(201);
      await new Promise((res) => setTimeout(res, 20));
    }
    expect((await call('GET', '/api/v1/progress/run-p1')).body).toMatchObject({ run_id: 'run-p1', percent: 30, step: 'parse', status: 'running' });
    expect((await call('GET', '/api/v1/progress/run-p1/history')).body.data.map((p: any) => p.percent)).toEqual([10, 20, 30]);
    const est = (await call('GET', '/api/v1/progress/run-p1/estimate')).body;
    expect(est).toMatchObject({ percent: 30, based_on: 3 });
    expect(est.rate_per_s).toBeGreaterThan(0);
    // About 20 ms per 10 points: 70 points to go is well under ten seconds away.
    expect(Date.parse(est.eta) - Date.now()).toBeLessThan(10_000);
    expect(est.remaining_s).toBeGreaterThan(0);
    const bad = await call('POST', '/api/v1/progress/update', { run_id: 'run-p1', percent: 140 });
    expect([bad.status, bad.body.error.type]).toEqual([400, 'validation']);
    expect((await call('POST', '/api/v1/progress/update', { run_id: 'nope', percent: 5 })).body.error.code).toBe('run_not_found');
  });
});
