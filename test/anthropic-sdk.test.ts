import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_KEY, type Stack, adminGet, flushed, startStack } from './helpers.js';

let s: Stack;
let client: Anthropic;
let direct: Anthropic;

beforeAll(async () => {
  s = await startStack();
  client = new Anthropic({ baseURL: s.url, apiKey: s.agentKey, maxRetries: 0 });
  direct = new Anthropic({ baseURL: s.mock.url, apiKey: PROVIDER_KEY, maxRetries: 0 });
});
afterAll(async () => s?.close());

const params = { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Hello Claude' }] };

async function eventFor(requestId: string): Promise<Record<string, any>> {
  await flushed(s);
  const r = await adminGet(s, '/api/v1/audit?limit=20');
  return r.body.data.find((x: any) => x.request_id === requestId);
}

describe('Anthropic SDK through Warden', () => {
  it('messages, not streamed: same answer as the upstream, usage and cost recorded', async () => {
    const { data, response } = await client.messages.create(params).withResponse();
    const want = await direct.messages.create(params);
    expect(data.content).toEqual(want.content);
    expect(data.usage).toEqual(want.usage);
    const e = await eventFor(response.headers.get('x-request-id')!);
    expect(e).toMatchObject({ provider: 'mock-anthropic', model: 'claude-sonnet-4-5', tokens_in: want.usage.input_tokens, tokens_out: want.usage.output_tokens });
    expect(e.cost_usd).toBeCloseTo((want.usage.input_tokens * 3 + want.usage.output_tokens * 15) / 1e6, 12);
  });

  it('messages, streamed: the SDK assembles the same message and Warden records the usage', async () => {
    const stream = client.messages.stream(params);
    const msg = await stream.finalMessage();
    const want = await direct.messages.stream(params).finalMessage();
    expect(msg.content).toEqual(want.content);
    const rid = (await stream.withResponse()).response.headers.get('x-request-id')!;
    const e = await eventFor(rid);
    expect([e.tokens_in, e.tokens_out]).toEqual([want.usage.input_tokens, want.usage.output_tokens]);
    expect(e.ttft_ms).toBeGreaterThan(0);
  });

  it('accepts the key as x-api-key and forwards the provider key instead', async () => {
    s.mock.requests.length = 0;
    await client.messages.create(params);
    const seen = s.mock.requests.at(-1)!;
    expect(seen.headers['x-api-key']).toBe(PROVIDER_KEY);
    expect(seen.headers['anthropic-version']).toBeTruthy();
  });

  it('a bad key is refused with 401 that the SDK reports with Warden\'s message', async () => {
    const bad = new Anthropic({ baseURL: s.url, apiKey: 'wdn_notarealkey', maxRetries: 0 });
    const err = await bad.messages.create(params).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(err.status).toBe(401);
    expect(err.message).toContain('API key is not valid');
  });

  it('upstream errors pass through', async () => {
    const err = await client.messages.create({ ...params, model: 'mock-error-500' }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
  });
});
