import { decodeJwt } from 'jose';
import { WardenError, type ErrorCode } from '../errors/index.js';
import type { KeyRecord, Storage, UserRecord } from '../storage/types.js';
import { type KeyAuthenticator, extractToken } from './authenticator.js';
import { IdentityFailure, isUnavailable, type IdentityFailureReason } from './failure.js';
import { HMAC_HEADERS, type HmacVerifier } from './hmac.js';
import { KEY_PREFIX } from './keys.js';
import type { OidcVerifier } from './oidc.js';
import { type Principal, keyPrincipal, userPrincipal } from './principal.js';
import { type AccessTokenIssuer, looksLikeJwt } from './tokens.js';

/** A refused credential, with the fine-grained reason the security event records. */
export class AuthFailure extends WardenError {
  /** Set when the credential is known (revoked): the failure then belongs to its org. */
  attribution: { orgId: string; keyId?: string; agentId?: string } | undefined;

  constructor(
    code: ErrorCode,
    readonly reason: string,
    message?: string,
  ) {
    super(code, message);
  }
}

const SIGNATURE_HEADER = HMAC_HEADERS.signature.toLowerCase();
/** The `iss` of Warden's own access tokens (AccessTokenIssuer's default). */
export const ACCESS_TOKEN_ISSUER = 'warden';

function fromIdentity(err: unknown, kind: 'token' | 'signature'): unknown {
  if (!(err instanceof IdentityFailure)) return err;
  const reason = err.reason as IdentityFailureReason;
  if (isUnavailable(reason)) return new AuthFailure(reason === 'jwks_unavailable' ? 'identity_provider_unavailable' : 'storage_unavailable', reason);
  if (kind === 'signature') return new AuthFailure('invalid_signature', reason, err.message);
  return new AuthFailure(reason === 'expired' ? 'token_expired' : 'invalid_token', reason, err.message);
}

export interface CallerAuthenticatorDeps {
  storage: Storage;
  keys: KeyAuthenticator;
  /** Warden's own access tokens; the issuer's secret is loaded on first use. */
  accessTokens: () => Promise<AccessTokenIssuer>;
  oidc: OidcVerifier | null;
  hmac: HmacVerifier;
}

const MAX_USERS_CACHED = 50_000;

/**
 * Turns whatever the caller presented into a Principal: an API key
 * (`wdn_…`, as a bearer token or x-api-key), a Warden access JWT, a JWT from
 * a configured OIDC issuer, or an HMAC signature over the request. API keys
 * stay on the synchronous fast path; the others answer with a promise.
 */
export class CallerAuthenticator {
  readonly #users = new Map<string, unknown>();
  /** One Principal per cached key record (records are replaced, not changed, when the revision moves). */
  readonly #keyPrincipals = new WeakMap<KeyRecord, Principal>();
  #usersRevision = -1;

  constructor(private readonly deps: CallerAuthenticatorDeps) {}

  /** Signed requests are checked after the body is read (the signature covers it). */
  isSigned(headers: Record<string, string | string[] | undefined>): boolean {
    return headers[SIGNATURE_HEADER] !== undefined;
  }

  fromHeaders(headers: Record<string, string | string[] | undefined>): Principal | Promise<Principal> {
    const token = extractToken(headers);
    if (token === undefined || token.startsWith(KEY_PREFIX) || !looksLikeJwt(token)) {
      const rec = this.deps.keys.authenticate(token);
      return rec instanceof Promise ? rec.then((r) => this.#forKey(r)) : this.#forKey(rec);
    }
    return this.#fromJwt(token);
  }

  #forKey(rec: KeyRecord): Principal {
    let p = this.#keyPrincipals.get(rec);
    if (p === undefined) this.#keyPrincipals.set(rec, (p = keyPrincipal(rec)));
    return p;
  }

