import { errors } from 'jose';

/**
 * Why a JWT was refused, shared by Warden's own access tokens and external
 * OIDC issuers. Each reason is distinct so the catalogue, the logs and the
 * metrics can tell forged tokens apart from merely old ones.
 */
export type JwtFailureReason =
  /** Not a compact JWS, or its header or claims are not JSON objects. */
  | 'malformed'
  /** `alg: none`: an unsecured JWT (RFC 7519 §6), never accepted (RFC 8725 §3.1). */
  | 'alg_none'
  /** An algorithm outside the list pinned for this issuer (RFC 8725 §3.1). */
  | 'alg_not_allowed'
  /** No key with the token's `kid` (after one refetch, for remote key sets). */
  | 'unknown_kid'
  | 'bad_signature'
  /** `exp` is in the past, beyond the clock tolerance (RFC 7519 §4.1.4). */
  | 'expired'
  /** `nbf` is in the future, beyond the clock tolerance (RFC 7519 §4.1.5). */
  | 'not_yet_valid'
  /** `aud` is missing or names someone else (RFC 7519 §4.1.3). */
  | 'wrong_audience'
  | 'wrong_issuer'
  /** The `typ` header is not the one this kind of token carries (RFC 8725 §3.11). */
  | 'wrong_type'
  | 'missing_claim'
  /** A claim is present but has the wrong shape (e.g. `roles` is not a list). */
  | 'invalid_claims';

export type AccessTokenFailureReason = JwtFailureReason;

export type OidcFailureReason =
  | JwtFailureReason
  /** HS* on an asymmetric issuer: the public key used as an HMAC secret (RFC 8725 §2.1). */
  | 'symmetric_alg'
  /** The unverified `iss` is not a configured issuer. */
  | 'unknown_issuer'
  /** Neither the org claim nor a default org gives the user an organisation. */
  | 'no_org'
  /** Discovery or the JWKS could not be fetched: Warden's problem, not the caller's (503). */
  | 'jwks_unavailable';

export type HmacFailureReason =
  | 'missing_headers'
  | 'bad_format'
  | 'unknown_key'
  | 'revoked_key'
  /** X-Warden-Timestamp is older than the skew window. */
  | 'stale_timestamp'
  /** X-Warden-Timestamp is further ahead than the skew window. */
  | 'future_timestamp'
  | 'replayed_nonce'
  | 'bad_signature'
  /** The nonce store is at capacity with unexpired entries (503, see docs/hmac-signing.md). */
  | 'nonce_store_full';

export type IdentityFailureReason = OidcFailureReason | HmacFailureReason;

/**
 * A refused credential. `message` is written for a person and never contains
 * the token, secret or signature; `reason` is what the HTTP layer maps to the
 * error catalogue.
 */
export class IdentityFailure<R extends IdentityFailureReason = IdentityFailureReason> extends Error {
  override readonly name = 'IdentityFailure';
  constructor(
    readonly reason: R,
    message: string,
  ) {
    super(message);
  }
}

const UNAVAILABLE: ReadonlySet<IdentityFailureReason> = new Set<IdentityFailureReason>(['jwks_unavailable', 'nonce_store_full']);

/** Reasons where the caller did nothing wrong and should retry: 503, not 401. */
export function isUnavailable(reason: IdentityFailureReason): boolean {
  return UNAVAILABLE.has(reason);
}

/**
 * Translate jose's verification errors into our reasons. Returns undefined
 * for anything unexpected, which the caller rethrows as an internal error
 * rather than blaming the client.
 */
export function joseFailure(err: unknown): IdentityFailure<JwtFailureReason> | undefined {
  if (err instanceof errors.JWTExpired) return new IdentityFailure('expired', 'The token has expired.');
  if (err instanceof errors.JWTClaimValidationFailed) return claimFailure(err);
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new IdentityFailure('bad_signature', 'The token signature does not verify.');
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return new IdentityFailure('unknown_kid', 'The token was signed with a key this issuer does not publish.');
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new IdentityFailure('alg_not_allowed', 'The token uses a signing algorithm that is not allowed.');
  }
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) {
    return new IdentityFailure('malformed', 'The token is not a well-formed JWT.');
  }
  return undefined;
}

function claimFailure(err: InstanceType<typeof errors.JWTClaimValidationFailed>): IdentityFailure<JwtFailureReason> {
  switch (err.claim) {
    case 'nbf':
      return new IdentityFailure('not_yet_valid', 'The token is not valid yet (its "nbf" is in the future).');
    case 'aud':
      return new IdentityFailure('wrong_audience', 'The token was issued for a different audience.');
    case 'iss':
      return new IdentityFailure('wrong_issuer', 'The token was issued by a different issuer.');
    case 'typ':
      return new IdentityFailure('wrong_type', 'The token is not an access token.');
  }
  if (err.reason === 'missing') {
    return new IdentityFailure('missing_claim', `The token lacks the required "${err.claim}" claim.`);
  }
  return new IdentityFailure('invalid_claims', `The token's "${err.claim}" claim is not valid.`);
}
