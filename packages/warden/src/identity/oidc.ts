import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWSHeaderParameters,
  type JWTPayload,
  type FlattenedJWSInput,
  type JWTVerifyGetKey,
} from 'jose';
import { IdentityFailure, joseFailure, type OidcFailureReason } from './failure.js';
import { isWardenRole, looksLikeJwt, type WardenRole } from './tokens.js';

export { looksLikeJwt };

export interface OidcClaimMapping {
  /** Claim holding Warden's user id; default `sub`. */
  user?: string;
  /** Claim holding the org id (a plain name, or a dotted path into nested claims). */
  org?: string;
  /** Used when the token carries no org claim at all. */
  default_org?: string;
  /** Claim holding the roles: a list or a space-separated string; may be a dotted path like `realm_access.roles`. */
  roles?: string;
  /**
   * External role → Warden role. When given, it is an allow-list: only
   * mapped roles count, so an IdP group that happens to be called "admin"
   * does not become a Warden admin unless the operator says so.
   */
  role_map?: Record<string, string>;
  /** Roles given when the token yields none. */
  default_roles?: string[];
}

export interface OidcIssuerConfig {
  /** Exactly as it appears in `iss` (OIDC Core §3.1.3.7 step 2: exact match). */
  issuer: string;
  audience: string | string[];
  /** Default: discovered from `<issuer>/.well-known/openid-configuration`. */
  jwks_uri?: string;
  /** Default ['RS256', 'ES256', 'EdDSA', 'PS256']; HS* and none are refused at start-up. */
  algorithms?: string[];
  clock_tolerance_s?: number;
  claims?: OidcClaimMapping;
}

export interface OidcVerifierOptions {
  /** Per HTTP request to the issuer, in ms; default 5000. */
  timeoutMs?: number;
  /** Least time between JWKS refetches triggered by an unknown kid, in ms; default 30 000. */
  cooldownMs?: number;
  /** Age after which the JWKS is refetched before use, in ms; default 10 minutes. */
  cacheMaxAgeMs?: number;
  /** After a failed discovery, answer jwks_unavailable without refetching for this long, in ms; default 2000. */
  discoveryRetryMs?: number;
  /** Allow http:// issuers and key sets on hosts other than loopback. Off by default (OIDC Discovery §4). */
  allowInsecureHttp?: boolean;
}

export interface OidcIdentity {
  issuer: string;
  subject: string | null;
  userId: string;
  orgId: string;
  roles: WardenRole[];
  /** The verified claims set, for audit and policy. */
  claims: JWTPayload;
}

const DEFAULT_ALGORITHMS = ['RS256', 'ES256', 'EdDSA', 'PS256'];
// Asymmetric JWS algorithms only (RFC 7518 §3.1, RFC 8037): a symmetric one would let
// anyone holding the issuer's *public* key mint tokens.
const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);

function fail(reason: OidcFailureReason, message: string): IdentityFailure<OidcFailureReason> {
  return new IdentityFailure(reason, message);
}

/** The config with defaults applied and checked; thrown errors name the issuer. */
interface Issuer {
  config: OidcIssuerConfig;
  algorithms: string[];
  claims: OidcClaimMapping;
  keys: IssuerKeys;
}

/**
 * Verifies access or ID tokens from external OIDC providers. The unverified
 * `iss` only routes the token to its issuer's keys and rules; every claim
 * that matters is then checked against that issuer's signature.
 */
export class OidcVerifier {
  private readonly issuers = new Map<string, Issuer>();

  constructor(configs: readonly OidcIssuerConfig[], options: OidcVerifierOptions = {}) {
    for (const config of configs) {
      if (this.issuers.has(config.issuer)) throw new TypeError(`OIDC issuer "${config.issuer}" is configured twice.`);
      this.issuers.set(config.issuer, checkedIssuer(config, options));
    }
  }