  async fromSignature(method: string, path: string, headers: Record<string, string | string[] | undefined>, body: Buffer): Promise<Principal> {
    let id;
    try {
      id = await this.deps.hmac.verify({ method, path, headers, body });
    } catch (err) {
      const failure = fromIdentity(err, 'signature');
      // Like a revoked API key: the secret is known, so the attempt is its org's to see.
      if (err instanceof IdentityFailure && err.reason === 'revoked_key' && failure instanceof AuthFailure) {
        const keyId = headers[HMAC_HEADERS.keyId.toLowerCase()];
        const known = typeof keyId === 'string' ? await this.deps.storage.directory.getSigningSecret(keyId) : undefined;
        if (known) failure.attribution = { orgId: known.orgId, agentId: known.id };
      }
      throw failure;
    }
    return {
      type: 'Agent',
      via: 'hmac',
      id: id.keyId,
      orgId: id.orgId,
      projectId: id.projectId,
      roles: ['agent'],
      keyId: null,
      userId: null,
      agentId: id.agentId ?? id.keyId,
      models: null,
    };
  }

  async #fromJwt(token: string): Promise<Principal> {
    // The unverified `iss` only picks the verifier; each then checks everything itself.
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw new AuthFailure('invalid_token', 'malformed');
    }
    if (iss !== ACCESS_TOKEN_ISSUER && this.deps.oidc) return this.#fromOidc(token);
    const issuer = await this.deps.accessTokens();
    let claims;
    try {
      claims = await issuer.verify(token);
    } catch (err) {
      throw fromIdentity(err, 'token');
    }
    // Roles and status come from the user as stored now, and the sign-in must
    // still be live, so a demotion, a disabled account, a logout or a detected
    // refresh-token theft takes effect at once, not when the token expires.
    const user = await this.#user(claims.userId);
    if (!user || user.orgId !== claims.orgId) throw new AuthFailure('invalid_token', 'unknown_user');
    if (user.disabledAt !== null) throw new AuthFailure('account_disabled', 'account_disabled');
    if (!(await this.#cached(`s:${claims.sessionId}`, () => this.deps.storage.directory.sessionActive(claims.sessionId)))) {
      throw new AuthFailure('invalid_token', 'session_ended', 'This sign-in has ended (signed out, password changed, or its refresh token was reused). Sign in again.');
    }
    return userPrincipal(user);
  }

  async #fromOidc(token: string): Promise<Principal> {
    let id;
    try {
      id = await this.deps.oidc!.verify(token);
    } catch (err) {
      throw fromIdentity(err, 'token');
    }
    // A trusted issuer still names only orgs that exist: a mistyped or hostile
    // claim must not open a tenant nobody created.
    if (!(await this.#cached(`o:${id.orgId}`, async () => (await this.deps.storage.directory.getOrg(id.orgId)) !== undefined))) {
      throw new AuthFailure('invalid_token', 'unknown_org', `The token names the organization "${id.orgId}", which does not exist in Warden.`);
    }
    return {
      type: 'User',
      via: 'oidc',
      id: id.userId,
      orgId: id.orgId,
      projectId: null,
      roles: id.roles,
      keyId: null,
      userId: id.userId,
      agentId: null,
      models: null,
    };
  }

  #user(id: string): Promise<UserRecord | undefined> {
    return this.#cached(`u:${id}`, () => this.deps.storage.directory.findUserById(id));
  }

  /** Lookups that hold until the keys revision moves (any auth change, any process). Misses are not kept. */
  async #cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const rev = await this.deps.storage.keysRevision();
    if (rev !== this.#usersRevision) {
      this.#users.clear();
      this.#usersRevision = rev;
    }
    if (this.#users.has(key)) return this.#users.get(key) as T;
    const value = await load();
    if (value !== undefined && value !== false) {
      if (this.#users.size >= MAX_USERS_CACHED) this.#users.clear();
      this.#users.set(key, value);
    }
    return value;
  }
}
