import { describe, expect, it } from 'vitest';
import { SecretBox, SecretBoxError, createMasterKeyRing, generateMasterKey, parseMasterKey, type MasterKeyRing } from './index.js';

const KEY_HEX = generateMasterKey();
const ring = createMasterKeyRing([parseMasterKey(KEY_HEX, 'test')]);
const box = new SecretBox(ring);
const AAD = 'signing_secret:sk_123';
const SECRET = 'sk-live-0123456789abcdef';

function failureOf(fn: () => unknown): SecretBoxError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecretBoxError);
    return err as SecretBoxError;
  }
  throw new Error('expected a SecretBoxError');
}

/** Flip one bit in the decoded field at `index` (3 = iv, 4 = ciphertext, 5 = tag). */
function flip(envelope: string, index: number, byte = 0): string {
  const parts = envelope.split(':');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[byte] = bytes[byte]! ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join(':');
}

describe('SecretBox', () => {
  it('opens what it sealed, as a string and as bytes', () => {
    const envelope = box.seal(SECRET, AAD);
    expect(box.openString(envelope, AAD)).toBe(SECRET);
    const bin = Buffer.from([0, 255, 1, 254]);
    expect(box.open(box.seal(bin, AAD), AAD).equals(bin)).toBe(true);
    expect(box.openString(box.seal('', AAD), AAD)).toBe('');
  });

  it('writes wdn-sec:v1:<keyId>:<iv>:<ciphertext>:<tag> with a fresh IV each time and no plaintext', () => {
    const a = box.seal(SECRET, AAD);
    const b = box.seal(SECRET, AAD);
    expect(a).toMatch(/^wdn-sec:v1:[0-9a-f]{8}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]{22}$/);
    expect(a.split(':')[2]).toBe(ring.current.id);
    expect(a.split(':')[3]).not.toBe(b.split(':')[3]);
    expect(a).not.toBe(b);
    expect(a).not.toContain(SECRET);
    expect(a).not.toContain(KEY_HEX);
  });

  it('refuses to open an envelope under a different AAD (moved to another row)', () => {
    const envelope = box.seal(SECRET, AAD);
    const err = failureOf(() => box.open(envelope, 'signing_secret:sk_456'));
    expect(err.reason).toBe('tampered');
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toContain(KEY_HEX);
  });

  it('detects a flipped ciphertext, IV or tag byte', () => {
    const envelope = box.seal(SECRET, AAD);
    for (const field of [3, 4, 5]) {
      expect(failureOf(() => box.open(flip(envelope, field), AAD)).reason).toBe('tampered');
    }
  });

  it('reports unknown_key, naming the key id and WARDEN_MASTER_KEY_PREVIOUS, for a key not in the ring', () => {
    const other = new SecretBox(createMasterKeyRing([parseMasterKey(generateMasterKey(), 'other')]));
    const envelope = other.seal(SECRET, AAD);
    const err = failureOf(() => box.open(envelope, AAD));
    expect(err.reason).toBe('unknown_key');
    expect(err.keyId).toBe(other.currentKeyId);
    expect(err.message).toContain(other.currentKeyId);
    expect(err.message).toContain('WARDEN_MASTER_KEY_PREVIOUS');
  });

  it('does not let a relabelled key id open under another key', () => {
    const second = parseMasterKey(generateMasterKey(), 'second');
    const both = new SecretBox(createMasterKeyRing([ring.current, second]));
    const parts = both.seal(SECRET, AAD).split(':');
    parts[2] = second.id;
    expect(failureOf(() => both.open(parts.join(':'), AAD)).reason).toBe('tampered');
  });

  it('calls anything that is not an envelope malformed, without quoting it', () => {
    const good = box.seal(SECRET, AAD);
    const parts = good.split(':');
    const bad = [
      SECRET,
      'wdn-sec:v2:' + parts.slice(2).join(':'),
      parts.slice(0, 5).join(':'),
      good + ':extra',
      [...parts.slice(0, 3), 'AAAA', ...parts.slice(4)].join(':'), // short IV
      [...parts.slice(0, 4), parts[4] + '=', parts[5]].join(':'), // padded base64
      [...parts.slice(0, 2), 'XYZ', ...parts.slice(3)].join(':'),
    ];
    for (const envelope of bad) {
      const err = failureOf(() => box.open(envelope, AAD));
      expect(err.reason).toBe('malformed');
      expect(err.message).not.toContain(SECRET);
    }
    expect(failureOf(() => box.open(bad[1]!, AAD)).message).toContain('version v2');
  });

  it('tells envelopes from plaintext values', () => {
    expect(box.isSealed(box.seal(SECRET, AAD))).toBe(true);
    expect(box.isSealed(SECRET)).toBe(false);
    expect(box.isSealed('')).toBe(false);
  });

  it('says an envelope needs resealing only when a previous key sealed it', () => {
    const oldRing: MasterKeyRing = createMasterKeyRing([parseMasterKey(generateMasterKey(), 'old')]);
    const oldEnvelope = new SecretBox(oldRing).seal(SECRET, AAD);
    const rotated = new SecretBox(createMasterKeyRing([parseMasterKey(generateMasterKey(), 'new'), oldRing.current]));
    expect(rotated.needsReseal(oldEnvelope)).toBe(true);
    expect(rotated.needsReseal(rotated.seal(SECRET, AAD))).toBe(false);
    expect(rotated.openString(oldEnvelope, AAD)).toBe(SECRET);
    expect(failureOf(() => rotated.needsReseal(SECRET)).reason).toBe('malformed');
  });

  it('requires a context string', () => {
    expect(() => box.seal(SECRET, '')).toThrow(/context/);
  });
});
