import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isUnavailable, type IdentityFailureReason } from './failure.js';
import { OidcVerifier, type OidcIssuerConfig, type OidcVerifierOptions } from './oidc.js';
import { failureReason as reason, b64url } from './test-support.js';

interface Realm {
  keys: JWK[];
  fetches: number;
  down: boolean;
}

const realms = new Map<string, Realm>();
let server: Server;
let base: string;

/** A minimal IdP: per-realm discovery and JWKS, with a switch to make the JWKS fail. */
function startIdp(): Promise<void> {
  server = createServer((req, res) => {
    const m = /^\/realms\/([a-z]+)\/(\.well-known\/openid-configuration|jwks|hang)$/.exec(req.url ?? '');
    const realm = m ? realms.get(m[1]!) : undefined;
    if (!m || !realm) return void res.writeHead(404).end();
    if (m[2] === 'hang') return; // never answers: for the timeout test
    const issuer = `${base}/realms/${m[1]}`;
    if (m[2] === 'jwks') {
      realm.fetches++;
      if (realm.down) return void res.writeHead(503).end();
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: realm.keys }));
    }
    const claimed = m[1] === 'liar' ? `${base}/realms/a` : issuer;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: claimed, jwks_uri: `${issuer}/jwks` }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

interface Signer {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  alg: string;
  kid: string;
}

async function signer(alg: 'RS256' | 'ES256', kid: string): Promise<Signer> {
  return { ...(await generateKeyPair(alg, { extractable: true })), alg, kid };
}

async function publicJwk(s: Signer): Promise<JWK> {
  return { ...(await exportJWK(s.publicKey)), kid: s.kid, alg: s.alg, use: 'sig' };
}

const now = () => Math.floor(Date.now() / 1000);

function sign(s: Signer, iss: string, claims: JWTPayload = {}, kid = s.kid): Promise<string> {
  return new SignJWT({ sub: 'u1', aud: 'warden', iat: now(), exp: now() + 300, tenant: 'org_x', ...claims, iss })
    .setProtectedHeader({ alg: s.alg, kid, typ: 'JWT' })
    .sign(s.privateKey);
}

let rsaA: Signer, ecA: Signer, rsaB: Signer, rogueA: Signer;
let issA: string, issB: string;

function configs(): OidcIssuerConfig[] {
  return [
    {
      issuer: issA,
      audience: 'warden',
      claims: { org: 'tenant', roles: 'realm_access.roles', role_map: { 'warden-admin': 'admin', 'warden-agents': 'agent' } },
    },
    {
      issuer: issB,
      audience: ['api', 'warden'],
      algorithms: ['RS256'],
      claims: { user: 'email', default_org: 'org_b', roles: 'https://example.com/roles', default_roles: ['guest'] },
    },
  ];
}

function verifier(options: OidcVerifierOptions = {}, extra: OidcIssuerConfig[] = []): OidcVerifier {
  return new OidcVerifier([...configs(), ...extra], { cooldownMs: 0, ...options });
}

beforeAll(async () => {
  await startIdp();
  [rsaA, ecA, rsaB] = await Promise.all([signer('RS256', 'a-rsa'), signer('ES256', 'a-ec'), signer('RS256', 'b-rsa')]);
  // Not published anywhere, but claims A's RSA kid.
  rogueA = await signer('RS256', 'a-rsa');
  issA = `${base}/realms/a`;
  issB = `${base}/realms/b`;
});

