import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IdentityFailure } from './failure.js';
import { bodySha256, canonicalString, HmacVerifier, signRequest, type SigningKey, type SignedRequest } from './hmac.js';
import { MemoryNonceStore } from './nonces.js';
import { failureReason as reason } from './test-support.js';

const SECRET = 'wss_test_secret_for_unit_tests_only_0123456789';
const keys: Record<string, SigningKey> = {
  sk_live: { secret: Buffer.from(SECRET), orgId: 'org_1', projectId: 'prj_1', revoked: false },
  sk_revoked: { secret: Buffer.from(SECRET), orgId: 'org_1', projectId: null, revoked: true },
};

function verifier(now?: () => number): HmacVerifier {
  return new HmacVerifier({ lookup: async (id) => keys[id], nonces: new MemoryNonceStore({ now }), now });
}

const body = Buffer.from('{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}');
const path = '/v1/chat/completions?stream=false';

function signed(overrides: Partial<Parameters<typeof signRequest>[0]> = {}): SignedRequest {
  const input = { secret: SECRET, keyId: 'sk_live', method: 'POST', path, body, ...overrides };
  return { method: input.method, path: input.path, headers: signRequest(input), body: Buffer.from(input.body ?? '') };
}

describe('HmacVerifier', () => {
  it('accepts a request signed with signRequest and returns the key\'s org and project', async () => {
    const req = signed({ agentId: 'billing-bot' });
    expect(await verifier().verify(req)).toEqual({ keyId: 'sk_live', orgId: 'org_1', projectId: 'prj_1', agentId: 'billing-bot' });
  });

  it('accepts lowercase header names, as Node delivers them', async () => {
    const req = signed();
    const lower = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
    expect(await reason(verifier().verify({ ...req, headers: lower }))).toBe('accepted');
  });

  it('accepts a GET with no body', async () => {
    const headers = signRequest({ secret: SECRET, keyId: 'sk_live', method: 'GET', path: '/v1/models' });
    expect(await reason(verifier().verify({ method: 'GET', path: '/v1/models', headers, body: Buffer.alloc(0) }))).toBe('accepted');
  });

  it('refuses a changed body', async () => {
    const req = signed();
    expect(await reason(verifier().verify({ ...req, body: Buffer.from(body.toString().replace('hi', 'ho')) }))).toBe('bad_signature');
  });

  it('refuses a changed path or query', async () => {
    const req = signed();
    expect(await reason(verifier().verify({ ...req, path: '/v1/embeddings?stream=false' }))).toBe('bad_signature');
    expect(await reason(verifier().verify({ ...req, path: '/v1/chat/completions?stream=true' }))).toBe('bad_signature');
  });

  it('refuses a changed method', async () => {
    expect(await reason(verifier().verify({ ...signed(), method: 'PUT' }))).toBe('bad_signature');
  });

  it('refuses a changed timestamp', async () => {
    const req = signed();
    const ts = Number(req.headers['X-Warden-Timestamp']) - 1;
    expect(await reason(verifier().verify({ ...req, headers: { ...req.headers, 'X-Warden-Timestamp': String(ts) } }))).toBe('bad_signature');
  });

  it('refuses a signature made with another secret', async () => {
    expect(await reason(verifier().verify(signed({ secret: 'some other secret' })))).toBe('bad_signature');
  });

  it('refuses a replay of the same nonce, but not a new request from the same key', async () => {
    const v = verifier();
    const req = signed();
    expect(await reason(v.verify(req))).toBe('accepted');
    expect(await reason(v.verify(req))).toBe('replayed_nonce');
    expect(await reason(v.verify(signed()))).toBe('accepted');
  });

  it('refuses timestamps six minutes old or ahead, and says which', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await reason(verifier().verify(signed({ timestamp: now - 360 })))).toBe('stale_timestamp');
    expect(await reason(verifier().verify(signed({ timestamp: now + 360 })))).toBe('future_timestamp');
    await expect(verifier().verify(signed({ timestamp: now + 360 }))).rejects.toThrow(/in the future/);
  });

  it('accepts timestamps four minutes old or ahead', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await reason(verifier().verify(signed({ timestamp: now - 240 })))).toBe('accepted');
    expect(await reason(verifier().verify(signed({ timestamp: now + 240 })))).toBe('accepted');
  });

  it('refuses an unknown key and a revoked key', async () => {
    expect(await reason(verifier().verify(signed({ keyId: 'sk_nobody' })))).toBe('unknown_key');
    expect(await reason(verifier().verify(signed({ keyId: 'sk_revoked' })))).toBe('revoked_key');
  });

  it('refuses a request with a header missing, naming it', async () => {
    const req = signed();
    const { 'X-Warden-Nonce': _nonce, ...headers } = req.headers;
    const p = verifier().verify({ ...req, headers });
    await expect(p).rejects.toThrow(/X-Warden-Nonce/);
    expect(await reason(verifier().verify({ ...req, headers }))).toBe('missing_headers');
  });

  it('refuses badly formatted headers', async () => {
    const req = signed();
    const bad = (h: Record<string, string | string[]>) => reason(verifier().verify({ ...req, headers: { ...req.headers, ...h } }));
    expect(await bad({ 'X-Warden-Signature': 'v2=' + 'a'.repeat(64) })).toBe('bad_format');
    expect(await bad({ 'X-Warden-Signature': 'v1=abc' })).toBe('bad_format');
    expect(await bad({ 'X-Warden-Nonce': 'short' })).toBe('bad_format');
    expect(await bad({ 'X-Warden-Timestamp': '1.5e9' })).toBe('bad_format');
    expect(await bad({ 'X-Warden-Key-Id': ['sk_live', 'sk_live'] })).toBe('bad_format');
  });

  it('never puts the secret or the signature in its messages', async () => {
    const req = signed({ secret: 'some other secret' });
    const err = await verifier()
      .verify(req)
      .then(() => new Error('accepted'), (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(IdentityFailure);
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toContain(req.headers['X-Warden-Signature']!.slice(3));
  });
});

