import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AccessTokenIssuer, looksLikeJwt, newRefreshToken, refreshTokenId, type AccessTokenSubject } from './tokens.js';
import { failureReason as reason, b64url } from './test-support.js';

const secret = randomBytes(32);
const subject: AccessTokenSubject = { userId: 'usr_1', orgId: 'org_1', projectId: 'prj_1', roles: ['user', 'agent'], sessionId: 'ses_1' };

describe('AccessTokenIssuer', () => {
  it('verifies the token it issued and returns its claims', async () => {
    const issuer = new AccessTokenIssuer(secret);
    const before = Date.now();
    const { token, expiresAt } = await issuer.issue(subject);
    const claims = await issuer.verify(token);
    expect(claims).toMatchObject({ userId: 'usr_1', orgId: 'org_1', projectId: 'prj_1', roles: ['user', 'agent'], sessionId: 'ses_1' });
    expect(claims.expiresAt).toBe(expiresAt);
    expect(expiresAt - before).toBeGreaterThan(14 * 60_000);
    expect(expiresAt - before).toBeLessThanOrEqual(15 * 60_000);
  });

  it('keeps a null project', async () => {
    const issuer = new AccessTokenIssuer(secret);
    const { token } = await issuer.issue({ ...subject, projectId: null });
    expect((await issuer.verify(token)).projectId).toBeNull();
  });

  it('signs with HS256, a kid and the access token type', async () => {
    const { token } = await new AccessTokenIssuer(secret, { kid: 'k1' }).issue(subject);
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' });
  });

  it('refuses a token whose payload was altered', async () => {
    const issuer = new AccessTokenIssuer(secret);
    const [h, p, s] = (await issuer.issue(subject)).token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = `${h}.${b64url({ ...claims, roles: ['admin'] })}.${s}`;
    expect(await reason(issuer.verify(forged))).toBe('bad_signature');
  });

  it('refuses an expired token', async () => {
    const longAgo = Date.now() - 60 * 60_000;
    const old = await new AccessTokenIssuer(secret, { now: () => longAgo }).issue(subject);
    expect(await reason(new AccessTokenIssuer(secret).verify(old.token))).toBe('expired');
  });

  it('accepts a token a few seconds past expiry, within the clock tolerance', async () => {
    const t0 = Date.now() - 15 * 60_000 - 2_000;
    const { token } = await new AccessTokenIssuer(secret, { now: () => t0 }).issue(subject);
    expect(await reason(new AccessTokenIssuer(secret).verify(token))).toBe('accepted');
  });

  it('refuses alg "none"', async () => {
    const issuer = new AccessTokenIssuer(secret, { kid: 'k1' });
    const [, p] = (await issuer.issue(subject)).token.split('.');
    const unsigned = `${b64url({ alg: 'none', typ: 'at+jwt', kid: 'k1' })}.${p}.`;
    expect(await reason(issuer.verify(unsigned))).toBe('alg_none');
  });

  it('refuses a token signed with another secret under the same kid', async () => {
    const other = await new AccessTokenIssuer(randomBytes(32), { kid: 'k1' }).issue(subject);
    expect(await reason(new AccessTokenIssuer(secret, { kid: 'k1' }).verify(other.token))).toBe('bad_signature');
  });

  it('refuses a token signed with another secret and kid', async () => {
    const other = await new AccessTokenIssuer(randomBytes(32)).issue(subject);
    expect(await reason(new AccessTokenIssuer(secret).verify(other.token))).toBe('unknown_kid');
  });

  it('accepts tokens from a previous secret during rotation', async () => {
    const old = randomBytes(32);
    const { token } = await new AccessTokenIssuer(old, { kid: 'old' }).issue(subject);
    const rotated = new AccessTokenIssuer(secret, { kid: 'new', previousSecrets: [{ kid: 'old', secret: old }] });
    expect((await rotated.verify(token)).userId).toBe('usr_1');
  });

  it('refuses a token for another issuer or audience', async () => {
    const verifier = new AccessTokenIssuer(secret, { kid: 'k1' });
    const other = await new AccessTokenIssuer(secret, { kid: 'k1', issuer: 'elsewhere' }).issue(subject);
    expect(await reason(verifier.verify(other.token))).toBe('wrong_issuer');
    const otherAud = await new AccessTokenIssuer(secret, { kid: 'k1', audience: 'elsewhere' }).issue(subject);
    expect(await reason(verifier.verify(otherAud.token))).toBe('wrong_audience');
  });

  it('refuses a correctly signed JWT that is not an access token', async () => {
    const jwt = await new SignJWT({ org: 'org_1', prj: null, roles: ['admin'], sid: 's' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer('warden')
      .setAudience('warden')
      .setSubject('usr_1')
      .setIssuedAt()
      .setJti('j')
      .setExpirationTime('5m')
      .sign(secret);
    expect(await reason(new AccessTokenIssuer(secret, { kid: 'k1' }).verify(jwt))).toBe('wrong_type');
  });

  it('refuses a role outside Warden\'s set even when correctly signed', async () => {
    const jwt = await new SignJWT({ org: 'org_1', prj: null, roles: ['root'], sid: 's' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })
      .setIssuer('warden')
      .setAudience('warden')
      .setSubject('usr_1')
      .setIssuedAt()
      .setJti('j')
      .setExpirationTime('5m')
      .sign(secret);
    expect(await reason(new AccessTokenIssuer(secret, { kid: 'k1' }).verify(jwt))).toBe('invalid_claims');
  });

  it('refuses garbage as malformed', async () => {
    expect(await reason(new AccessTokenIssuer(secret).verify('not-a-jwt'))).toBe('malformed');
  });

  it('will not start with a secret shorter than 32 bytes', () => {
    expect(() => new AccessTokenIssuer(randomBytes(31))).toThrow(/32 bytes/);
  });
});

describe('refresh tokens', () => {
  it('are wdr_ plus 43 base64url characters, stored as their sha256', () => {
    const { token, id } = newRefreshToken();
    expect(token).toMatch(/^wdr_[A-Za-z0-9_-]{43}$/);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(refreshTokenId(token)).toBe(id);
    expect(newRefreshToken().token).not.toBe(token);
  });
});

describe('looksLikeJwt', () => {
  it('tells compact JWS from other credentials', () => {
    expect(looksLikeJwt('eyJh.eyJi.c2ln')).toBe(true);
    expect(looksLikeJwt('wdn_abc')).toBe(false);
    expect(looksLikeJwt('a.b')).toBe(false);
    expect(looksLikeJwt('a.b.c.d')).toBe(false);
    expect(looksLikeJwt('a+b.c.d')).toBe(false);
  });
});
