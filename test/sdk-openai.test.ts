import { WardenClient, wrapOpenAI } from '@warden/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers.js';
import { traceOf } from './sdk-helpers.js';

let s: Stack;
let warden: WardenClient;
let openai: OpenAI;
beforeAll(async () => {
  s = await startStack();
  warden = new WardenClient({ url: s.url, apiKey: s.agentKey, flushIntervalMs: 50 });
  openai = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: s.agentKey, maxRetries: 0 });
});
afterAll(async () => {
  await warden?.close({ timeoutMs: 1000 });
  await s?.close();
});

async function recorded(run: { id: string; finish(): Promise<unknown> }) {
  await run.finish();
  return (await traceOf(s.url, s.agentKey, run.id)).events;
}

describe('wrapOpenAI', () => {
  it('records a chat completion as an action request and its response, with the text and usage', async () => {
    const run = warden.startRun({ agent: 'openai-chat' });
    const ai = wrapOpenAI(openai, run);
    const messages = [{ role: 'user' as const, content: 'What is Warden?' }];
    const answer = await ai.chat.completions.create({ model: 'gpt-4o-mini', messages });
    // withResponse() still works through the wrapper, and is recorded too.
    const { data, response } = await ai.chat.completions.create({ model: 'gpt-4o', messages }).withResponse();
    expect(response.headers.get('x-request-id')).toBeTruthy();
    const events = await recorded(run);

    expect(events.map((e) => [e.type, e.actor, e.payload.tool])).toEqual([
      ['action_request', 'agent', 'openai.chat.completions'],
      ['action_response', 'tool', 'openai.chat.completions'],
      ['action_request', 'agent', 'openai.chat.completions'],
      ['action_response', 'tool', 'openai.chat.completions'],
    ]);
    const [req, res] = events;
    expect(req.payload.arguments).toEqual({ model: 'gpt-4o-mini', messages });
    expect(res.payload.call_id).toBe(req.payload.call_id);
    expect(res.payload).toMatchObject({ status: 'ok', output: { text: answer.choices[0]!.message.content, finish_reason: 'stop' } });
    expect(res.payload.usage).toEqual({ input_tokens: answer.usage!.prompt_tokens, output_tokens: answer.usage!.completion_tokens });
    expect(events[3].payload.output.text).toBe(data.choices[0]!.message.content);
    expect(events[3].payload.usage.output_tokens).toBe(data.usage!.completion_tokens);
  });

  it('records a streamed chat completion with usage, and the caller gets the chunks it would have got unwrapped', async () => {
    const run = warden.startRun({ agent: 'openai-stream' });
    const ai = wrapOpenAI(openai, run);
    const params = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Stream please' }], stream: true as const };
    const got: any[] = [];
    for await (const chunk of await ai.chat.completions.create(params)) got.push(chunk);
    const plain: any[] = [];
    for await (const chunk of await openai.chat.completions.create(params)) plain.push(chunk);
    const strip = (cs: any[]) => cs.map((c) => ({ ...c, id: undefined, created: undefined }));
    expect(strip(got)).toEqual(strip(plain));
    expect(JSON.stringify(got)).not.toContain('usage');

    // A caller that asked for usage keeps its usage chunk.
    const withUsage: any[] = [];
    for await (const chunk of await ai.chat.completions.create({ ...params, stream_options: { include_usage: true } })) withUsage.push(chunk);
    const usage = withUsage.at(-1).usage;
    expect(usage.completion_tokens).toBeGreaterThan(0);

    const events = await recorded(run);
    const responses = events.filter((e) => e.type === 'action_response');
    const text = got.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text.length).toBeGreaterThan(0);
    expect(responses[0].payload).toMatchObject({ status: 'ok', output: { text, finish_reason: 'stop' } });
    expect(responses[0].payload.usage.output_tokens).toBeGreaterThan(0);
    expect(responses[1].payload.usage).toEqual({ input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens });
    expect(events[0].payload.arguments).toEqual(params);
  });

  it('records a stream read through toReadableStream(), and one the caller stops reading early as incomplete', async () => {
    const run = warden.startRun({ agent: 'openai-stream-paths' });
    const ai = wrapOpenAI(openai, run);
    const params = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Stream please' }], stream: true as const };
    const lines = (await new Response((await ai.chat.completions.create(params)).toReadableStream()).text()).trim().split('\n');
    const text = lines.map((l) => JSON.parse(l).choices[0]?.delta?.content ?? '').join('');
    for await (const chunk of await ai.chat.completions.create(params)) {
      expect(chunk.choices[0]).toBeDefined();
      break;
    }
    const responses = (await recorded(run)).filter((e) => e.type === 'action_response');
    expect(lines.length).toBeGreaterThan(2);
    expect(responses[0].payload.output.text).toBe(text);
    expect(responses[0].payload.usage.output_tokens).toBeGreaterThan(0);
    expect(responses[0].payload.incomplete).toBeUndefined();
    expect(responses[1].payload.incomplete).toBe(true);
    expect(responses[1].payload.output.text.length).toBeLessThan(text.length);
  });

  it('records a failing call as an error event and still throws it to the caller', async () => {
    const run = warden.startRun({ agent: 'openai-fail' });
    const ai = wrapOpenAI(openai, run);
    const err = await ai.chat.completions.create({ model: 'llama-3', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    const events = await recorded(run);
    expect(events.map((e) => e.type)).toEqual(['action_request', 'error']);
    expect(events[1].payload).toMatchObject({ tool: 'openai.chat.completions', call_id: events[0].payload.call_id, http_status: 404, message: (err as Error).message });
    expect(events[1].payload.code).toBeTruthy();
  });

  it('records the responses API, streamed and not', async () => {
    const run = warden.startRun({ agent: 'openai-responses' });
    const ai = wrapOpenAI(openai, run);
    const r = await ai.responses.create({ model: 'gpt-4.1', input: 'Say hi' });
    let streamed = '';
    for await (const e of await ai.responses.create({ model: 'gpt-4.1', input: 'Say hi', stream: true })) if (e.type === 'response.output_text.delta') streamed += e.delta;
    const events = await recorded(run);
    const [, first, , second] = events;
    expect(first.payload).toMatchObject({ tool: 'openai.responses', status: 'ok', output: { text: r.output_text } });
    expect(first.payload.usage).toEqual({ input_tokens: r.usage!.input_tokens, output_tokens: r.usage!.output_tokens });
    expect(second.payload.output.text).toBe(streamed);
    expect(second.payload.usage.output_tokens).toBe(r.usage!.output_tokens);
  });

  it('leaves the rest of the client alone: other methods work and record nothing, the original is unchanged', async () => {
    const run = warden.startRun({ agent: 'openai-rest' });
    const ai = wrapOpenAI(openai, run);
    expect(ai).toBeInstanceOf(OpenAI);
    expect(ai.baseURL).toBe(openai.baseURL);
    const emb = await ai.embeddings.create({ model: 'text-embedding-3-small', input: 'alpha' });
    expect(emb.data[0]!.embedding.length).toBeGreaterThan(0);
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'unwrapped' }] });
    expect(await recorded(run)).toEqual([]);
  });
});
