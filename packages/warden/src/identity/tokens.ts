import { createSecretKey, hash, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { IdentityFailure, joseFailure, type AccessTokenFailureReason } from './failure.js';

export const WARDEN_ROLES = ['admin', 'user', 'agent', 'system', 'guest'] as const;
export type WardenRole = (typeof WARDEN_ROLES)[number];

export function isWardenRole(value: unknown): value is WardenRole {
  return typeof value === 'string' && (WARDEN_ROLES as readonly string[]).includes(value);
}

// Header limits in front of Warden are 16 KiB; anything longer is not a token we issue or accept.
const MAX_JWT_LENGTH = 16 * 1024;
// Compact JWS (RFC 7515 §7.1): three base64url parts; the signature is empty only for alg "none",
// which we still want to recognise so it is refused as alg_none rather than as malformed.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Three base64url segments separated by dots: worth handing to a JWT verifier. */
export function looksLikeJwt(token: string): boolean {
  return token.length <= MAX_JWT_LENGTH && COMPACT_JWS.test(token);
}

export interface AccessTokenSubject {
  userId: string;
  orgId: string;
  projectId: string | null;
  roles: readonly WardenRole[];
  sessionId: string;
}

export interface AccessClaims extends AccessTokenSubject {
  roles: WardenRole[];
  /** `jti`, for revocation lists and audit. */
  tokenId: string;
  /** Milliseconds since the epoch. */
  issuedAt: number;
  expiresAt: number;
}

export interface IssuedAccessToken {
  token: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export interface AccessTokenOptions {
  /** Names the secret in the `kid` header; defaults to a fingerprint of it. */
  kid?: string;
  issuer?: string;
  audience?: string;
  ttlSeconds?: number;
  clockToleranceSeconds?: number;
  /** Secrets being rotated out: accepted by verify (by kid), never used to issue. */
  previousSecrets?: readonly { kid: string; secret: Uint8Array }[];
  /** Clock in milliseconds; injectable for tests. */
  now?: () => number;
}

/** RFC 9068 §2.1 media type; verify requires it so no other JWT of ours passes as an access token (RFC 8725 §3.11). */
const ACCESS_TOKEN_TYPE = 'at+jwt';
// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
const MIN_SECRET_BYTES = 32;

function fail(reason: AccessTokenFailureReason, message: string): IdentityFailure<AccessTokenFailureReason> {
  return new IdentityFailure(reason, message);
}

function secretKey(secret: Uint8Array): KeyObject {
  if (secret.byteLength < MIN_SECRET_BYTES) {
    throw new RangeError(`The access token secret must be at least ${MIN_SECRET_BYTES} bytes.`);
  }
  return createSecretKey(Buffer.from(secret));
}

/** A short public name for a secret: a fingerprint, so it reveals nothing usable. */
function fingerprint(secret: Uint8Array): string {
  return hash('sha256', Buffer.concat([Buffer.from('warden-access-kid:'), secret]), 'base64url').slice(0, 16);
}

/**
 * Warden's own short-lived access tokens: HS256 JWTs signed with a secret
 * only Warden holds. They are self-contained so the hot path needs no
 * storage lookup; revocation is by short TTL plus refresh-token rotation.
 */
export class AccessTokenIssuer {
  private readonly kid: string;
  private readonly key: KeyObject;
  private readonly keys = new Map<string, KeyObject>();
  private readonly issuer: string;
  private readonly audience: string;
  private readonly ttlSeconds: number;
  private readonly tolerance: number;
  private readonly now: () => number;

  constructor(secret: Uint8Array, options: AccessTokenOptions = {}) {
    this.key = secretKey(secret);
    this.kid = options.kid ?? fingerprint(secret);
    this.keys.set(this.kid, this.key);
    for (const prev of options.previousSecrets ?? []) this.keys.set(prev.kid, secretKey(prev.secret));
    this.issuer = options.issuer ?? 'warden';
    this.audience = options.audience ?? 'warden';
    this.ttlSeconds = options.ttlSeconds ?? 15 * 60;
    this.tolerance = options.clockToleranceSeconds ?? 5;
    this.now = options.now ?? Date.now;
    if (!(this.ttlSeconds > 0)) throw new RangeError('ttlSeconds must be positive');
  }

  async issue(subject: AccessTokenSubject): Promise<IssuedAccessToken> {
    if (!subject.userId || !subject.orgId || !subject.sessionId) {
      throw new TypeError('An access token needs a userId, orgId and sessionId.');
    }
    const bad = subject.roles.find((r) => !isWardenRole(r));
    if (bad !== undefined) throw new TypeError(`"${bad}" is not a Warden role.`);
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + this.ttlSeconds;
    const token = await new SignJWT({
      org: subject.orgId,
      prj: subject.projectId,
      roles: [...subject.roles],
      sid: subject.sessionId,
    })
      .setProtectedHeader({ alg: 'HS256', typ: ACCESS_TOKEN_TYPE, kid: this.kid })
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setSubject(subject.userId)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.key);
    return { token, expiresAt: exp * 1000 };
  }

  /** The token's claims, or an IdentityFailure saying why it is refused. */
  async verify(token: string): Promise<AccessClaims> {
    const key = this.keyFor(token);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        // RFC 8725 §3.1: never let the token choose the algorithm.
        algorithms: ['HS256'],
        issuer: this.issuer,
        audience: this.audience,
        typ: ACCESS_TOKEN_TYPE,
        clockTolerance: this.tolerance,
        currentDate: new Date(this.now()),
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'org', 'roles', 'sid', 'prj'],
      }));
    } catch (err) {
      throw joseFailure(err) ?? err;
    }
    return claimsFrom(payload);
  }

  private keyFor(token: string): KeyObject {
    if (!looksLikeJwt(token)) throw fail('malformed', 'The access token is not a well-formed JWT.');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw fail('malformed', 'The access token header is not valid JSON.');
    }
    if (header.alg === 'none') throw fail('alg_none', 'Unsigned tokens (alg "none") are never accepted.');
    const key = typeof header.kid === 'string' ? this.keys.get(header.kid) : undefined;
    if (!key) throw fail('unknown_kid', 'The access token was signed with a key Warden does not know; sign in again.');
    return key;
  }
}

function claimsFrom(p: JWTPayload): AccessClaims {
  const { sub, org, prj, roles, sid, jti, iat, exp } = p;
  const valid =
    typeof sub === 'string' &&
    typeof org === 'string' &&
    (prj === null || typeof prj === 'string') &&
    typeof sid === 'string' &&
    typeof jti === 'string' &&
    typeof iat === 'number' &&
    typeof exp === 'number' &&
    Array.isArray(roles) &&
    roles.every(isWardenRole);
  if (!valid) throw fail('invalid_claims', 'The access token claims do not have the expected shape.');
  return { userId: sub, orgId: org, projectId: prj, roles, sessionId: sid, tokenId: jti, issuedAt: iat * 1000, expiresAt: exp * 1000 };
}

const REFRESH_PREFIX = 'wdr_';

export interface RefreshTokenMaterial {
  /** Given to the client once; never stored. */
  token: string;
  /** sha256 hex of the token: what storage keeps and looks up by. */
  id: string;
}

/**
 * An opaque refresh token: 256 random bits, so (as with API keys) a fast
 * hash is enough to make a leaked table useless.
 */
export function newRefreshToken(): RefreshTokenMaterial {
  const token = REFRESH_PREFIX + randomBytes(32).toString('base64url');
  return { token, id: refreshTokenId(token) };
}

export function refreshTokenId(token: string): string {
  return hash('sha256', token, 'hex');
}
