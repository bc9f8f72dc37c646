import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * Client side of Warden's HMAC request signing (docs/hmac-signing.md). Kept
 * here rather than imported from the gateway so the SDK has no runtime
 * dependencies; test/sdk-signing.test.ts checks it against the worked
 * example in that document and against a real server.
 */

export interface SigningCredentials {
  /** The signing key's id (`sk_…`), as `POST /api/v1/signing-secrets` returned it. */
  keyId: string;
  /** The secret exactly as Warden showed it once; used as its UTF-8 bytes. */
  secret: string;
}

export interface SignInput extends SigningCredentials {
  method: string;
  /** The request-target as sent on the request line: path, `?` and query, undecoded (RFC 9112 §3.2). */
  path: string;
  /** The body bytes as sent (compressed, when compressed). */
  body?: string | Uint8Array;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** 16–128 of A-Za-z0-9_-; default 24 random base64url characters. */
  nonce?: string;
}

/** A signing key id as Warden makes them (docs/hmac-signing.md); the client checks its option against it. */
export const KEY_ID = /^[A-Za-z0-9_-]{1,128}$/;
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;

/** Lowercase hex SHA-256 of the body bytes; no body hashes as zero bytes. */
export function bodySha256(body: string | Uint8Array = ''): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The four X-Warden-* headers that make a request signed. A fresh nonce and timestamp each call. */
export function signRequest(input: SignInput): Record<string, string> {
  if (!KEY_ID.test(input.keyId)) throw new TypeError('signing.keyId must be 1–128 characters of A-Z a-z 0-9 _ -');
  const timestamp = String(input.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = input.nonce ?? randomBytes(18).toString('base64url');
  if (!NONCE.test(nonce)) throw new TypeError('nonce must be 16–128 characters of A-Z a-z 0-9 _ -');
  // Six lines joined by LF, no trailing newline.
  const canonical = ['v1', input.method.toUpperCase(), input.path, timestamp, nonce, bodySha256(input.body)].join('\n');
  const signature = createHmac('sha256', input.secret).update(canonical, 'utf8').digest('hex');
  return {
    'X-Warden-Key-Id': input.keyId,
    'X-Warden-Timestamp': timestamp,
    'X-Warden-Nonce': nonce,
    'X-Warden-Signature': `v1=${signature}`,
  };
}
