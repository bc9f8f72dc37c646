import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../packages/warden/src/identity/index.js';
import { type Stack, startStack } from './helpers.js';
import { type Answer, CHAT, answer, call, eventOf, events, expectError, expectNowhere, rid } from './identity-helpers.js';

let s: Stack;
let secret: { id: string; secret: string };

beforeAll(async () => {
  s = await startStack();
  const r = await call(s, 'POST', '/api/v1/signing-secrets', { auth: s.adminKey, body: { name: 'billing-bot' } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  secret = r.body;
});
afterAll(async () => s?.close());

interface Signed {
  method?: string;
  /** The request target that is signed. */
  path?: string;
  /** The target actually sent, when it differs from the signed one. */
  sendPath?: string;
  body?: string;
  sendBody?: string;
  headers?: Record<string, string>;
  timestamp?: number;
  keyId?: string;
  key?: string;
  agentId?: string;
}

const BODY = JSON.stringify(CHAT);

/** A request signed with the admin-issued secret, then sent, perhaps altered on the way. */
async function signed(o: Signed = {}): Promise<Answer> {
  const method = o.method ?? 'POST';
  const path = o.path ?? '/v1/chat/completions';
  const body = method === 'GET' ? undefined : (o.body ?? BODY);
  const headers = signRequest({ secret: o.key ?? secret.secret, keyId: o.keyId ?? secret.id, method, path, body, timestamp: o.timestamp, agentId: o.agentId });
  const sendBody = o.sendBody ?? body;
  const res = await fetch(s.url + (o.sendPath ?? path), {
    method,
    body: sendBody,
    headers: { ...headers, ...(sendBody === undefined ? {} : { 'content-type': 'application/json' }), ...o.headers },
  });
  return answer(res);
}

describe('signing secrets', () => {
  it('the secret is shown once at creation and never by the list', async () => {
    expect(secret).toMatchObject({ id: expect.stringMatching(/^sk_/), name: 'billing-bot', org_id: 'default', revoked_at: null, secret: expect.any(String) });
    expect(secret.secret.length).toBeGreaterThanOrEqual(32);
    const list = await call(s, 'GET', '/api/v1/signing-secrets', { auth: s.adminKey });
    expect(list.status).toBe(200);
    expect(list.body.data.map((x: any) => x.id)).toContain(secret.id);
    expect(JSON.stringify(list.body)).not.toContain(secret.secret);
    for (const x of list.body.data) expect(Object.keys(x)).not.toContain('secret');
  });

  it('an agent key may not create signing secrets', async () => {
    const r = await call(s, 'POST', '/api/v1/signing-secrets', { auth: s.agentKey, body: { name: 'sneaky' } });
    expectError(r, 403, 'permission_denied');
    expect(r.body.error.message).toContain('secrets:create');
  });
});

describe('a correctly signed request', () => {
  it('is authenticated as an agent of the secret\'s org and calls /v1/chat/completions', async () => {
    const id = rid('hmac-ok');
    const r = await signed({ headers: { 'x-request-id': id } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const ev = await eventOf(s, 'llm.request', id, s.adminKey);
    expect(ev).toMatchObject({ agent_id: secret.id, org_id: 'default', key_id: null, user_id: null, decision: 'allow', status: 200 });
  });

  it('its signature headers are credentials and are not passed on to the provider', async () => {
    expect((await signed({ agentId: 'billing-bot-7' })).status).toBe(200);
    const forwarded = s.mock.requests.at(-1)!;
    expect(forwarded.headers.authorization).toBe('Bearer sk-upstream-secret-123'); // the provider's key, as for any caller
    expect(Object.keys(forwarded.headers).filter((h) => h.toLowerCase().startsWith('x-warden-'))).toEqual([]);
  });

  it('records the X-Warden-Agent-Id label as the event\'s agent', async () => {
    const id = rid('hmac-agent');
    expect((await signed({ agentId: 'billing-bot-7', headers: { 'x-request-id': id } })).status).toBe(200);
    expect((await eventOf(s, 'llm.request', id, s.adminKey)).agent_id).toBe('billing-bot-7');
  });

  it('signs a query string and a bodiless GET', async () => {
    const q = await signed({ path: '/v1/chat/completions?trace=on&tag=demo%20run' });
    expect(q.status, JSON.stringify(q.body)).toBe(200);
    const models = await signed({ method: 'GET', path: '/v1/models' });
    expect(models.status).toBe(200);
    expect(models.body.data.length).toBeGreaterThan(0);
  });

  it('has only the agent role: admin routes answer 403', async () => {
    const r = await signed({ method: 'GET', path: '/api/v1/audit' });
    expectError(r, 403, 'permission_denied');
    expect(r.body.error.message).toContain('audit:read');
  });
});

describe('refused signatures', () => {
  const minutesAgo = (m: number) => Math.floor(Date.now() / 1000) - m * 60;
  const nonce = `replay-${Date.now().toString(36)}-nonce`;
  const cases: Array<[string, Signed, string]> = [
    ['tampered body', { sendBody: BODY.replace('hi', 'ho') }, 'bad_signature'],
    ['body re-serialised with other whitespace', { sendBody: JSON.stringify(CHAT, null, 1) }, 'bad_signature'],
    ['tampered query', { path: '/v1/chat/completions?x=1', sendPath: '/v1/chat/completions?x=2' }, 'bad_signature'],
    ['tampered path', { path: '/v1/embeddings', sendPath: '/v1/chat/completions' }, 'bad_signature'],
    ['timestamp six minutes old', { timestamp: minutesAgo(6) }, 'stale_timestamp'],
    ['timestamp six minutes ahead', { timestamp: minutesAgo(-6) }, 'future_timestamp'],
    ['unknown key id', { keyId: 'sk_doesnotexist0000' }, 'unknown_key'],
    ['right key id, wrong secret', { key: 'wss_not-the-real-secret-at-all' }, 'bad_signature'],
  ];

  for (const [name, o, reason] of cases) {
    it(`${name}: 401 invalid_signature with auth.failure reason ${reason}`, async () => {
      const id = rid('hmac-bad');
      const before = s.mock.requests.length;
      const r = await signed({ ...o, headers: { ...o.headers, 'x-request-id': id } });
      expectError(r, 401, 'invalid_signature');
      expect(s.mock.requests.length, 'nothing forwarded').toBe(before);
      const ev = await eventOf(s, 'auth.failure', id);
      expect(ev).toMatchObject({ decision: 'deny', status: 401, detail: { reason, via: 'hmac' } });
    });
  }

  it('a replayed request (same nonce) is refused the second time with reason replayed_nonce', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const headers = signRequest({ secret: secret.secret, keyId: secret.id, method: 'POST', path: '/v1/chat/completions', body: BODY, timestamp: ts, nonce });
    const send = (id: string) =>
      fetch(`${s.url}/v1/chat/completions`, { method: 'POST', body: BODY, headers: { ...headers, 'content-type': 'application/json', 'x-request-id': id } }).then(answer);
    expect((await send(rid('first'))).status).toBe(200);
    const id = rid('replay');
    expectError(await send(id), 401, 'invalid_signature');
    // Every event also carries its risk (docs/guardrails.md): an unauthenticated request is at least medium;
    // a security event also its severity, a description and what raised the risk.
    const level = expect.stringMatching(/^(medium|high|critical)$/);
    expect((await eventOf(s, 'auth.failure', id)).detail).toEqual({
      reason: 'replayed_nonce',
      via: 'hmac',
      risk: expect.any(Number),
      risk_level: level,
      severity: level,
      description: 'Authentication failed (replayed_nonce); the request was refused.',
      risk_indicators: expect.arrayContaining(['no_auth']),
    });
  });

  it('missing signature headers are named in the message', async () => {
    const headers = signRequest({ secret: secret.secret, keyId: secret.id, method: 'POST', path: '/v1/chat/completions', body: BODY });
    delete headers['X-Warden-Nonce'];
    const r = await answer(await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', body: BODY, headers: { ...headers, 'content-type': 'application/json' } }));
    expectError(r, 401, 'invalid_signature');
    expect(r.body.error.message).toContain('X-Warden-Nonce');
  });

  it('after an admin revokes the secret, requests signed with it are refused with reason revoked_key', async () => {
    const fresh = await call(s, 'POST', '/api/v1/signing-secrets', { auth: s.adminKey, body: { name: 'short-lived' } });
    const use = (id: string) => signed({ keyId: fresh.body.id, key: fresh.body.secret, headers: { 'x-request-id': id } });
    expect((await use(rid('pre-revoke'))).status).toBe(200);
    const del = await call(s, 'DELETE', `/api/v1/signing-secrets/${fresh.body.id}`, { auth: s.adminKey });
    expect(del.status).toBe(200);
    expect(del.body.revoked_at).toEqual(expect.any(Number));
    const id = rid('revoked');
    expectError(await use(id), 401, 'invalid_signature');
    expect((await eventOf(s, 'auth.failure', id)).detail.reason).toBe('revoked_key');
    await expectNowhere(s, [fresh.body.secret]);
  });
});

describe('attribution of refusals', () => {
  it('like a revoked API key, use of a revoked signing secret is shown to its org\'s admins, attributed to the secret', async () => {
    const fresh = await call(s, 'POST', '/api/v1/signing-secrets', { auth: s.adminKey, body: { name: 'leaked-one' } });
    await call(s, 'DELETE', `/api/v1/signing-secrets/${fresh.body.id}`, { auth: s.adminKey });
    const id = rid('revoked-seen');
    expectError(await signed({ keyId: fresh.body.id, key: fresh.body.secret, headers: { 'x-request-id': id } }), 401, 'invalid_signature');
    const orgView = (await events(s, 'auth.failure', s.adminKey)).filter((e) => e.request_id === id);
    expect(orgView.map((e) => [e.org_id, e.agent_id, e.detail.reason])).toEqual([['default', fresh.body.id, 'revoked_key']]);
  });
});

describe('secrecy', () => {
  it('the signing secret never appears in the audit log (including its admin events) or the logs', async () => {
    const admin = await events(s, 'admin.signing_secret.create,admin.signing_secret.revoke');
    expect(admin.length).toBeGreaterThanOrEqual(3);
    expect(admin.find((e) => e.detail.target.signing_secret_id === secret.id).detail.after).toMatchObject({ id: secret.id, name: 'billing-bot' });
    await expectNowhere(s, [secret.secret]);
  });
});
