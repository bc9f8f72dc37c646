/**
 * Guardrails on model answers, through the gateway and the providers' own
 * SDKs: non-streamed answers blocked or redacted before the client sees
 * them, streamed ones inspected as they flow with secrets cut across chunks,
 * and every finding recorded as a guard.finding event of direction response.
 * The mock upstream answers `mock-echo: <text>` with <text>, cut into pieces
 * of `x-mock-chunk-chars` characters.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers.js';
import { call, eventOf, expectError, expectNowhere, findingOf, rid } from './identity-helpers.js';

const AWS = 'AKIA4QX7ZP2MNB6RT3WY';
const EMAIL = 'jane.doe.test@example.org';
const ANSWER = `Done. The deploy key is ${AWS} and the owner is ${EMAIL}; ask her before rotating it.`;
const REDACTED = ANSWER.replace(AWS, '[AWS_ACCESS_KEY_1]').replace(EMAIL, '[EMAIL_ADDRESS_1]');
const echo = (text: string) => `mock-echo: ${text}`;

let s: Stack;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  s = await startStack({
    config: {
      guard: {
        // Requests are only flagged, so the (echoing) model sees the values; answers are acted on.
        actions: { pii: 'flag', secret: 'flag', injection: 'flag' },
        rules: [
          { match: { direction: ['response'], model: ['gpt-4o'] }, actions: { secret: 'block', pii: 'flag' } },
          { match: { direction: ['response'] }, actions: { secret: 'redact', pii: 'redact' } },
        ],
      },
    },
  });
  openai = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: s.agentKey, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: s.url, apiKey: s.agentKey, maxRetries: 0 });
});
afterAll(() => s?.close());

const opts = (id: string, chunkChars = 3) => ({ headers: { 'x-request-id': id, 'x-mock-chunk-chars': String(chunkChars) } });

describe('non-streamed answers', () => {
  it('redacts a secret and an email in the answer before the client sees it, and records them', async () => {
    const id = rid('ans-redact');
    const r = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: echo(ANSWER) }] }, opts(id));
    expect(r.choices[0]!.message.content).toBe(REDACTED);
    // The request's own finding event (flag) is separate from the answer's.
    const a = await responseFinding(id);
    expect(a.detail).toMatchObject({ direction: 'response', action: 'redact', types: ['AWS_ACCESS_KEY', 'EMAIL_ADDRESS'] });
    expect(a.detail.description).toContain("in the model's answer");
    expect(a.detail.findings[0]).toMatchObject({ where: 'choices[0].message.content', start: ANSWER.indexOf(AWS) });
    const llm = await eventOf(s, 'llm.request', id);
    expect(llm.detail.guard_answer).toEqual({ action: 'redact', types: ['AWS_ACCESS_KEY', 'EMAIL_ADDRESS'] });
  });

  it('blocks an answer holding a secret with 403 content_blocked, naming the type and never the value', async () => {
    const id = rid('ans-block');
    const r = await call(s, 'POST', '/v1/chat/completions', { auth: s.agentKey, body: { model: 'gpt-4o', messages: [{ role: 'user', content: echo(ANSWER) }] }, headers: { 'x-request-id': id } });
    expectError(r, 403, 'content_blocked');
    expect(r.body.error.message).toBe("The model's answer was blocked by a guardrail: it contains AWS_ACCESS_KEY.");
    expect(JSON.stringify(r.body)).not.toContain('AKIA');
    expect((await responseFinding(id)).detail).toMatchObject({ action: 'block', decision: 'deny' });
    const llm = await eventOf(s, 'llm.request', id);
    expect(llm).toMatchObject({ status: 403, error_code: 'content_blocked' });
    expect(llm.tokens_out).toBeGreaterThan(0); // the model did the work: it is charged
  });

  it('redacts an Anthropic answer', async () => {
    const id = rid('ans-anthropic');
    const m = await anthropic.messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 64, messages: [{ role: 'user', content: echo(ANSWER) }] }, opts(id));
    expect(m.content[0]).toMatchObject({ type: 'text', text: REDACTED });
  });
});

describe('streamed answers', () => {
  it('OpenAI chat: a secret and an email cut across 3-character chunks come out redacted, and the SDK reads the stream normally', async () => {
    for (const n of [1, 3, 7]) {
      const id = rid(`stream-redact-${n}`);
      const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: echo(ANSWER) }] }, opts(id, n));
      let text = '';
      let finish: string | null = null;
      for await (const c of stream) {
        text += c.choices[0]?.delta.content ?? '';
        finish = c.choices[0]?.finish_reason ?? finish;
      }
      expect(text, `pieces of ${n}`).toBe(REDACTED);
      expect(finish).toBe('stop');
      const llm = await eventOf(s, 'llm.request', id);
      expect(llm.tokens_out).toBeGreaterThan(0);
      expect((await responseFinding(id)).detail).toMatchObject({ action: 'redact', types: ['AWS_ACCESS_KEY', 'EMAIL_ADDRESS'] });
    }
  });

  it('OpenAI chat: a blocked stream ends with an error the SDK raises, after text that holds no part of the secret', async () => {
    const id = rid('stream-block');
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: echo(ANSWER) }] }, opts(id, 2));
    let text = '';
    const err = await (async () => {
      try {
        for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).code).toBe('content_blocked');
    expect((err as Error).message).toContain('AWS_ACCESS_KEY');
    expect(ANSWER.startsWith(text)).toBe(true);
    expect(text).not.toContain('AKIA');
    const llm = await eventOf(s, 'llm.request', id);
    expect(llm).toMatchObject({ error_code: 'content_blocked' });
    expect(llm.detail.usage_estimated).toBe(true);
    expect((await responseFinding(id)).detail).toMatchObject({ action: 'block', types: ['AWS_ACCESS_KEY'] });
  });

  it('Anthropic messages: redacted as it streams, and the SDK assembles the redacted text', async () => {
    const id = rid('stream-anthropic');
    const stream = anthropic.messages.stream({ model: 'claude-3-5-haiku-latest', max_tokens: 64, messages: [{ role: 'user', content: echo(ANSWER) }] }, opts(id, 4));
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'text', text: REDACTED });
  });

  it('Responses API: deltas and the summary events (output_text.done, response.completed) are redacted alike', async () => {
    const id = rid('stream-responses');
    const stream = await openai.responses.create({ model: 'gpt-4o-mini', stream: true, input: echo(ANSWER) }, opts(id, 5));
    let deltas = '';
    let done = '';
    let completed = '';
    for await (const e of stream) {
      if (e.type === 'response.output_text.delta') deltas += e.delta;
      if (e.type === 'response.output_text.done') done = e.text;
      if (e.type === 'response.completed') completed = e.response.output_text ?? JSON.stringify(e.response.output);
    }
    expect(deltas).toBe(REDACTED);
    expect(done).toBe(REDACTED);
    expect(completed).toContain('[AWS_ACCESS_KEY_1]');
    expect(completed).not.toContain('AKIA');
  });

  it('leaves a clean stream byte-identical to what the upstream sent', async () => {
    const body = { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: echo('Paris is the capital of France, and has been for a long while now.') }] };
    const headers = { 'content-type': 'application/json', 'x-mock-chunk-chars': '3' };
    const via = await (await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { ...headers, authorization: `Bearer ${s.agentKey}` }, body: JSON.stringify(body) })).text();
    const direct = await (await fetch(`${s.mock.url}/v1/chat/completions`, { method: 'POST', headers: { ...headers, authorization: 'Bearer sk-upstream-secret-123' }, body: JSON.stringify({ ...body, stream_options: { include_usage: true } }) })).text();
    const norm = (t: string) => t.replace(/"(id|created)":("[^"]*"|\d+)/g, '"$1":0').replace(/,"usage":null/g, '').split('\n\n').filter((e) => !e.includes('"choices":[]')).join('\n\n');
    expect(norm(via)).toBe(norm(direct));
  });

  it('never records what it found: the values appear neither in the audit trail nor in the logs', async () => {
    await expectNowhere(s, [AWS, EMAIL]);
  });
});

describe('answers not inspected', () => {
  it('guard.answers: false leaves answers alone', async () => {
    const t = await startStack({ config: { guard: { answers: false, actions: { secret: 'flag', pii: 'flag', injection: 'flag' }, rules: [{ match: { direction: ['response'] }, actions: { secret: 'block' } }] } } });
    try {
      const r = await call(t, 'POST', '/v1/chat/completions', { auth: t.agentKey, body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: echo(ANSWER) }] } });
      expect(r.status).toBe(200);
      expect(r.body.choices[0].message.content).toBe(ANSWER);
    } finally {
      await t.close();
    }
  });
});

const responseFinding = (id: string) => findingOf(s, id, 'response');