describe('the worked example in docs/hmac-signing.md', () => {
  const doc = readFileSync(new URL('../../../../docs/hmac-signing.md', import.meta.url), 'utf8');
  const field = (name: string) => {
    const m = new RegExp(`^\\| ${name} \\| \`([^\`]+)\``, 'm').exec(doc);
    if (!m) throw new Error(`the doc's example has no ${name}`);
    return m[1]!;
  };
  const example = {
    secret: field('secret'),
    keyId: field('key id'),
    method: field('method'),
    path: field('path'),
    timestamp: Number(field('timestamp')),
    nonce: field('nonce'),
    body: field('body'),
  };

  it('has the body hash signRequest computes', () => {
    expect(doc).toContain(`body sha256: ${bodySha256(example.body)}`);
  });

  it('shows the canonical string signRequest signs', () => {
    const block = /```text\n(v1\n[\s\S]*?)\n```/.exec(doc)?.[1];
    const expected = canonicalString({ ...example, timestamp: String(example.timestamp), bodySha256: bodySha256(example.body) });
    expect(block).toBe(expected);
    expect(doc).toContain(`\`${JSON.stringify(expected)}\``);
    expect(doc).toContain(`(${Buffer.byteLength(expected)} bytes;`);
  });

  it('shows the signature signRequest produces, and Warden accepts it', async () => {
    const headers = signRequest(example);
    expect(doc).toContain(`X-Warden-Signature: ${headers['X-Warden-Signature']}`);
    const lookup = async (id: string) => (id === example.keyId ? { secret: Buffer.from(example.secret), orgId: 'o', projectId: null, revoked: false } : undefined);
    const now = () => example.timestamp * 1000;
    const v = new HmacVerifier({ lookup, nonces: new MemoryNonceStore({ now }), now });
    const id = await v.verify({ method: example.method, path: example.path, headers, body: Buffer.from(example.body) });
    expect(id.keyId).toBe(example.keyId);
  });
});