  async verify(token: string): Promise<OidcIdentity> {
    const { header, payload } = peek(token);
    const issuer = typeof payload.iss === 'string' ? this.issuers.get(payload.iss) : undefined;
    if (!issuer) throw fail('unknown_issuer', 'The token was issued by an identity provider Warden is not configured to trust.');
    const alg = String(header.alg);
    if (alg.startsWith('HS')) {
      throw fail('symmetric_alg', `The token uses ${alg}, a shared-secret algorithm; this issuer signs with public keys.`);
    }
    if (!issuer.algorithms.includes(alg)) throw fail('alg_not_allowed', `The token uses ${alg}, which is not allowed for this issuer.`);
    const getKey = await issuer.keys.resolver();
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, getKey, {
        issuer: issuer.config.issuer,
        audience: issuer.config.audience,
        // RFC 8725 §3.1: the issuer's list, never the token's choice.
        algorithms: issuer.algorithms,
        clockTolerance: issuer.config.clock_tolerance_s ?? 30,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      if (err instanceof IdentityFailure) throw err;
      throw joseFailure(err) ?? err;
    }
    return identityFrom(issuer, claims);
  }
}

/** Decode without verifying, only to route the token and refuse the obvious forgeries early. */
function peek(token: string): { header: JWSHeaderParameters; payload: JWTPayload } {
  if (!looksLikeJwt(token)) throw fail('malformed', 'The token is not a well-formed JWT.');
  let header: JWSHeaderParameters;
  let payload: JWTPayload;
  try {
    header = decodeProtectedHeader(token) as JWSHeaderParameters;
    payload = decodeJwt(token);
  } catch {
    throw fail('malformed', 'The token is not a well-formed JWT.');
  }
  if (header.alg === 'none') throw fail('alg_none', 'Unsigned tokens (alg "none") are never accepted.');
  return { header, payload };
}

