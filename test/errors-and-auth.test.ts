import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, adminGet, flushed, startStack } from './helpers.js';

let s: Stack;

beforeAll(async () => {
  s = await startStack({
    config: { upstream: { headers_timeout_ms: 300, body_timeout_ms: 300, connect_timeout_ms: 1000, connections: 16 } },
    // Port 9 (discard) on loopback: nothing listens, so connecting is refused at once.
    providers: [{ name: 'dead', type: 'openai-compatible', base_url: 'http://127.0.0.1:9/v1', api_key: 'x', models: ['dead-*'] }],
  });
});
afterAll(async () => s?.close());

const chat = (key?: string, body: unknown = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, headers: Record<string, string> = {}) =>
  fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

function expectEnvelope(body: any, type: string, code: string, requestId: string | null): void {
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toEqual({ type, code, message: expect.any(String), request_id: requestId });
  expect(body.error.message.length).toBeGreaterThan(10);
  expect(JSON.stringify(body)).not.toMatch(/at .*\.(js|ts):\d+/); // no stack frames
}

describe('authentication', () => {
  it('refuses a missing key, an unknown key and a revoked key with 401 and records auth.failure events with IP and reason', async () => {
    const missing = await chat(undefined);
    expect(missing.status).toBe(401);
    expectEnvelope(await missing.json(), 'authentication', 'missing_api_key', missing.headers.get('x-request-id'));

    const unknown = await chat('wdn_thisisnotakey');
    expectEnvelope(await unknown.json(), 'authentication', 'invalid_api_key', unknown.headers.get('x-request-id'));

    const revokedId = (await s.gateway.storage.listKeys()).find((k) => k.name === 'limited')!.id;
    expect((await chat(s.limitedKey)).status).toBe(200);
    await s.gateway.storage.revokeKey(revokedId, Date.now());
    const revoked = await chat(s.limitedKey);
    expect(revoked.status).toBe(401);
    expectEnvelope(await revoked.json(), 'authentication', 'revoked_api_key', revoked.headers.get('x-request-id'));

    await flushed(s);
    // Failures with no known credential belong to no org: the operator (system) sees them.
    const ev = (await adminGet(s, '/api/v1/audit?kind=auth.failure&limit=10', s.systemKey)).body.data;
    const reasons = ev.map((e: any) => e.detail.reason);
    expect(reasons).toEqual(expect.arrayContaining(['missing_api_key', 'invalid_api_key', 'revoked_api_key']));
    // A revoked key is still known, so its org's admins see the attempt, attributed to the key.
    const orgView = (await adminGet(s, '/api/v1/audit?kind=auth.failure&limit=10')).body.data;
    expect(orgView.map((e: any) => [e.detail.reason, e.key_id])).toEqual([['revoked_api_key', revokedId]]);
    for (const e of ev) {
      expect(e.client_ip).toBe('127.0.0.1');
      expect(e.status).toBe(401);
      expect(e.decision).toBe('deny');
    }
    expect(JSON.stringify(ev)).not.toContain('wdn_thisisnotakey');
  });

  it('the OpenAI SDK surfaces Warden\'s message on 401', async () => {
    const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'wdn_nope', maxRetries: 0 });
    const err = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.message).toContain('API key is not valid');
    expect(err.error.request_id).toBeTruthy();
  });

  it('admin endpoints need a role with their permission', async () => {
    const r = await fetch(`${s.url}/api/v1/audit`, { headers: { authorization: `Bearer ${s.agentKey}` } });
    expect(r.status).toBe(403);
    const body = (await r.json()) as { error: { message: string } };
    expectEnvelope(body, 'authorization', 'permission_denied', r.headers.get('x-request-id'));
    expect(body.error.message).toContain('audit:read');
  });
});

