import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { IdentityFailure, type HmacFailureReason } from './failure.js';
import type { NonceStore } from './nonces.js';

/**
 * HMAC-signed requests for machine clients; the scheme is specified in
 * docs/hmac-signing.md. Compared with a bearer key, a captured request
 * cannot be altered (method, path, query and body are signed) nor replayed
 * (timestamp window plus a one-time nonce), and the secret never travels.
 */

export const SIGNATURE_VERSION = 'v1';

/** Header names as clients send them; lookups are case-insensitive (RFC 9110 §5.1). */
export const HMAC_HEADERS = {
  keyId: 'X-Warden-Key-Id',
  timestamp: 'X-Warden-Timestamp',
  nonce: 'X-Warden-Nonce',
  signature: 'X-Warden-Signature',
  agentId: 'X-Warden-Agent-Id',
} as const;

const KEY_ID = /^[A-Za-z0-9_-]{1,128}$/;
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;
const TIMESTAMP = /^[0-9]{1,12}$/;
const SIGNATURE = /^v1=([0-9a-fA-F]{64})$/;
// Same alphabet as X-Request-Id (docs/api.md).
const AGENT_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
// A request-target is visible ASCII (RFC 9112 §3.2, RFC 3986 §2): no spaces, no line breaks
// that could forge extra lines of the canonical string.
const TARGET = /^[\x21-\x7e]+$/;
// RFC 9110 §5.6.2 token.
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export type RequestBody = string | Uint8Array | null | undefined;

/** Lowercase hex SHA-256 of the exact body bytes; an absent body hashes as empty. */
export function bodySha256(body: RequestBody): string {
  return hash('sha256', body ?? '', 'hex');
}

export interface CanonicalParts {
  method: string;
  /** Path and query exactly as on the request line, undecoded. */
  path: string;
  /** Unix seconds, as the header carries it. */
  timestamp: string;
  nonce: string;
  bodySha256: string;
}

/** The string that is signed: six lines joined by LF, no trailing newline. */
export function canonicalString(p: CanonicalParts): string {
  return [SIGNATURE_VERSION, p.method.toUpperCase(), p.path, p.timestamp, p.nonce, p.bodySha256].join('\n');
}

function hmacHex(secret: string | Uint8Array, canonical: string): string {
  return createHmac('sha256', secret).update(canonical, 'utf8').digest('hex');
}

export interface SignRequestInput {
  /** The signing secret exactly as issued; a string is used as its UTF-8 bytes. */
  secret: string | Uint8Array;
  keyId: string;
  method: string;
  path: string;
  body?: RequestBody;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Default: 24 random base64url characters. */
  nonce?: string;
  agentId?: string;
}

/** The client side: headers to add to a request so HmacVerifier accepts it. */
export function signRequest(input: SignRequestInput): Record<string, string> {
  const timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = input.nonce ?? randomBytes(18).toString('base64url');
  if (!KEY_ID.test(input.keyId)) throw new TypeError('keyId must be 1–128 characters of A-Z a-z 0-9 _ -');
  if (!NONCE.test(nonce)) throw new TypeError('nonce must be 16–128 characters of A-Z a-z 0-9 _ -');
  if (!TIMESTAMP.test(timestamp)) throw new TypeError('timestamp must be a whole number of Unix seconds');
  if (!METHOD.test(input.method)) throw new TypeError('method is not an HTTP method');
  if (!TARGET.test(input.path)) throw new TypeError('path must be the percent-encoded path and query, without spaces');
  if (input.agentId !== undefined && !AGENT_ID.test(input.agentId)) throw new TypeError('agentId must be 1–128 of A-Za-z0-9._:@/+=-');
  const canonical = canonicalString({ method: input.method, path: input.path, timestamp, nonce, bodySha256: bodySha256(input.body) });
  const headers: Record<string, string> = {
    [HMAC_HEADERS.keyId]: input.keyId,
    [HMAC_HEADERS.timestamp]: timestamp,
    [HMAC_HEADERS.nonce]: nonce,
    [HMAC_HEADERS.signature]: `${SIGNATURE_VERSION}=${hmacHex(input.secret, canonical)}`,
  };
  if (input.agentId !== undefined) headers[HMAC_HEADERS.agentId] = input.agentId;
  return headers;
}

export interface SigningKey {
  /** The HMAC key: the secret's bytes, decrypted by the caller. */
  secret: Buffer;
  orgId: string;
  projectId: string | null;
  revoked: boolean;
}

export type HeaderBag = Record<string, string | string[] | undefined>;

export interface SignedRequest {
  method: string;
  /** The raw request target (fastify: `request.raw.url`), not a normalised or decoded path. */
  path: string;
  headers: HeaderBag;
  /** The raw body bytes as received, before any parsing. */
  body: Uint8Array;
}

export interface HmacIdentity {
  keyId: string;
  orgId: string;
  projectId: string | null;
  /** Self-asserted by the client and NOT covered by the signature: a label, not a credential. */
  agentId: string | null;
}

export interface HmacVerifierOptions {
  lookup: (keyId: string) => Promise<SigningKey | undefined>;
  /** Must be shared by all replicas, or a request can be replayed once per replica. */
  nonces: NonceStore;
  /** Accepted clock difference either way; default 300 s. */
  skewSeconds?: number;
  /** Clock in milliseconds; injectable for tests. */
  now?: () => number;
}

