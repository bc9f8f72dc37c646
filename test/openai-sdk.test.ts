import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_KEY, type Stack, adminGet, flushed, startStack } from './helpers.js';

let s: Stack;
let client: OpenAI;
let direct: OpenAI;

beforeAll(async () => {
  s = await startStack();
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: s.agentKey, maxRetries: 0 });
  direct = new OpenAI({ baseURL: `${s.mock.url}/v1`, apiKey: PROVIDER_KEY, maxRetries: 0 });
});
afterAll(async () => s?.close());

/** The fields a provider varies per call (ids, timestamps): everything else must match exactly. */
function stable<T>(o: T): T {
  return JSON.parse(JSON.stringify(o, (k, v) => (k === 'id' || k === 'created' || k === 'created_at' ? undefined : v)));
}

async function lastEvent(requestId: string): Promise<Record<string, any>> {
  await flushed(s);
  const r = await adminGet(s, `/api/v1/audit?limit=50`);
  const e = r.body.data.find((x: any) => x.request_id === requestId);
  expect(e, `no audit event for ${requestId}`).toBeTruthy();
  return e;
}

describe('OpenAI SDK through Warden', () => {
  it('chat completion: the client gets what the upstream sent, and usage and cost are recorded', async () => {
    const params = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'What is Warden?' }] };
    const { data, response } = await client.chat.completions.create(params).withResponse();
    const want = await direct.chat.completions.create(params);
    expect(stable(data)).toEqual(stable(want));
    const rid = response.headers.get('x-request-id')!;
    expect(rid).toBeTruthy();
    const e = await lastEvent(rid);
    expect(e).toMatchObject({ kind: 'llm.request', status: 200, model: 'gpt-4o-mini', provider: 'mock-openai', decision: 'allow' });
    expect(e.tokens_in).toBe(want.usage!.prompt_tokens);
    expect(e.tokens_out).toBe(want.usage!.completion_tokens);
    expect(e.cost_usd).toBeCloseTo((want.usage!.prompt_tokens * 0.15 + want.usage!.completion_tokens * 0.6) / 1e6, 12);
    expect(e.duration_ms).toBeGreaterThan(0);
    expect(e.upstream_ms).toBeGreaterThan(0);
  });

  it('streamed chat without include_usage: the client sees no usage fields, Warden still counts tokens', async () => {
    const params = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Stream please' }], stream: true as const };
    const { data: stream, response } = await client.chat.completions.create(params).withResponse();
    const got: unknown[] = [];
    for await (const c of stream) got.push(c);
    const want: unknown[] = [];
    for await (const c of await direct.chat.completions.create(params)) want.push(c);
    expect(got.length).toBeGreaterThan(2);
    expect(got.map(stable)).toEqual(want.map(stable));
    expect(JSON.stringify(got)).not.toContain('usage');

    const withUsage: any[] = [];
    for await (const c of await direct.chat.completions.create({ ...params, stream_options: { include_usage: true } })) withUsage.push(c);
    const usage = withUsage.at(-1).usage;
    const e = await lastEvent(response.headers.get('x-request-id')!);
    expect([e.tokens_in, e.tokens_out]).toEqual([usage.prompt_tokens, usage.completion_tokens]);
    expect(e.ttft_ms).toBeGreaterThan(0);
    expect(e.detail).toMatchObject({ stream: true, usage_injected: true });
  });

  it('streamed chat with include_usage: the client gets the usage chunk as the upstream sent it', async () => {
    const params = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'count me' }], stream: true as const, stream_options: { include_usage: true } };
    const got: any[] = [];
    for await (const c of await client.chat.completions.create(params)) got.push(c);
    const want: any[] = [];
    for await (const c of await direct.chat.completions.create(params)) want.push(c);
    expect(got.map(stable)).toEqual(want.map(stable));
    expect(got.at(-1).usage.total_tokens).toBeGreaterThan(0);
  });

  it('responses API, streamed and not', async () => {
    const r = await client.responses.create({ model: 'gpt-4.1', input: 'Say hi' });
    const d = await direct.responses.create({ model: 'gpt-4.1', input: 'Say hi' });
    expect(r.output_text).toBe(d.output_text);
    expect(r.usage?.output_tokens).toBe(d.usage?.output_tokens);

    const { data: stream, response } = await client.responses.create({ model: 'gpt-4.1', input: 'Say hi', stream: true }).withResponse();
    let text = '';
    for await (const ev of stream) if (ev.type === 'response.output_text.delta') text += ev.delta;
    expect(text).toBe(d.output_text);
    const e = await lastEvent(response.headers.get('x-request-id')!);
    expect([e.tokens_in, e.tokens_out]).toEqual([d.usage?.input_tokens, d.usage?.output_tokens]);
  });

  it('embeddings', async () => {
    const { data: r, response } = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] }).withResponse();
    const d = await direct.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] });
    expect(r.data.map((x) => x.embedding)).toEqual(d.data.map((x) => x.embedding));
    const e = await lastEvent(response.headers.get('x-request-id')!);
    expect(e.tokens_in).toBe(d.usage.prompt_tokens);
  });

  it('models: lists only what the key may use', async () => {
    const all = (await client.models.list()).data.map((m) => m.id);
    expect(all).toContain('gpt-4o-mini');
    expect(all).toContain('claude-sonnet-4-5');
    const limited = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: s.limitedKey, maxRetries: 0 });
    const ids = (await limited.models.list()).data.map((m) => m.id);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((id) => id.startsWith('gpt-4o'))).toBe(true);
  });

  it('upstream errors pass through with their status and body', async () => {
    const err = await client.chat.completions.create({ model: 'mock-error-429', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.status).toBe(429);
    expect(err.message).toContain('mock');
    const bad = await client.chat.completions.create({ model: 'mock-error-400', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    const viaDirect = await direct.chat.completions.create({ model: 'mock-error-400', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(bad.error).toEqual(viaDirect.error);
  });

  it('refuses a key restricted to other models with 403, and unknown models with 404', async () => {
    const limited = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: s.limitedKey, maxRetries: 0 });
    const denied = await limited.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(denied.message).toContain('gpt-4.1');
    const unknown = await client.chat.completions.create({ model: 'llama-3', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown.message).toContain('llama-3');
  });

  it('forwards the provider key, never the Warden key, and propagates the request id', async () => {
    s.mock.requests.length = 0;
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'client-req-42' } });
    const seen = s.mock.requests.at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(JSON.stringify(seen.headers)).not.toContain(s.agentKey);
    expect(seen.headers['x-request-id']).toBe('client-req-42');
  });

  it('records the user and agent a caller declares, without passing the headers upstream', async () => {
    s.mock.requests.length = 0;
    await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'attrib' }] },
      { headers: { 'x-request-id': 'attrib-1', 'x-warden-user-id': 'alice@example.com', 'x-warden-agent-id': 'support-bot' } },
    );
    expect(s.mock.requests.at(-1)!.headers['x-warden-user-id']).toBeUndefined();
    const e = await lastEvent('attrib-1');
    expect([e.user_id, e.agent_id]).toEqual(['alice@example.com', 'support-bot']);
  });
});
