import { readFileSync } from 'node:fs';
import { bodySha256, signRequest, WardenClient, type WardenSdkError } from '@warden/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers.js';
import { countingFetch, type FaultProxy, signingSecret, startFaultProxy, traceOf } from './sdk-helpers.js';

const doc = readFileSync(new URL('../docs/hmac-signing.md', import.meta.url), 'utf8');
const field = (name: string) => {
  const m = new RegExp(`^\\| ${name} \\| \`([^\`]+)\``, 'm').exec(doc);
  if (!m) throw new Error(`the doc's example has no ${name}`);
  return m[1]!;
};

describe('the SDK signs as docs/hmac-signing.md says', () => {
  it('gives the worked example its body hash and signature', () => {
    const body = field('body');
    expect(doc).toContain(`body sha256: ${bodySha256(body)}`);
    const headers = signRequest({ secret: field('secret'), keyId: field('key id'), method: field('method'), path: field('path'), body, timestamp: Number(field('timestamp')), nonce: field('nonce') });
    expect(headers).toEqual({
      'X-Warden-Key-Id': field('key id'),
      'X-Warden-Timestamp': field('timestamp'),
      'X-Warden-Nonce': field('nonce'),
      'X-Warden-Signature': /X-Warden-Signature: (v1=[0-9a-f]{64})/.exec(doc)![1],
    });
  });

  it('makes a fresh nonce for every request', () => {
    const sign = () => signRequest({ secret: 's', keyId: 'sk_1', method: 'POST', path: '/x', body: '' })['X-Warden-Nonce'];
    expect(sign()).not.toBe(sign());
  });
});

describe('signing options', () => {
  const url = 'http://127.0.0.1:9';

  it('the constructor refuses a bad signing.keyId or signing.secret with a TypeError naming it', () => {
    expect(() => new WardenClient({ url, signing: { keyId: 'sk 01 with spaces', secret: 's3cret' } })).toThrow(/signing\.keyId .*"sk 01 with spaces"/);
    expect(() => new WardenClient({ url, signing: { keyId: 'x'.repeat(129), secret: 's3cret' } })).toThrow(/signing\.keyId/);
    expect(() => new WardenClient({ url, signing: { keyId: '', secret: 's3cret' } })).toThrow(/signing\.keyId/);
    expect(() => new WardenClient({ url, signing: { keyId: 'sk_01HZY3Q8M4T2', secret: '' } })).toThrow(/signing\.secret/);
    expect(() => new WardenClient({ url, apiKey: 'wk_with a space' })).toThrow(/apiKey/);
    // The secret is never echoed in the message.
    expect(() => new WardenClient({ url, signing: { keyId: 'sk bad', secret: 'do-not-print-me' } })).not.toThrow(/do-not-print-me/);
    expect(() => new WardenClient({ url, signing: { keyId: 'sk_01HZY3Q8M4T2', secret: 's3cret' } })).not.toThrow();
  });
});

describe('signed and gzipped requests against Warden', () => {
  let s: Stack;
  let proxy: FaultProxy | undefined;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(async () => {
    await proxy?.close();
    await s?.close();
  });

  it('Warden accepts the SDK signed, gzipped batches: the run reads back whole', async () => {
    const errors: WardenSdkError[] = [];
    const counted = countingFetch();
    const signing = await signingSecret(s.url, s.adminKey, 'sdk-signer');
    const c = new WardenClient({ url: s.url, signing, fetch: counted.fetch, onError: (e) => errors.push(e) });
    const run = c.startRun({ agent: 'sdk-signed' });
    for (let i = 1; i <= 20; i++) run.reasoning(`step ${i}: ${'a considered thought '.repeat(10)}`);
    const done = await run.finish();
    await c.close();
    expect(errors).toEqual([]);
    expect(done).toMatchObject({ status: 'completed', events: 20 });
    const batch = counted.to('/api/v1/trace-events/batch');
    expect(batch).toHaveLength(1);
    expect(batch[0]!.headers['content-encoding']).toBe('gzip');
    // About 4 KB of JSON, sent in far fewer bytes.
    expect(batch[0]!.bodyBytes).toBeLessThan(1024);
    for (const r of counted.sent) {
      expect(r.headers.authorization).toBeUndefined();
      expect(r.headers['x-warden-key-id']).toBe(signing.keyId);
      expect(r.headers['x-warden-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    }
    // A small body (the create, the finalize) goes uncompressed.
    expect(counted.to('/api/v1/runs')[0]!.headers['content-encoding']).toBeUndefined();
    expect((await traceOf(s.url, s.adminKey, run.id)).events.map((e) => e.payload.text.split(':')[0])).toEqual(Array.from({ length: 20 }, (_, i) => `step ${i + 1}`));
  });

  it('a signed batch whose answer was lost is retried with a new nonce, and Warden takes it as a duplicate', async () => {
    const errors: WardenSdkError[] = [];
    const signing = await signingSecret(s.url, s.adminKey, 'sdk-retry-signer');
    const nonces: string[] = [];
    // The first batch reaches Warden and is stored, but the answer is cut off.
    proxy = await startFaultProxy(s.url, (n, req) => {
      if (req.url === '/api/v1/trace-events/batch') nonces.push(String(req.headers['x-warden-nonce']));
      return req.url === '/api/v1/trace-events/batch' && nonces.length === 1 ? 'forward_lose_answer' : 'forward';
    });
    const c = new WardenClient({ url: proxy.url, signing, retry: { baseMs: 10 }, onError: (e) => errors.push(e) });
    const run = c.startRun({ agent: 'sdk-signed-retry' });
    run.reasoning('once');
    run.reasoning('twice');
    expect(await run.finish()).toMatchObject({ events: 2 });
    await c.close();
    expect(nonces).toHaveLength(2);
    expect(nonces[0]).not.toBe(nonces[1]);
    expect(errors).toEqual([]);
    expect((await traceOf(s.url, s.adminKey, run.id)).events.map((e) => e.seq)).toEqual([1, 2]);
  });
});
