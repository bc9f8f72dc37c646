import { describe, expect, it } from 'vitest';
import { SseUsageReader, usageFromBody } from './usage.js';

const chunk = (content: string, usageNull: boolean) =>
  `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"${content}"},"finish_reason":null}]${usageNull ? ',"usage":null' : ''}}\n\n`;
const usageChunk = 'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}\n\n';
const DONE = 'data: [DONE]\n\n';

/** Feed text split at every `step` bytes, to cross event boundaries mid-chunk. */
function feed(reader: SseUsageReader, text: string, step: number): string {
  const buf = Buffer.from(text);
  let out = '';
  for (let i = 0; i < buf.length; i += step) out += reader.push(buf.subarray(i, i + step)).toString();
  return out + reader.end().toString();
}

describe('SseUsageReader', () => {
  it('reads usage from a chat stream the client asked usage for, forwarding bytes untouched', () => {
    const text = chunk('Hel', true) + chunk('lo', true) + usageChunk + DONE;
    for (const step of [1, 7, 64, 10_000]) {
      const r = new SseUsageReader('chat', false);
      expect(feed(r, text, step)).toBe(text);
      expect(r.usage).toEqual({ tokensIn: 11, tokensOut: 7 });
    }
  });

  it('in strip mode gives the client exactly the stream it would get without include_usage', () => {
    const withUsage = chunk('Hel', true) + chunk('lo', true) + usageChunk + DONE;
    const without = chunk('Hel', false) + chunk('lo', false) + DONE;
    for (const step of [1, 5, 100, 10_000]) {
      const r = new SseUsageReader('chat', true);
      expect(feed(r, withUsage, step)).toBe(without);
      expect(r.usage).toEqual({ tokensIn: 11, tokensOut: 7 });
    }
  });

  it('in strip mode also removes "usage":null written with spaces, first or last, and CRLF-delimited events', () => {
    const events = [
      'data: {"id":"a","choices":[{"delta":{"content":"x"}}], "usage" : null}\r\n\r\n',
      'data: {"usage":null,"id":"b","choices":[{"delta":{"content":"y"}}]}\r\n\r\n',
      'data: {"id":"c","choices":[{"delta":{"content":"say \\"usage\\":null"}}],"usage":null}\r\n\r\n',
    ];
    const expected = [
      'data: {"id":"a","choices":[{"delta":{"content":"x"}}]}\r\n\r\n',
      'data: {"id":"b","choices":[{"delta":{"content":"y"}}]}\r\n\r\n',
      'data: {"id":"c","choices":[{"delta":{"content":"say \\"usage\\":null"}}]}\r\n\r\n',
    ];
    for (const step of [1, 9, 10_000]) {
      const r = new SseUsageReader('chat', true);
      expect(feed(r, events.join('') + usageChunk + DONE, step)).toBe(expected.join('') + DONE);
      expect(r.usage).toEqual({ tokensIn: 11, tokensOut: 7 });
    }
  });

  it('keeps multi-byte characters intact across chunk splits', () => {
    const text = chunk('héllo ✓ 日本', true) + usageChunk + DONE;
    const r = new SseUsageReader('chat', true);
    expect(feed(r, text, 3)).toBe(chunk('héllo ✓ 日本', false) + DONE);
  });

  it('reads Anthropic message_start input and the final message_delta output', () => {
    const text =
      'event: message_start\ndata: {"type":"message_start","message":{"id":"m","usage":{"input_tokens":25,"cache_read_input_tokens":5,"output_tokens":1}}}\n\n' +
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}\n\n' +
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}\n\n' +
      'event: message_stop\ndata: {"type":"message_stop"}\n\n';
    const r = new SseUsageReader('messages', false);
    expect(feed(r, text, 13)).toBe(text);
    expect(r.usage).toEqual({ tokensIn: 30, tokensOut: 15 });
  });

  it('reads Responses API usage from response.completed, with CRLF framing', () => {
    const text =
      'event: response.output_text.delta\r\ndata: {"type":"response.output_text.delta","delta":"x"}\r\n\r\n' +
      'event: response.completed\r\ndata: {"type":"response.completed","response":{"usage":{"input_tokens":9,"output_tokens":4}}}\r\n\r\n';
    const r = new SseUsageReader('responses', false);
    feed(r, text, 11);
    expect(r.usage).toEqual({ tokensIn: 9, tokensOut: 4 });
  });
});

describe('usageFromBody', () => {
  it('reads each API shape and tolerates bodies without usage', () => {
    expect(usageFromBody('chat', { usage: { prompt_tokens: 3, completion_tokens: 2 } })).toEqual({ tokensIn: 3, tokensOut: 2 });
    expect(usageFromBody('embeddings', { usage: { prompt_tokens: 8 } })).toEqual({ tokensIn: 8, tokensOut: 0 });
    expect(usageFromBody('responses', { usage: { input_tokens: 5, output_tokens: 6 } })).toEqual({ tokensIn: 5, tokensOut: 6 });
    expect(usageFromBody('messages', { usage: { input_tokens: 5, output_tokens: 6 } })).toEqual({ tokensIn: 5, tokensOut: 6 });
    expect(usageFromBody('chat', { error: { message: 'x' } })).toEqual({ tokensIn: null, tokensOut: null });
    expect(usageFromBody('chat', null)).toEqual({ tokensIn: null, tokensOut: null });
  });
});