beforeEach(async () => {
  realms.clear();
  realms.set('a', { keys: [await publicJwk(rsaA), await publicJwk(ecA)], fetches: 0, down: false });
  realms.set('b', { keys: [await publicJwk(rsaB)], fetches: 0, down: false });
  realms.set('liar', { keys: [], fetches: 0, down: false });
  realms.set('slow', { keys: [], fetches: 0, down: false });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('OidcVerifier accepts', () => {
  it('an RS256 token, mapping org, dotted-path roles and role_map', async () => {
    const token = await sign(rsaA, issA, { realm_access: { roles: ['warden-admin', 'offline_access', 'user'] } });
    const id = await verifier().verify(token);
    expect(id).toMatchObject({ issuer: issA, subject: 'u1', userId: 'u1', orgId: 'org_x', roles: ['admin'] });
    expect(id.claims.realm_access).toEqual({ roles: ['warden-admin', 'offline_access', 'user'] });
  });

  it('an ES256 token from the same issuer', async () => {
    const id = await verifier().verify(await sign(ecA, issA, { realm_access: { roles: ['warden-agents'] } }));
    expect(id.roles).toEqual(['agent']);
  });

  it('a second issuer with its own user claim, default org, URL-named roles claim and audience list', async () => {
    const token = await sign(rsaB, issB, { email: 'ada@example.com', tenant: undefined, 'https://example.com/roles': ['user', 'superuser'] });
    const id = await verifier().verify(token);
    expect(id).toMatchObject({ issuer: issB, userId: 'ada@example.com', orgId: 'org_b', roles: ['user'] });
  });

  it('never takes the cross-org system role from an IdP by name alone (only a role_map can grant it)', async () => {
    const token = await sign(rsaB, issB, { email: 'ada@example.com', 'https://example.com/roles': ['system', 'admin'] });
    expect((await verifier().verify(token)).roles).toEqual(['admin']);
  });

  it('gives default roles when the token yields no Warden role', async () => {
    const token = await sign(rsaB, issB, { email: 'ada@example.com', 'https://example.com/roles': ['superuser'] });
    expect((await verifier().verify(token)).roles).toEqual(['guest']);
  });

  it('fetches discovery and the JWKS once for many tokens', async () => {
    const v = verifier({ cooldownMs: 30_000 });
    for (let i = 0; i < 3; i++) await v.verify(await sign(rsaA, issA));
    expect(realms.get('a')!.fetches).toBe(1);
  });

  it('picks up a key added to the JWKS after the first fetch', async () => {
    const v = verifier();
    await v.verify(await sign(rsaA, issA));
    const rotated = await signer('RS256', 'a-rsa-2');
    realms.get('a')!.keys.push(await publicJwk(rotated));
    expect((await v.verify(await sign(rotated, issA))).userId).toBe('u1');
    expect(realms.get('a')!.fetches).toBe(2);
  });
});

describe('OidcVerifier refuses', () => {
  it('a token that is not a JWT', async () => {
    expect(await reason(verifier().verify('wdn_notajwt'))).toBe('malformed');
    expect(await reason(verifier().verify(`${b64url({ alg: 'RS256' })}.bm90IGpzb24.c2ln`))).toBe('malformed');
  });

  it('alg "none"', async () => {
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ iss: issA, sub: 'u1', aud: 'warden', exp: now() + 300, tenant: 'org_x' })}.`;
    expect(await reason(verifier().verify(token))).toBe('alg_none');
  });

  it('a token from an issuer that is not configured', async () => {
    expect(await reason(verifier().verify(await sign(rsaA, `${base}/realms/unknown`)))).toBe('unknown_issuer');
  });

  it('a token signed by a key outside the JWKS that reuses a published kid', async () => {
    expect(await reason(verifier().verify(await sign(rogueA, issA)))).toBe('bad_signature');
  });

  it('HS256 signed with the issuer\'s RSA public key as the secret (PEM or JWK)', async () => {
    const claims = { iss: issA, sub: 'u1', aud: 'warden', exp: now() + 300, tenant: 'org_x' };
    for (const secret of [await exportSPKI(rsaA.publicKey), JSON.stringify(await publicJwk(rsaA))]) {
      const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'a-rsa' }).sign(new TextEncoder().encode(secret));
      expect(await reason(verifier().verify(token))).toBe('symmetric_alg');
    }
  });

  it('an algorithm the issuer is not configured for', async () => {
    const ecB = await signer('ES256', 'b-ec');
    realms.get('b')!.keys.push(await publicJwk(ecB));
    expect(await reason(verifier().verify(await sign(ecB, issB, { email: 'x@example.com' })))).toBe('alg_not_allowed');
  });

  it('an expired token', async () => {
    expect(await reason(verifier().verify(await sign(rsaA, issA, { exp: now() - 120 })))).toBe('expired');
  });

  it('a token past exp only within the clock tolerance is still accepted', async () => {
    expect(await reason(verifier().verify(await sign(rsaA, issA, { exp: now() - 10 })))).toBe('accepted');
  });

  it('a token without exp', async () => {
    expect(await reason(verifier().verify(await sign(rsaA, issA, { exp: undefined })))).toBe('missing_claim');
  });

  it('a token that is not valid yet', async () => {
    expect(await reason(verifier().verify(await sign(rsaA, issA, { nbf: now() + 120 })))).toBe('not_yet_valid');
  });

  it('a token for another audience, or none', async () => {
    expect(await reason(verifier().verify(await sign(rsaA, issA, { aud: 'someone-else' })))).toBe('wrong_audience');
    expect(await reason(verifier().verify(await sign(rsaA, issA, { aud: undefined })))).toBe('wrong_audience');
  });

  it('a token claiming issuer A but signed with issuer B\'s key', async () => {
    const v = verifier();
    expect(await reason(v.verify(await sign(rsaB, issA)))).toBe('unknown_kid');
    expect(await reason(v.verify(await sign(rsaB, issA, {}, 'a-rsa')))).toBe('bad_signature');
  });

  it('an unknown kid without refetching the JWKS during the cooldown', async () => {
    const v = verifier({ cooldownMs: 30_000 });
    await v.verify(await sign(rsaA, issA));
    const stranger = await signer('RS256', 'never-published');
    expect(await reason(v.verify(await sign(stranger, issA)))).toBe('unknown_kid');
    expect(await reason(v.verify(await sign(stranger, issA)))).toBe('unknown_kid');
    expect(realms.get('a')!.fetches).toBe(1);
  });

  it('a token with no org claim when the issuer has no default org', async () => {
    expect(await reason(verifier().verify(await sign(rsaA, issA, { tenant: undefined })))).toBe('no_org');
    expect(await reason(verifier().verify(await sign(rsaA, issA, { tenant: ['org_x', 'org_y'] })))).toBe('no_org');
  });

  it('a token without the configured user claim', async () => {
    expect(await reason(verifier().verify(await sign(rsaB, issB)))).toBe('missing_claim');
  });
});

describe('OidcVerifier when the identity provider is unavailable', () => {
  async function expectUnavailable(p: Promise<unknown>): Promise<void> {
    const r = await reason(p);
    expect(r).toBe('jwks_unavailable');
    expect(isUnavailable(r as IdentityFailureReason)).toBe(true);
  }

  it('answers jwks_unavailable when the issuer does not answer at all', async () => {
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const goneIss = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/realms/gone`;
    await new Promise((resolve) => gone.close(resolve));
    const v = verifier({}, [{ issuer: goneIss, audience: 'warden', claims: { default_org: 'o' } }]);
    await expectUnavailable(v.verify(await sign(rsaA, goneIss)));
  });

  it('answers jwks_unavailable when the JWKS fails on refetch for a new kid', async () => {
    const v = verifier();
    await v.verify(await sign(rsaA, issA));
    realms.get('a')!.down = true;
    await expectUnavailable(v.verify(await sign(await signer('RS256', 'a-rsa-3'), issA)));
  });

  it('answers jwks_unavailable when an explicit jwks_uri returns an error', async () => {
    realms.get('b')!.down = true;
    const v = new OidcVerifier([{ issuer: 'https://idp.example.com', audience: 'warden', jwks_uri: `${base}/realms/b/jwks`, claims: { default_org: 'o' } }]);
    await expectUnavailable(v.verify(await sign(rsaB, 'https://idp.example.com')));
  });

  it('answers jwks_unavailable when the JWKS request times out', async () => {
    const v = new OidcVerifier([{ issuer: 'https://slow.example.com', audience: 'warden', jwks_uri: `${base}/realms/slow/hang`, claims: { default_org: 'o' } }], { timeoutMs: 200 });
    const started = Date.now();
    await expectUnavailable(v.verify(await sign(rsaA, 'https://slow.example.com')));
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('answers jwks_unavailable when discovery names a different issuer', async () => {
    const liar = `${base}/realms/liar`;
    await expectUnavailable(verifier({}, [{ issuer: liar, audience: 'warden' }]).verify(await sign(rsaA, liar)));
  });
});

describe('OidcVerifier configuration', () => {
  it('refuses shared-secret and unsigned algorithms at start-up', () => {
    for (const alg of ['HS256', 'none']) {
      expect(() => new OidcVerifier([{ issuer: 'https://idp.example.com', audience: 'w', algorithms: [alg] }])).toThrow(/not allowed/);
    }
  });

  it('refuses plain http issuers other than loopback', () => {
    expect(() => new OidcVerifier([{ issuer: 'http://idp.example.com', audience: 'w' }])).toThrow(/https/);
  });

  it('refuses role maps that name roles Warden does not have', () => {
    expect(() => new OidcVerifier([{ issuer: 'https://idp.example.com', audience: 'w', claims: { role_map: { x: 'root' } } }])).toThrow(/not a Warden role/);
  });
});
