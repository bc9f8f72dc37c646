import { describe, expect, it } from 'vitest';
import { blankEvent, type WardenEvent } from './event.js';
import { eventJson, parseEventJson } from './json.js';

const full: WardenEvent = {
  id: '01a2-id', ts: 1_796_000_000_000, requestId: 'req-1', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', kind: 'llm.request',
  method: 'POST', route: '/v1/chat/completions', status: 200, durationMs: 1.234, upstreamMs: 0.5, ttftMs: 0.25,
  keyId: 'key_1', userId: 'user "quoted"', agentId: 'agent\nnewline', orgId: 'default', model: 'gpt-4o-mini', provider: 'openai',
  tokensIn: 12, tokensOut: 34, costUsd: 0.0000234, clientIp: '::1', userAgent: 'sdk/1.0 ✓ 日本', errorType: null, errorCode: null,
  decision: 'allow', detail: { stream: true, nested: { a: [1, 'two'] } },
};

describe('eventJson', () => {
  it('round-trips every field, leaving nulls out of the text', () => {
    const text = eventJson(full);
    expect(text).not.toContain('errorType');
    expect(parseEventJson(text)).toEqual(full);
  });

  it('keeps the text on one line whatever the strings hold (lines are joined by newlines on the way to the writer)', () => {
    expect(eventJson(full)).not.toContain('\n');
  });

  it('is the same object JSON.parse reads, with fields in declaration order', () => {
    const text = eventJson(full);
    expect(JSON.parse(text)).toEqual(Object.fromEntries(Object.entries(full).filter(([, v]) => v !== null)));
    expect(Object.keys(JSON.parse(text)).slice(0, 5)).toEqual(['id', 'ts', 'requestId', 'traceId', 'kind']);
  });

  it('turns numbers JSON cannot hold into null and keeps lone surrogates readable', () => {
    const e: WardenEvent = { ...blankEvent(), id: 'x', ts: 1, requestId: 'r', kind: 'k', durationMs: Number.NaN, costUsd: Infinity, model: 'bad\ud800' };
    const back = parseEventJson(eventJson(e));
    expect(back.durationMs).toBeNull();
    expect(back.costUsd).toBeNull();
    expect(back.model).toBe('bad\ud800');
  });
});
