import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Guard, type GuardConfig } from '../guard/guard.js';
import { ContentScanner, InjectionDetector, PiiDetector, Redactor, SecretsDetector } from '../guard/index.js';
import { type AnswerGuard, type AnswerReport, StreamAnswerGuard } from './answer-guard.js';
import type { UsageFormat } from './usage.js';

const AWS = 'AKIA4QX7ZP2MNB6RT3WY';
const EMAIL = 'jane.doe.test@example.org';
const TEXT = `Sure. The deploy key is ${AWS} and the owner is ${EMAIL}, ask her before rotating it. Nothing else is needed here.`;

function guardWith(actions: GuardConfig['actions']): Guard {
  return new Guard({ min_confidence: 0.5, actions, rules: [], answers: true }, new ContentScanner([new SecretsDetector(), new PiiDetector()], Buffer.alloc(32)), new InjectionDetector());
}

function answerGuard(guard: Guard, reports: AnswerReport[], redactor = new Redactor()): AnswerGuard {
  return {
    guard,
    target: { orgId: 'o', projectId: null, route: '/v1/chat/completions', model: 'm', direction: 'response' },
    redactor,
    report: (r) => reports.push(r),
    blockedEvent: (_f: UsageFormat, types: string[]) => `data: ${JSON.stringify({ error: { code: 'content_blocked', message: `blocked: ${types.join(', ')}` } })}\n\n`,
  };
}

