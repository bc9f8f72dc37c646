import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers.js';
import { call, chatAs, eventOf, events, expectError, expectNowhere, rid } from './identity-helpers.js';

/**
 * A local identity provider with two realms (issuers A and B), each with
 * OIDC discovery and a JWKS, and a third configured issuer whose host is
 * down. The gateway is configured to trust all three.
 */
interface Signer {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  kid: string;
}

let idp: Server;
let base: string;
let downBase: string;
let s: Stack;
let keyA: Signer, keyB: Signer, rogue: Signer, rs512: Signer;
const issA = () => `${base}/a`;
const issB = () => `${base}/b`;
const AUD = 'warden-api';
const tokens: string[] = [];

async function rsa(kid: string, alg = 'RS256'): Promise<Signer> {
  return { ...(await generateKeyPair(alg, { extractable: true })), kid };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

const now = () => Math.floor(Date.now() / 1000);

async function token(signer: Signer, claims: JWTPayload = {}, header: { alg?: string; kid?: string } = {}): Promise<string> {
  const t = await new SignJWT({ iss: issA(), sub: 'alice', aud: AUD, iat: now(), exp: now() + 300, tenant: 'acme', groups: ['engineers'], ...claims })
    .setProtectedHeader({ alg: header.alg ?? 'RS256', kid: header.kid ?? signer.kid, typ: 'JWT' })
    .sign(signer.privateKey);
  tokens.push(t);
  return t;
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

beforeAll(async () => {
  [keyA, keyB, rogue, rs512] = await Promise.all([rsa('a-1'), rsa('b-1'), rsa('a-1'), rsa('a-1', 'RS512')]);
  const jwks = { a: [{ ...(await exportJWK(keyA.publicKey)), kid: 'a-1', alg: 'RS256', use: 'sig' }], b: [{ ...(await exportJWK(keyB.publicKey)), kid: 'b-1', alg: 'RS256', use: 'sig' }] };
  idp = createServer((req, res) => {
    const m = /^\/([ab])\/(\.well-known\/openid-configuration|jwks)$/.exec(req.url ?? '');
    if (!m) return void res.writeHead(404).end();
    const realm = m[1] as 'a' | 'b';
    const body = m[2] === 'jwks' ? { keys: jwks[realm] } : { issuer: `${base}/${realm}`, jwks_uri: `${base}/${realm}/jwks` };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  base = await listen(idp);
  // A port that was just free and is closed again: connecting is refused at once.
  const gone = createServer();
  downBase = await listen(gone);
  await new Promise((r) => gone.close(r));

  s = await startStack({
    config: {
      auth: {
        oidc: [
          { issuer: issA(), audience: AUD, claims: { org: 'tenant', roles: 'groups', role_map: { 'warden-admins': 'admin', engineers: 'user' } } },
          { issuer: issB(), audience: AUD, claims: { org: 'tenant', default_roles: ['user'] } },
          { issuer: `${downBase}/down`, audience: AUD, claims: { default_org: 'acme', default_roles: ['user'] } },
        ],
      },
    },
  });
  const org = await call(s, 'POST', '/api/v1/orgs', { auth: s.systemKey, body: { id: 'acme', name: 'Acme' } });
  expect(org.status).toBe(201);
});
afterAll(async () => {
  await s?.close();
  await new Promise((r) => idp?.close(r));
});

describe('a valid OIDC token', () => {
  it('calls /v1/chat/completions, and the event carries the user and org from its claims', async () => {
    const id = rid('oidc-ok');
    const r = await chatAs(s, await token(keyA), { 'x-request-id': id });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const ev = await eventOf(s, 'llm.request', id);
    expect(ev).toMatchObject({ user_id: 'alice', org_id: 'acme', key_id: null, decision: 'allow', status: 200 });
  });

  it('works as the OpenAI SDK apiKey', async () => {
    const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: await token(keyA, { sub: 'sdk-user' }), maxRetries: 0 });
    const out = await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
    expect(out.choices[0]!.message.content).toEqual(expect.any(String));
  });

  it('from a second issuer is verified with that issuer\'s keys and gets its default role', async () => {
    const id = rid('oidc-b');
    const r = await chatAs(s, await token(keyB, { iss: issB(), sub: 'bob', groups: undefined }), { 'x-request-id': id });
    expect(r.status).toBe(200);
    expect(await eventOf(s, 'llm.request', id)).toMatchObject({ user_id: 'bob', org_id: 'acme' });
  });
});

describe('role mapping', () => {
  it('an IdP group called "admin" that is not in role_map grants nothing', async () => {
    const t = await token(keyA, { groups: ['admin'] });
    const chat = await chatAs(s, t);
    expectError(chat, 403, 'permission_denied');
    expect(chat.body.error.message).toContain('llm:call');
    expectError(await call(s, 'GET', '/api/v1/audit', { auth: t }), 403, 'permission_denied');
  });

  it('a group mapped to admin reads the audit log of its own org only', async () => {
    const r = await call(s, 'GET', '/api/v1/audit?limit=100', { auth: await token(keyA, { sub: 'carol', groups: ['warden-admins'] }) });
    expect(r.status).toBe(200);
    expect(r.body.data.length).toBeGreaterThan(0);
    expect(new Set(r.body.data.map((e: any) => e.org_id))).toEqual(new Set(['acme']));
  });
});

describe('forged and unusable tokens', () => {
  it('are each refused with 401 and an auth.failure event whose reason names the attack', async () => {
    const spki = await exportSPKI(keyA.publicKey);
    const forgeries: Array<[string, () => Promise<string>, string, string]> = [
      ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: issA(), sub: 'mallory', aud: AUD, exp: now() + 300, tenant: 'acme', groups: ['warden-admins'] })}.`, 'invalid_token', 'alg_none'],
      ['same kid, other key', () => token(rogue, { groups: ['warden-admins'] }), 'invalid_token', 'bad_signature'],
      [
        'HS256 keyed with the RSA public key',
        async () =>
          new SignJWT({ iss: issA(), sub: 'mallory', aud: AUD, exp: now() + 300, tenant: 'acme' })
            .setProtectedHeader({ alg: 'HS256', kid: 'a-1', typ: 'JWT' })
            .sign(new TextEncoder().encode(spki)),
        'invalid_token',
        'symmetric_alg',
      ],
      ['expired', () => token(keyA, { iat: now() - 7200, exp: now() - 3600 }), 'token_expired', 'expired'],
      ['wrong audience', () => token(keyA, { aud: 'some-other-api' }), 'invalid_token', 'wrong_audience'],
      ['unknown issuer', () => token(keyA, { iss: 'https://evil.example.com' }), 'invalid_token', 'unknown_issuer'],
      ['near-miss issuer (trailing slash)', () => token(keyA, { iss: `${issA()}/` }), 'invalid_token', 'unknown_issuer'],
      ['issuer A claimed, signed by issuer B', () => token(keyB, { iss: issA() }), 'invalid_token', 'unknown_kid'],
      ['algorithm outside the issuer\'s list', () => token(rs512, {}, { alg: 'RS512' }), 'invalid_token', 'alg_not_allowed'],
      ['Warden\'s own issuer claimed, signed by the IdP', () => token(keyA, { iss: 'warden', aud: 'warden' }), 'invalid_token', 'unknown_kid'],
    ];
    const seen: string[] = [];
    const forwardedBefore = s.mock.requests.length;
    for (const [name, make, code] of forgeries) {
      const t = await make();
      tokens.push(t);
      const id = rid('forged');
      const r = await chatAs(s, t, { 'x-request-id': id });
      expect(r.status, name).toBe(401);
      expectError(r, 401, code);
      expect(r.headers.get('www-authenticate')).toContain('Bearer');
      const ev = await eventOf(s, 'auth.failure', id);
      seen.push(`${name}: ${ev.detail.reason}`);
      expect(ev, name).toMatchObject({ decision: 'deny', status: 401, user_id: null, client_ip: '127.0.0.1', detail: { via: 'bearer' } });
    }
    expect(seen).toEqual(forgeries.map(([name, , , reason]) => `${name}: ${reason}`));
    expect(s.mock.requests.length, 'no forged call reaches the provider').toBe(forwardedBefore);
  });

  it('a valid token naming an organization that does not exist is refused, so no claim can open a tenant', async () => {
    const r = await chatAs(s, await token(keyA, { tenant: 'ghost', groups: ['warden-admins'] }), { 'x-request-id': rid('ghost') });
    expectError(r, 401, 'invalid_token');
    expect(r.body.error.message).toContain('"ghost"');
  });

  it('a token whose issuer\'s keys cannot be fetched gets 503 identity_provider_unavailable, not 401', async () => {
    const id = rid('idp-down');
    const r = await chatAs(s, await token(keyA, { iss: `${downBase}/down` }), { 'x-request-id': id });
    expectError(r, 503, 'identity_provider_unavailable');
    expect(r.body.error.type).toBe('unavailable');
    const ev = await eventOf(s, 'auth.failure', id);
    expect(ev).toMatchObject({ status: 503, decision: 'deny', detail: { reason: 'jwks_unavailable' } });
  });

  it('the organisation\'s admin does not see failures that name no verified org, the operator does', async () => {
    const orgAdmin = await token(keyA, { sub: 'dave', groups: ['warden-admins'] });
    const mine = await events(s, 'auth.failure', orgAdmin);
    expect(mine).toEqual([]);
    expect((await events(s, 'auth.failure')).length).toBeGreaterThanOrEqual(10);
  });
});

describe('secrecy', () => {
  it('no token presented above appears in the audit log or the logs', async () => {
    expect(tokens.length).toBeGreaterThan(12);
    await expectNowhere(s, tokens);
  });
});

describe('MCP clients with OIDC bearer tokens', () => {
  it('reach /mcp with an OIDC access token, and a 401 points them to the protected resource metadata naming the issuers', async () => {
    const { startToolServer, text, wardenClient } = await import('./mcp-helpers.js');
    const tools = await startToolServer([{ name: 'ping', description: 'Pings', inputSchema: { type: 'object', properties: {} }, run: () => text('pong') }]);
    try {
      const put = await call(s, 'PUT', '/api/v1/mcp/servers/ops?org_id=acme', { auth: s.systemKey, body: { url: tools.url } });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      const client = await wardenClient(s.url, await token(keyA, { sub: 'mcp-user' }));
      try {
        expect(await client.callTool({ name: 'ops__ping', arguments: {} })).toMatchObject({ content: [{ text: 'pong' }] });
      } finally {
        await client.close();
      }
      const denied = await fetch(`${s.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(denied.status).toBe(401);
      const pointer = /resource_metadata="([^"]+)"/.exec(denied.headers.get('www-authenticate') ?? '')?.[1];
      expect(pointer).toBe(`${s.url}/.well-known/oauth-protected-resource/mcp`);
      const meta = (await (await fetch(pointer!)).json()) as { resource: string; authorization_servers: string[] };
      expect(meta.resource).toBe(`${s.url}/mcp`);
      expect(meta.authorization_servers).toEqual([issA(), issB(), `${downBase}/down`]);
    } finally {
      await tools.close();
    }
  });
});
