import { describe, expect, it } from 'vitest';
import type { Detector, Finding } from './finding.js';
import { payloadTexts } from './payload.js';
import { riskLevel, riskScore } from './risk.js';
import { ContentScanner, Redactor } from './scanner.js';

/** A detector that reports every occurrence of fixed words. */
function words(category: Finding['category'], map: Record<string, [string, number]>): Detector {
  return {
    name: `fake-${category}`,
    detect(text) {
      const out: Finding[] = [];
      for (const [w, [type, confidence]] of Object.entries(map)) {
        for (let i = text.indexOf(w); i !== -1; i = text.indexOf(w, i + 1)) out.push({ type, category, start: i, end: i + w.length, confidence });
      }
      return out;
    },
  };
}
const KEY = Buffer.alloc(32, 7);

describe('ContentScanner', () => {
  it('keeps a secret over PII on the same characters, and drops findings below the confidence floor', () => {
    const s = new ContentScanner([words('pii', { '123456789012': ['PHONE_NUMBER', 0.6], low: ['URL', 0.2] }), words('secret', { 'tok123456789012': ['GENERIC_SECRET', 0.7] })], KEY);
    const found = s.scan('x tok123456789012 low', 0.5);
    expect(found.map((f) => f.type)).toEqual(['GENERIC_SECRET']);
  });

  it('records a keyed hash and a masked preview, never the value', () => {
    const s = new ContentScanner([], KEY);
    const text = 'key AKIA4QX7ZP2MNB6RT3WY end';
    const r = s.record(text, 'messages[0].content', { type: 'AWS_ACCESS_KEY', category: 'secret', start: 4, end: 24, confidence: 0.95 });
    expect(r).toEqual({ type: 'AWS_ACCESS_KEY', category: 'secret', where: 'messages[0].content', start: 4, end: 24, confidence: 0.95, hash: expect.stringMatching(/^[0-9a-f]{16}$/), preview: 'AK********WY' });
    expect(JSON.stringify(r)).not.toContain('4QX7ZP2MNB6RT3');
    // Keyed: another installation's key gives another hash for the same value.
    expect(new ContentScanner([], Buffer.alloc(32, 8)).record(text, 'x', { type: 'AWS_ACCESS_KEY', category: 'secret', start: 4, end: 24, confidence: 1 }).hash).not.toBe(r.hash);
  });
});

describe('Redactor', () => {
  it('numbers placeholders per type and reuses one for a repeated value across texts', () => {
    const red = new Redactor();
    const f = (start: number, end: number, type = 'EMAIL_ADDRESS'): Finding => ({ type, category: 'pii', start, end, confidence: 1 });
    expect(red.redact('a@x.io b@y.io', [f(0, 6), f(7, 13)])).toBe('[EMAIL_ADDRESS_1] [EMAIL_ADDRESS_2]');
    expect(red.redact('again b@y.io', [f(6, 12)])).toBe('again [EMAIL_ADDRESS_2]');
    expect(red.redact('call 555', [f(5, 8, 'PHONE_NUMBER')])).toBe('call [PHONE_NUMBER_1]');
  });

  it('leaves injection findings in place (there is nothing to replace them with)', () => {
    expect(new Redactor().redact('ignore all', [{ type: 'PROMPT_INJECTION', category: 'injection', start: 0, end: 10, confidence: 0.9 }])).toBe('ignore all');
  });
});

describe('payloadTexts', () => {
  it('collects every string a model reads, in all roles and formats, with its source, and replaces in place', () => {
    const body: Record<string, unknown> = {
      system: 'anthropic system',
      messages: [
        { role: 'system', content: 'sys' },
        { role: 'user', content: [{ type: 'text', text: 'part' }, { type: 'image_url', image_url: { url: 'data:...' } }] },
        { role: 'tool', content: 'tool says' },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x', content: [{ type: 'text', text: 'nested result' }] }] },
      ],
    };
    const texts = payloadTexts(body);
    expect(texts.map((t) => [t.where, t.text, t.source])).toEqual([
      ['system', 'anthropic system', 'system'],
      ['messages[0].content', 'sys', 'system'],
      ['messages[1].content[0].text', 'part', 'user'],
      ['messages[2].content', 'tool says', 'tool_result'],
      ['messages[3].content[0].content[0].text', 'nested result', 'tool_result'],
    ]);
    texts[2]!.replace('PART');
    expect((body.messages as any)[1].content[0].text).toBe('PART');
  });

  it('reads responses and embeddings inputs', () => {
    expect(payloadTexts({ instructions: 'be brief', input: [{ role: 'user', content: 'hi' }, { type: 'function_call_output', output: 'result' }] }).map((t) => t.source)).toEqual(['system', 'user', 'tool_result']);
    expect(payloadTexts({ input: ['one', 'two'] }).map((t) => t.text)).toEqual(['one', 'two']);
  });
});

describe('riskScore', () => {
  const base = { findings: [], injection: 0, route: 'generation' as const, auth: 'machine' as const, payloadBytes: 100, recent: 0 };
  it('is low for a plain authenticated call and critical for a likely injection carrying a secret', () => {
    expect(riskScore(base).level).toBe('low');
    const r = riskScore({ ...base, injection: 0.9, findings: [{ type: 'AWS_ACCESS_KEY', category: 'secret', where: '', start: 0, end: 1, confidence: 0.95, hash: '', preview: '' }] });
    expect(r.level).toBe('critical');
    expect(r.indicators.slice(0, 2)).toEqual(['injection', 'secret:AWS_ACCESS_KEY']);
  });

  it('rises with missing auth, admin routes, size and recent violations, and never passes 1', () => {
    const parts = riskScore({ ...base, auth: 'none', route: 'admin', payloadBytes: 2 << 20, recent: 100 });
    expect(parts.indicators).toEqual(['recent_violations', 'no_auth', 'large_payload', 'admin_route']);
    expect(parts.score).toBeLessThanOrEqual(1);
    expect(parts.score).toBeGreaterThan(riskScore({ ...base, auth: 'none' }).score);
  });

  it('maps scores to levels at 0.3, 0.6 and 0.8', () => {
    expect([0.29, 0.3, 0.59, 0.6, 0.79, 0.8].map(riskLevel)).toEqual(['low', 'medium', 'medium', 'high', 'high', 'critical']);
  });
});
