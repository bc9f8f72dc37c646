import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockUpstream, type MockUpstream } from './index.js';

const API_KEY = 'sk-mock-secret';
const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'What is the capital of France, and why is it Paris?' },
];

let upstream: MockUpstream;
let secured: MockUpstream;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  [upstream, secured] = await Promise.all([
    startMockUpstream({ recordRequests: true }),
    startMockUpstream({ apiKey: API_KEY }),
  ]);
  // Retries off: otherwise injected 429/5xx faults would be retried with back-off.
  openai = new OpenAI({ baseURL: `${upstream.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: upstream.url, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await Promise.all([upstream.close(), secured.close()]);
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => new Error('expected the promise to reject'),
    (err: unknown) => err,
  );
}

function post(path: string, body: string, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return fetch(`${upstream.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal,
  });
}

describe('OpenAI chat completions', () => {
  it('answers non-stream requests deterministically', async () => {
    const first = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const second = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
    expect(first.id).toMatch(/^chatcmpl-mock-\d+$/);
    expect(first.object).toBe('chat.completion');
    expect(first.model).toBe('gpt-4o-mini');
    expect(first.choices[0]?.message.role).toBe('assistant');
    expect(first.choices[0]?.message.content).toMatch(/^Mock answer to: What is the capital of France, and why i\. This is/);
    expect(first.choices[0]?.finish_reason).toBe('stop');
    const usage = first.usage;
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
    expect(second.choices).toEqual(first.choices);
    expect(second.usage).toEqual(first.usage);
  });

  it('streams without any usage key when include_usage is absent', async () => {
    const reference = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((chunk) => !('usage' in chunk))).toBe(true);
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    const deltas = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').filter((text) => text !== '');
    expect(deltas).toHaveLength(8);
    expect(deltas.join('')).toBe(reference.choices[0]?.message.content);
  });

  it('streams usage:null on every chunk plus a final usage chunk with include_usage', async () => {
    const reference = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1);
    const rest = chunks.slice(0, -1);
    expect(rest.length).toBeGreaterThan(2);
    expect(rest.every((chunk) => 'usage' in chunk && chunk.usage === null)).toBe(true);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual(reference.usage);
    expect(rest.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });
});