interface ParsedHeaders {
  keyId: string;
  timestamp: string;
  nonce: string;
  signature: Buffer;
  agentId: string | null;
}

function fail(reason: HmacFailureReason, message: string): IdentityFailure<HmacFailureReason> {
  return new IdentityFailure(reason, message);
}

export class HmacVerifier {
  private readonly skewMs: number;
  private readonly now: () => number;

  constructor(private readonly options: HmacVerifierOptions) {
    this.skewMs = (options.skewSeconds ?? 300) * 1000;
    this.now = options.now ?? Date.now;
    if (!(this.skewMs > 0)) throw new RangeError('skewSeconds must be positive');
  }

  /**
   * Checks are ordered cheapest first, and the nonce is recorded only once
   * the signature is good, so unsigned traffic cannot fill the nonce store.
   */
  async verify(req: SignedRequest): Promise<HmacIdentity> {
    const h = parseHeaders(req.headers);
    if (!TARGET.test(req.path) || !METHOD.test(req.method)) throw fail('bad_format', 'The request line cannot be signed.');
    const timestampMs = this.checkTimestamp(h.timestamp);
    const key = await this.options.lookup(h.keyId);
    if (!key) throw fail('unknown_key', `No signing key "${h.keyId}" exists.`);
    const canonical = canonicalString({ method: req.method, path: req.path, timestamp: h.timestamp, nonce: h.nonce, bodySha256: bodySha256(req.body) });
    const expected = createHmac('sha256', key.secret).update(canonical, 'utf8').digest();
    // Both are 32 bytes (the header format fixes 64 hex digits), as timingSafeEqual requires.
    if (!timingSafeEqual(expected, h.signature)) {
      throw fail('bad_signature', 'The request signature does not match. Sign the method, the path and query exactly as sent, the raw body bytes, and use this key\'s secret.');
    }
    if (key.revoked) throw fail('revoked_key', `Signing key "${h.keyId}" has been revoked. Ask an administrator for a new one.`);
    if (await this.options.nonces.seen(h.keyId, h.nonce, timestampMs + this.skewMs)) {
      throw fail('replayed_nonce', 'This nonce was already used; send a new nonce with every request.');
    }
    return { keyId: h.keyId, orgId: key.orgId, projectId: key.projectId, agentId: h.agentId };
  }

  private checkTimestamp(timestamp: string): number {
    const ms = Number(timestamp) * 1000;
    const age = this.now() - ms;
    const limit = this.skewMs / 1000;
    if (age > this.skewMs) {
      throw fail('stale_timestamp', `The request timestamp is ${Math.round(age / 1000)} s in the past; at most ${limit} s is accepted. Check the client's clock.`);
    }
    if (-age > this.skewMs) {
      throw fail('future_timestamp', `The request timestamp is ${Math.round(-age / 1000)} s in the future; at most ${limit} s is accepted. Check the client's clock.`);
    }
    return ms;
  }
}

function header(headers: HeaderBag, name: string): string | string[] | undefined {
  const lower = name.toLowerCase();
  if (lower in headers) return headers[lower];
  const found = Object.keys(headers).find((k) => k.toLowerCase() === lower);
  return found === undefined ? undefined : headers[found];
}

function parseHeaders(headers: HeaderBag): ParsedHeaders {
  const required = [HMAC_HEADERS.keyId, HMAC_HEADERS.timestamp, HMAC_HEADERS.nonce, HMAC_HEADERS.signature];
  const values = required.map((n) => header(headers, n));
  const missing = required.filter((_, i) => values[i] === undefined || values[i] === '');
  if (missing.length > 0) throw fail('missing_headers', `A signed request needs the ${missing.join(', ')} header${missing.length > 1 ? 's' : ''}.`);
  const [keyId, timestamp, nonce, signature] = values;
  const agentId = header(headers, HMAC_HEADERS.agentId);
  const bad = (what: string) => fail('bad_format', `${what} See docs/hmac-signing.md.`);
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) throw bad(`${HMAC_HEADERS.keyId} must be 1–128 of A-Za-z0-9_-.`);
  if (typeof timestamp !== 'string' || !TIMESTAMP.test(timestamp)) throw bad(`${HMAC_HEADERS.timestamp} must be Unix seconds.`);
  if (typeof nonce !== 'string' || !NONCE.test(nonce)) throw bad(`${HMAC_HEADERS.nonce} must be 16–128 of A-Za-z0-9_-.`);
  const sig = typeof signature === 'string' ? SIGNATURE.exec(signature) : null;
  if (!sig) throw bad(`${HMAC_HEADERS.signature} must be "v1=" and 64 hex digits.`);
  if (agentId !== undefined && (typeof agentId !== 'string' || !AGENT_ID.test(agentId))) {
    throw bad(`${HMAC_HEADERS.agentId} must be 1–128 of A-Za-z0-9._:@/+=-.`);
  }
  return { keyId, timestamp, nonce, signature: Buffer.from(sig[1]!, 'hex'), agentId: agentId ?? null };
}