/** An OpenAI chat stream of `text` in pieces of `n` characters, as SSE. */
function chatStream(text: string, n: number): string {
  const ev = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
  let s = ev({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
  for (let i = 0; i < text.length; i += n) s += ev({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: text.slice(i, i + n) }, finish_reason: null }] });
  s += ev({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
  return s + 'data: [DONE]\n\n';
}

/** An Anthropic messages stream of `text` in pieces of `n` characters. */
function messagesStream(text: string, n: number): string {
  const ev = (type: string, o: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...o })}\n\n`;
  let s = ev('message_start', { message: { id: 'm', usage: { input_tokens: 3, output_tokens: 1 } } }) + ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
  for (let i = 0; i < text.length; i += n) s += ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: text.slice(i, i + n) } });
  return s + ev('content_block_stop', { index: 0 }) + ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } }) + ev('message_stop', {});
}

/** Feeds `sse` through the guard in byte chunks of `size` (so events and UTF-8 are cut anywhere) and returns what the client gets. */
function run(g: StreamAnswerGuard, sse: string, size: number): string {
  const bytes = Buffer.from(sse);
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length && !g.closed; i += size) out.push(g.push(bytes.subarray(i, i + size)));
  if (!g.closed) out.push(g.end());
  return Buffer.concat(out).toString('utf8');
}

/** The text a client assembles from a chat stream's deltas. */
function chatText(sse: string): string {
  return sse
    .split('\n\n')
    .filter((e) => e.startsWith('data: {'))
    .map((e) => JSON.parse(e.slice(6)) as { choices?: Array<{ delta?: { content?: string } }> })
    .map((d) => d.choices?.[0]?.delta?.content ?? '')
    .join('');
}

describe('StreamAnswerGuard', () => {
  it('passes a stream with nothing to find through byte for byte, at any chunking', () => {
    const sse = chatStream('Paris is the capital of France. It has been since the tenth century, more or less.', 3);
    for (const size of [1, 7, 64, 10_000]) expect(run(new StreamAnswerGuard('chat', answerGuard(guardWith({ pii: 'redact', secret: 'block', injection: 'flag' }), [])), sse, size)).toBe(sse);
  });

  it('redacts a secret and an email split across deltas at every cut, whatever the chunking, keeping the SSE valid', () => {
    const expected = TEXT.replace(AWS, '[AWS_ACCESS_KEY_1]').replace(EMAIL, '[EMAIL_ADDRESS_1]');
    for (const n of [1, 2, 3, 5, 8, 13]) {
      for (const size of [1, 17, 4096]) {
        const reports: AnswerReport[] = [];
        const out = run(new StreamAnswerGuard('chat', answerGuard(guardWith({ pii: 'redact', secret: 'redact', injection: 'flag' }), reports)), chatStream(TEXT, n), size);
        expect(chatText(out), `pieces of ${n}, chunks of ${size}`).toBe(expected);
        expect(out).not.toContain(AWS.slice(4, 12));
        expect(out.endsWith('data: [DONE]\n\n')).toBe(true);
        expect(reports).toHaveLength(1);
        expect(reports[0]!.action).toBe('redact');
        expect(reports[0]!.findings.map((f) => [f.type, f.start, f.end])).toEqual([
          ['AWS_ACCESS_KEY', TEXT.indexOf(AWS), TEXT.indexOf(AWS) + AWS.length],
          ['EMAIL_ADDRESS', TEXT.indexOf(EMAIL), TEXT.indexOf(EMAIL) + EMAIL.length],
        ]);
      }
    }
  });

  it('flags without changing a byte, and records each finding once', () => {
    const sse = chatStream(TEXT, 4);
    const reports: AnswerReport[] = [];
    expect(run(new StreamAnswerGuard('chat', answerGuard(guardWith({ pii: 'flag', secret: 'flag', injection: 'flag' }), reports)), sse, 5)).toBe(sse);
    expect(reports[0]!.findings.map((f) => f.type)).toEqual(['AWS_ACCESS_KEY', 'EMAIL_ADDRESS']);
    expect(reports[0]!.findings.every((f) => !f.preview.includes(AWS) && f.hash.length === 16)).toBe(true);
  });

  it('blocks: ends the stream with an error event before any character of the secret reaches the client', () => {
    for (const n of [1, 4, 9]) {
      const reports: AnswerReport[] = [];
      const g = new StreamAnswerGuard('chat', answerGuard(guardWith({ pii: 'flag', secret: 'block', injection: 'flag' }), reports));
      const out = run(g, chatStream(TEXT, n), 11);
      expect(g.closed).toBe(true);
      const text = chatText(out);
      expect(TEXT.startsWith(text)).toBe(true);
      expect(text.length).toBeLessThanOrEqual(TEXT.indexOf(AWS));
      expect(out).not.toContain('AKIA');
      expect(out.trimEnd().split('\n\n').at(-1)).toContain('"content_blocked"');
      expect(reports[0]).toMatchObject({ action: 'block', blocked: ['AWS_ACCESS_KEY'] });
    }
  });

  it('holds a private key until its END line, so it is redacted whole even far longer than the hold', () => {
    const body = `MIIEpAIBAAKCAQEA${randomBytes(900).toString('base64')}`;
    const pem = `-----BEGIN RSA PRIVATE KEY-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END RSA PRIVATE KEY-----`;
    const text = `Here is the key you asked for:\n${pem}\nKeep it safe.`;
    const out = run(new StreamAnswerGuard('chat', answerGuard(guardWith({ pii: 'flag', secret: 'redact', injection: 'flag' }), [])), chatStream(text, 6), 50);
    const got = chatText(out);
    expect(got).not.toContain('MIIE');
    expect(got).toMatch(/^Here is the key you asked for:\n\[PRIVATE_KEY_1\]\nKeep it safe\.$/);
  });

  it('redacts an Anthropic stream, keeping its event names', () => {
    const out = run(new StreamAnswerGuard('messages', answerGuard(guardWith({ pii: 'redact', secret: 'redact', injection: 'flag' }), [])), messagesStream(TEXT, 3), 13);
    const text = out
      .split('\n\n')
      .filter((e) => e.startsWith('event: content_block_delta'))
      .map((e) => JSON.parse(e.split('\ndata: ')[1]!).delta.text)
      .join('');
    expect(text).toBe(TEXT.replace(AWS, '[AWS_ACCESS_KEY_1]').replace(EMAIL, '[EMAIL_ADDRESS_1]'));
    expect(out).toContain('event: message_stop');
  });

  it("continues the request's placeholders: a value redacted in the prompt gets the same placeholder in the answer", () => {
    const redactor = new Redactor();
    redactor.placeholder('EMAIL_ADDRESS', 'someone.else@example.com');
    redactor.placeholder('EMAIL_ADDRESS', EMAIL);
    const out = run(new StreamAnswerGuard('chat', answerGuard(guardWith({ pii: 'redact', secret: 'flag', injection: 'flag' }), [], redactor)), chatStream(`Write to ${EMAIL} today, please, and copy nobody else on it at all.`, 4), 9);
    expect(chatText(out)).toContain('Write to [EMAIL_ADDRESS_2] today');
  });

  it('never holds more than a bounded tail: text keeps flowing on a long answer without spaces', () => {
    const g = new StreamAnswerGuard('chat', answerGuard(guardWith({ pii: 'redact', secret: 'redact', injection: 'flag' }), []));
    const sse = chatStream('x'.repeat(40_000), 100);
    const first = g.push(Buffer.from(sse.slice(0, sse.length / 2)));
    expect(chatText(first.toString()).length).toBeGreaterThan(10_000);
  });
});