describe('OpenAI responses', () => {
  it('answers non-stream requests with string or message-array input', async () => {
    const fromString = await openai.responses.create({ model: 'gpt-4o', input: 'Say hello' });
    const fromArray = await openai.responses.create({
      model: 'gpt-4o',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Say hello' }] }],
    });
    expect(fromString.id).toMatch(/^resp_mock_\d+$/);
    expect(fromString.object).toBe('response');
    expect(fromString.status).toBe('completed');
    expect(fromString.output_text).toBe('Mock answer to: Say hello. This is a deterministic reply from the Warden mock upstream.');
    expect(fromArray.output_text).toBe(fromString.output_text);
    expect(fromArray.usage).toEqual(fromString.usage);
    expect(fromString.usage?.total_tokens).toBe(
      (fromString.usage?.input_tokens ?? 0) + (fromString.usage?.output_tokens ?? 0),
    );
  });

  it('streams the documented event sequence and supports finalResponse()', async () => {
    const reference = await openai.responses.create({ model: 'gpt-4o', input: 'Stream please' });
    const stream = await openai.responses.create({ model: 'gpt-4o', input: 'Stream please', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const types = events.map((event) => event.type);
    expect(types.slice(0, 4)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    expect(types.filter((type) => type === 'response.output_text.delta')).toHaveLength(8);
    expect(types.slice(-4)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));

    const final = await openai.responses.stream({ model: 'gpt-4o', input: 'Stream please' }).finalResponse();
    expect(final.output_text).toBe(reference.output_text);
    expect(final.usage).toEqual(reference.usage);
  });
});

describe('OpenAI embeddings and models', () => {
  it('decodes the SDK default base64 encoding to the same vectors as float', async () => {
    const input = ['alpha', 'beta'];
    const viaBase64 = await openai.embeddings.create({ model: 'text-embedding-3-small', input });
    const viaFloat = await openai.embeddings.create({ model: 'text-embedding-3-small', input, encoding_format: 'float' });
    const sent = upstream.requests.filter((request) => request.path === '/v1/embeddings').slice(-2);
    expect(sent.map((request) => (JSON.parse(request.body) as { encoding_format: string }).encoding_format)).toEqual([
      'base64',
      'float',
    ]);
    expect(viaBase64.data).toHaveLength(2);
    expect(viaBase64.data[0]?.embedding).toHaveLength(8);
    expect(viaBase64.data.map((item) => item.embedding)).toEqual(viaFloat.data.map((item) => item.embedding));
    expect(viaBase64.data[0]?.embedding).not.toEqual(viaBase64.data[1]?.embedding);
    expect(viaFloat.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
  });

  it('lists models', async () => {
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids).toContain('gpt-4o-mini');
  });
});

describe('Anthropic messages', () => {
  const params: Anthropic.MessageCreateParamsNonStreaming = {
    model: 'claude-mock-1',
    max_tokens: 128,
    system: 'Be brief.',
    messages: [{ role: 'user', content: 'Tell me about Warden.' }],
  };

  it('answers non-stream requests deterministically', async () => {
    const first = await anthropic.messages.create(params);
    const second = await anthropic.messages.create(params);
    expect(first.id).toMatch(/^msg_mock_\d+$/);
    expect(first.type).toBe('message');
    expect(first.model).toBe('claude-mock-1');
    expect(first.stop_reason).toBe('end_turn');
    expect(first.content[0]).toEqual({
      type: 'text',
      text: 'Mock answer to: Tell me about Warden. This is a deterministic reply from the Warden mock upstream.',
    });
    expect(second.content).toEqual(first.content);
    expect(second.usage).toEqual(first.usage);
  });

  it('streams events that the SDK accumulates into the same message and usage', async () => {
    const reference = await anthropic.messages.create(params);
    const stream = anthropic.messages.stream(params);
    const deltas: string[] = [];
    stream.on('text', (text) => deltas.push(text));
    const final = await stream.finalMessage();
    expect(deltas).toHaveLength(8);
    expect(final.content).toEqual(reference.content);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.input_tokens).toBe(reference.usage.input_tokens);
    expect(final.usage.output_tokens).toBe(reference.usage.output_tokens);
  });
});

describe('authentication', () => {
  it('rejects a wrong key with each provider error shape and accepts the right one', async () => {
    const badOpenai = new OpenAI({ baseURL: `${secured.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    const goodOpenai = new OpenAI({ baseURL: `${secured.url}/v1`, apiKey: API_KEY, maxRetries: 0 });
    const badAnthropic = new Anthropic({ baseURL: secured.url, apiKey: 'wrong', maxRetries: 0 });
    const goodAnthropic = new Anthropic({ baseURL: secured.url, apiKey: API_KEY, maxRetries: 0 });
    const anthropicParams = { model: 'claude', max_tokens: 16, messages: [{ role: 'user' as const, content: 'hi' }] };

    expect(await rejection(badOpenai.chat.completions.create({ model: 'gpt-4o', messages }))).toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
    expect(await rejection(badAnthropic.messages.create(anthropicParams))).toBeInstanceOf(Anthropic.AuthenticationError);
    const ok = await goodOpenai.chat.completions.create({ model: 'gpt-4o', messages });
    expect(ok.choices[0]?.message.content).toMatch(/^Mock answer/);
    const okAnthropic = await goodAnthropic.messages.create(anthropicParams);
    expect(okAnthropic.stop_reason).toBe('end_turn');
  });
});

describe('fault injection', () => {
  it('mock-error-429 surfaces as RateLimitError with retry-after', async () => {
    const err = await rejection(openai.chat.completions.create({ model: 'mock-error-429', messages }));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    if (!(err instanceof OpenAI.RateLimitError)) return;
    expect(err.status).toBe(429);
    expect(err.message).toContain('mock');
    expect(err.headers?.get('retry-after')).toBe('1');

    const anthropicErr = await rejection(
      anthropic.messages.create({ model: 'mock-error-429', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(anthropicErr).toBeInstanceOf(Anthropic.RateLimitError);
  });

  it('mock-error-500 and bad requests use the provider error shapes', async () => {
    const err = await rejection(openai.chat.completions.create({ model: 'mock-error-500', messages }));
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);

    const missingModel = await post('/v1/chat/completions', '{"messages":[]}');
    expect(missingModel.status).toBe(400);
    expect(await missingModel.json()).toMatchObject({
      error: { type: 'invalid_request_error', param: null, code: null },
    });
    const badJson = await post('/v1/messages', '{not json');
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    const unknown = await post('/v1/nowhere', '{}');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-request-id')).toMatch(/^mock-\d+$/);
    expect(await unknown.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('mock-hangup drops the connection and mock-slow delays the answer', async () => {
    expect(await rejection(openai.chat.completions.create({ model: 'mock-hangup', messages }))).toBeInstanceOf(
      OpenAI.APIConnectionError,
    );
    const started = Date.now();
    const slow = await openai.chat.completions.create({ model: 'mock-slow-120', messages });
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    expect(slow.choices[0]?.message.content).toMatch(/^Mock answer/);
  });

  it('mock-stall sends the first event and then nothing', async () => {
    const controller = new AbortController();
    const res = await post(
      '/v1/chat/completions',
      JSON.stringify({ model: 'mock-stall', messages, stream: true }),
      {},
      controller.signal,
    );
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toMatch(/^data: .*"role":"assistant"/);
    const next = await Promise.race([
      reader?.read().then(() => 'more'),
      new Promise((resolve) => setTimeout(() => resolve('stalled'), 150)),
    ]);
    expect(next).toBe('stalled');
    controller.abort();
  });

  it('honours x-mock-chunk-delay-ms and close() ends stalled connections promptly', async () => {
    const started = Date.now();
    const res = await post('/v1/messages', JSON.stringify({ ...{ model: 'c', max_tokens: 8 }, stream: true, messages }), {
      'x-mock-chunk-delay-ms': '15',
    });
    const text = await res.text();
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(text.match(/^event: /gm)).toHaveLength(14);

    const local = await startMockUpstream();
    const stalled = fetch(`${local.url}/v1/embeddings`, {
      method: 'POST',
      body: JSON.stringify({ model: 'mock-stall', input: 'x' }),
    }).then((r) => r.text());
    await new Promise((resolve) => setTimeout(resolve, 30));
    const closing = Date.now();
    await local.close();
    expect(Date.now() - closing).toBeLessThan(500);
    expect(await rejection(stalled)).toBeInstanceOf(Error);
  });
});