function checkedIssuer(config: OidcIssuerConfig, options: OidcVerifierOptions): Issuer {
  const where = `OIDC issuer "${config.issuer}"`;
  const issuerUrl = checkedUrl(config.issuer, where, options);
  const audiences = Array.isArray(config.audience) ? config.audience : [config.audience];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || !a)) throw new TypeError(`${where}: audience must be set.`);
  const algorithms = config.algorithms ?? DEFAULT_ALGORITHMS;
  const badAlg = algorithms.find((a) => !ASYMMETRIC.has(a));
  if (badAlg !== undefined || algorithms.length === 0) {
    throw new TypeError(`${where}: algorithm "${badAlg ?? '(none)'}" is not allowed; use public-key algorithms such as RS256 or ES256.`);
  }
  const claims = config.claims ?? {};
  const badRole = [...Object.values(claims.role_map ?? {}), ...(claims.default_roles ?? [])].find((r) => !isWardenRole(r));
  if (badRole !== undefined) throw new TypeError(`${where}: "${badRole}" is not a Warden role.`);
  const jwksUrl = config.jwks_uri === undefined ? undefined : checkedUrl(config.jwks_uri, `${where} jwks_uri`, options);
  return { config, algorithms, claims, keys: new IssuerKeys(issuerUrl, config.issuer, jwksUrl, options) };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function checkedUrl(value: string, where: string, options: OidcVerifierOptions): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${where}: "${value}" is not a URL.`);
  }
  const plainHttpOk = url.protocol === 'http:' && (options.allowInsecureHttp === true || isLoopback(url.hostname));
  if (url.protocol !== 'https:' && !plainHttpOk) throw new TypeError(`${where}: must use https.`);
  return url;
}

/**
 * One issuer's signing keys. Discovery runs once and is cached; the JWKS is
 * jose's remote set, which caches keys and refetches on an unknown kid at
 * most once per cooldown, so key rotation at the IdP needs no restart.
 */
class IssuerKeys {
  private pending: Promise<JWTVerifyGetKey> | undefined;
  private failedAt = -Infinity;
  private readonly timeoutMs: number;

  constructor(
    private readonly issuerUrl: URL,
    private readonly issuer: string,
    private readonly jwksUrl: URL | undefined,
    private readonly options: OidcVerifierOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  resolver(): Promise<JWTVerifyGetKey> {
    if (!this.pending && Date.now() - this.failedAt < (this.options.discoveryRetryMs ?? 2000)) {
      return Promise.reject(fail('jwks_unavailable', `The identity provider ${this.issuer} could not be reached a moment ago; try again shortly.`));
    }
    this.pending ??= this.discover().then(
      (url) => this.remoteSet(url),
      (err: unknown) => {
        // Forget the failure so a later request retries discovery.
        this.pending = undefined;
        this.failedAt = Date.now();
        throw err;
      },
    );
    return this.pending;
  }

  private remoteSet(url: URL): JWTVerifyGetKey {
    const jwks = createRemoteJWKSet(url, {
      timeoutDuration: this.timeoutMs,
      cooldownDuration: this.options.cooldownMs ?? 30_000,
      cacheMaxAge: this.options.cacheMaxAgeMs ?? 600_000,
    });
    return async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
      try {
        return await jwks(header, token);
      } catch (err) {
        // A missing kid or an unsupported alg is about the token; anything
        // else (network, timeout, non-200, invalid key set) is about the IdP.
        if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) throw err;
        if (err instanceof errors.JOSENotSupported) throw err;
        throw fail('jwks_unavailable', `The signing keys of ${this.issuer} could not be fetched; try again shortly.`);
      }
    };
  }

  /** OIDC Discovery 1.0 §4: `<issuer>/.well-known/openid-configuration`, whose `issuer` must equal ours (§4.3). */
  private async discover(): Promise<URL> {
    if (this.jwksUrl) return this.jwksUrl;
    const base = this.issuerUrl.href.replace(/\/+$/, '');
    const unavailable = (why: string) =>
      fail('jwks_unavailable', `The OpenID configuration of ${this.issuer} could not be used (${why}); try again shortly.`);
    let doc: unknown;
    try {
      const res = await fetch(`${base}/.well-known/openid-configuration`, {
        headers: { accept: 'application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (res.status !== 200) throw unavailable(`HTTP ${res.status}`);
      doc = await res.json();
    } catch (err) {
      if (err instanceof IdentityFailure) throw err;
      const why = err instanceof SyntaxError ? 'not JSON' : err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : 'unreachable';
      throw unavailable(why);
    }
    const { issuer, jwks_uri } = (doc ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
    if (issuer !== this.issuer) throw unavailable('it names a different issuer');
    if (typeof jwks_uri !== 'string') throw unavailable('it has no jwks_uri');
    try {
      return checkedUrl(jwks_uri, 'jwks_uri', this.options);
    } catch {
      throw unavailable('its jwks_uri is not an https URL');
    }
  }
}

/** A claim by exact name first (Auth0-style names contain dots), else by dotted path. */
function readClaim(payload: JWTPayload, name: string): unknown {
  if (Object.hasOwn(payload, name)) return payload[name];
  let value: unknown = payload;
  for (const part of name.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function identityFrom(issuer: Issuer, claims: JWTPayload): OidcIdentity {
  const mapping = issuer.claims;
  const userClaim = mapping.user ?? 'sub';
  const userId = readClaim(claims, userClaim);
  if (typeof userId !== 'string' || !userId) throw fail('missing_claim', `The token has no "${userClaim}" claim to identify the user.`);
  return {
    issuer: issuer.config.issuer,
    subject: typeof claims.sub === 'string' ? claims.sub : null,
    userId,
    orgId: orgFrom(mapping, claims),
    roles: rolesFrom(mapping, claims),
    claims,
  };
}

function orgFrom(mapping: OidcClaimMapping, claims: JWTPayload): string {
  const value = mapping.org === undefined ? undefined : readClaim(claims, mapping.org);
  if (typeof value === 'string' && value) return value;
  // Only an absent claim falls back: a present but unusable one (a list, say)
  // is ambiguous, and guessing could place the user in the wrong org.
  if (value === undefined && mapping.default_org) return mapping.default_org;
  throw fail('no_org', 'The token does not say which organisation the user belongs to.');
}

function rolesFrom(mapping: OidcClaimMapping, claims: JWTPayload): WardenRole[] {
  const raw = mapping.roles === undefined ? undefined : readClaim(claims, mapping.roles);
  const external = Array.isArray(raw)
    ? raw.filter((r): r is string => typeof r === 'string')
    : typeof raw === 'string'
      ? raw.split(/\s+/).filter(Boolean)
      : [];
  const { role_map } = mapping;
  // Without a role_map, role names are taken as they come, except "system": the
  // cross-org operator role is granted by an IdP only when role_map names it.
  const mapped = role_map ? external.map((r) => (Object.hasOwn(role_map, r) ? role_map[r] : undefined)) : external.filter((r) => r !== 'system');
  const roles = [...new Set(mapped.filter(isWardenRole))];
  return roles.length > 0 ? roles : (mapping.default_roles ?? []).filter(isWardenRole);
}