describe('bad input', () => {
  it('oversized bodies get 413', async () => {
    const big = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] };
    const r = await chat(s.agentKey, big);
    expect(r.status).toBe(413);
    expectEnvelope(await r.json(), 'validation', 'body_too_large', r.headers.get('x-request-id'));
    const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: s.agentKey, maxRetries: 0 });
    const err = await c.chat.completions.create(big as never).catch((e) => e);
    expect(err.status).toBe(413);
    expect(err.message).toContain('larger than this gateway accepts');
  });

  it('invalid JSON, a non-object body and a missing model get 400 validation errors', async () => {
    const r1 = await chat(s.agentKey, '{"model": ');
    expect(r1.status).toBe(400);
    expectEnvelope(await r1.json(), 'validation', 'invalid_json', r1.headers.get('x-request-id'));
    const r2 = await chat(s.agentKey, '[1,2]');
    expectEnvelope(await r2.json(), 'validation', 'invalid_request', r2.headers.get('x-request-id'));
    const r3 = await chat(s.agentKey, { messages: [] });
    expectEnvelope(await r3.json(), 'validation', 'missing_model', r3.headers.get('x-request-id'));
  });

  it('a form-encoded body gets 415, an unknown path 404, both in the envelope', async () => {
    const r = await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' });
    expect(r.status).toBe(415);
    expectEnvelope(await r.json(), 'validation', 'unsupported_media_type', r.headers.get('x-request-id'));
    const nf = await fetch(`${s.url}/v2/nothing`);
    expect(nf.status).toBe(404);
    expectEnvelope(await nf.json(), 'not_found', 'not_found', nf.headers.get('x-request-id'));
  });

  it('bad audit query parameters get 400, not a crash', async () => {
    const r = await adminGet(s, '/api/v1/audit?limit=abc');
    expect(r.status).toBe(400);
    expect(r.body.error.type).toBe('validation');
    const c = await adminGet(s, '/api/v1/audit?cursor=!!!notacursor');
    expect(c.status).toBe(400);
    expect(c.body.error.code).toBe('invalid_cursor');
    const t = await adminGet(s, '/api/v1/audit?from=yesterday-ish');
    expect(t.status).toBe(400);
    expect(t.body.error.message).toContain('from');
  });
});

describe('upstream failures', () => {
  it('an unreachable upstream gives 502', async () => {
    const r = await chat(s.agentKey, { model: 'dead-model', messages: [] });
    expect(r.status).toBe(502);
    expectEnvelope(await r.json(), 'upstream', 'upstream_unreachable', r.headers.get('x-request-id'));
  });

  it('an upstream slower than headers_timeout_ms gives 504', async () => {
    const r = await chat(s.agentKey, { model: 'mock-slow-2000', messages: [] });
    expect(r.status).toBe(504);
    expectEnvelope(await r.json(), 'upstream', 'upstream_timeout', r.headers.get('x-request-id'));
  });

  it('an upstream that stalls mid-stream is cut off and recorded as a timeout', async () => {
    const r = await chat(s.agentKey, { model: 'mock-stall', stream: true, messages: [] });
    expect(r.status).toBe(200);
    await expect(r.text()).rejects.toThrow();
    await flushed(s);
    await new Promise((res) => setTimeout(res, 50));
    await flushed(s);
    const ev = (await adminGet(s, `/api/v1/audit?model=mock-stall&limit=1`)).body.data[0];
    expect(ev.error_code).toBe('upstream_timeout');
  });

  it('an upstream that hangs up gives 502', async () => {
    const r = await chat(s.agentKey, { model: 'mock-hangup', messages: [] });
    expect(r.status).toBe(502);
    expect(((await r.json()) as any).error.type).toBe('upstream');
  });
});

describe('correlation and logs', () => {
  it('honours x-request-id and a W3C traceparent, and always returns x-request-id', async () => {
    const r = await chat(s.agentKey, undefined, { 'x-request-id': 'abc-123', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
    expect(r.headers.get('x-request-id')).toBe('abc-123');
    const forwarded = s.mock.requests.at(-1)!;
    expect(forwarded.headers.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    await flushed(s);
    const ev = (await adminGet(s, '/api/v1/audit?limit=50')).body.data.find((e: any) => e.request_id === 'abc-123');
    expect(ev.trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const bad = await chat(s.agentKey, undefined, { 'x-request-id': 'has spaces and \u00e9' });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('writes one JSON log line per request with the event fields and no secrets', async () => {
    const r = await chat(s.agentKey, undefined, { 'x-request-id': 'log-line-test' });
    await r.text();
    await new Promise((res) => setTimeout(res, 20));
    s.gateway.logger.flush();
    const lines = s.logs.filter((l) => l.requestId === 'log-line-test');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'request', kind: 'llm.request', status: 200, model: 'gpt-4o-mini', level: 'info' });
    const text = s.logText();
    expect(text).not.toContain(s.agentKey);
    expect(text).not.toContain(s.adminKey);
    expect(text).not.toContain('sk-upstream-secret-123');
  });
});
