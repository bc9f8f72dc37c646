/**
 * Seal and open secrets at rest with AES-256-GCM under the master key ring.
 *
 * Envelope: `wdn-sec:v1:<keyId>:<iv>:<ciphertext>:<tag>`, the last three
 * base64url without padding. The authenticated data is the header
 * `wdn-sec:v1:<keyId>:` followed by the caller's context string (e.g.
 * `signing_secret:sk_123`), so an envelope copied to another row, or
 * relabelled with another key id or version, fails to open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecretBoxError } from './errors.js';
import { keyMaterial, type MasterKeyRing } from './master-key.js';

export const ENVELOPE_PREFIX = 'wdn-sec:';
const VERSION = 'v1';
const CIPHER = 'aes-256-gcm';
/** 96-bit random IVs: the size GCM is specified for (NIST SP 800-38D §8.2.2); safe for far more seals than secrets will ever see. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[0-9a-f]{8}$/;
const B64URL = /^[A-Za-z0-9_-]*$/;

const FORMAT = 'wdn-sec:v1:<keyId>:<iv>:<ciphertext>:<tag>';

interface Envelope {
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** Canonical unpadded base64url only, so one envelope has exactly one spelling. */
function decodePart(s: string): Buffer | undefined {
  if (!B64URL.test(s)) return undefined;
  const bytes = Buffer.from(s, 'base64url');
  return bytes.toString('base64url') === s ? bytes : undefined;
}

// Messages below describe the envelope, never quote it: a "malformed" value is often a plaintext secret stored by mistake.
function malformed(why: string, keyId?: string): SecretBoxError {
  return new SecretBoxError('malformed', `not a valid sealed secret: ${why} (expected ${FORMAT})`, keyId);
}

function parseEnvelope(text: string): Envelope {
  if (typeof text !== 'string' || !text.startsWith(ENVELOPE_PREFIX)) throw malformed(`it does not start with "${ENVELOPE_PREFIX}"`);
  const parts = text.split(':');
  const version = parts[1] ?? '';
  if (version !== VERSION) {
    throw malformed(/^v\d+$/.test(version) ? `envelope version ${version} is not supported by this Warden` : 'the version is missing');
  }
  if (parts.length !== 6) throw malformed(`it has ${parts.length} fields instead of 6`);
  const [, , keyId = '', ivText = '', ctText = '', tagText = ''] = parts;
  if (!KEY_ID.test(keyId)) throw malformed('the key id is not 8 hex characters');
  const iv = decodePart(ivText);
  const ciphertext = decodePart(ctText);
  const tag = decodePart(tagText);
  if (!iv || iv.length !== IV_BYTES) throw malformed(`the IV is not ${IV_BYTES} bytes of base64url`, keyId);
  if (!ciphertext) throw malformed('the ciphertext is not base64url', keyId);
  if (!tag || tag.length !== TAG_BYTES) throw malformed(`the tag is not ${TAG_BYTES} bytes of base64url`, keyId);
  return { keyId, iv, ciphertext, tag };
}

function authenticatedData(keyId: string, aad: string): Buffer {
  return Buffer.from(`${ENVELOPE_PREFIX}${VERSION}:${keyId}:${aad}`, 'utf8');
}

function checkAad(aad: string): void {
  // An empty context would let an envelope open in any row, which is what the AAD exists to prevent.
  if (typeof aad !== 'string' || aad === '') throw new TypeError('SecretBox needs a non-empty context string (aad) naming the record, e.g. "signing_secret:sk_123"');
}

export class SecretBox {
  readonly #ring: MasterKeyRing;

  constructor(ring: MasterKeyRing) {
    this.#ring = ring;
  }

  /** Id of the key new envelopes are sealed with. */
  get currentKeyId(): string {
    return this.#ring.current.id;
  }

  /** Encrypt under the current key; `aad` names the record, and the same string must be given to open(). */
  seal(plaintext: string | Buffer, aad: string): string {
    checkAad(aad);
    const key = this.#ring.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, keyMaterial(key), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(authenticatedData(key.id, aad));
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [`${ENVELOPE_PREFIX}${VERSION}`, key.id, iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join(':');
  }

  /** Decrypt and authenticate. Throws SecretBoxError: malformed, unknown_key or tampered. */
  open(envelope: string, aad: string): Buffer {
    checkAad(aad);
    const env = parseEnvelope(envelope);
    const key = this.#ring.find(env.keyId);
    if (!key) throw this.#unknownKey(env.keyId);
    const decipher = createDecipheriv(CIPHER, keyMaterial(key), env.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(authenticatedData(env.keyId, aad));
    decipher.setAuthTag(env.tag);
    try {
      // update() output is unauthenticated until final() succeeds; nothing is returned before that.
      return Buffer.concat([decipher.update(env.ciphertext), decipher.final()]);
    } catch {
      throw new SecretBoxError(
        'tampered',
        `the sealed secret for "${aad}" failed authentication under master key ${env.keyId}: ` +
          'it was altered, or it was sealed for a different record',
        env.keyId,
      );
    }
  }

  /** open() for secrets sealed from strings. */
  openString(envelope: string, aad: string): string {
    return this.open(envelope, aad).toString('utf8');
  }

  /**
   * Whether a stored value is an envelope rather than a plaintext left from
   * before encryption. Only the prefix is checked, so a damaged envelope still
   * counts as sealed and fails loudly in open() instead of being sealed again.
   */
  isSealed(s: string): boolean {
    return typeof s === 'string' && s.startsWith(ENVELOPE_PREFIX);
  }

  /** True when the envelope was sealed by a key other than the current one. Throws SecretBoxError('malformed') for a non-envelope. */
  needsReseal(envelope: string): boolean {
    return parseEnvelope(envelope).keyId !== this.#ring.current.id;
  }

  #unknownKey(keyId: string): SecretBoxError {
    const ring = this.#ring;
    const known = [`current ${ring.current.id}`, ...ring.previous.map((k) => `previous ${k.id}`)].join(', ');
    return new SecretBoxError(
      'unknown_key',
      `this secret was sealed with master key ${keyId}, which is not loaded (loaded: ${known}). ` +
        'If the master key was rotated, the old key may be missing: set WARDEN_MASTER_KEY_PREVIOUS to it, ' +
        'or keep it as a later line of the master key file',
      keyId,
    );
  }
}
