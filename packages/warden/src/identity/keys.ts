import { hash, randomBytes, randomUUID } from 'node:crypto';
import type { KeyRecord, Role } from '../storage/types.js';

export const KEY_PREFIX = 'wdn_';
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** 40 base62 characters ≈ 238 bits of entropy. */
const KEY_BODY_LENGTH = 40;

/** Uniform base62 by rejection sampling: bytes ≥ 248 would bias the first 8 letters. */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 248) out += ALPHABET[b % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/**
 * Keys carry ~238 bits of entropy, so a fast hash is enough to make a leaked
 * table useless (no dictionary to attack); a slow KDF would only cost latency
 * on every request.
 */
export function hashKey(key: string): string {
  // crypto.hash (Node 20.12+): one-shot, a third of createHash's cost per request.
  return hash('sha256', key, 'hex');
}

export function displayPrefix(key: string): string {
  return key.slice(0, KEY_PREFIX.length + 4);
}

export interface NewKey {
  /** The secret: shown once, never stored. */
  key: string;
  record: KeyRecord;
}

export function newKey(
  name: string,
  role: Role,
  models: string[] | null,
  orgId = 'default',
  now = Date.now(),
  projectId: string | null = null,
): NewKey {
  const key = KEY_PREFIX + randomBase62(KEY_BODY_LENGTH);
  return {
    key,
    record: {
      id: `key_${randomUUID().replace(/-/g, '').slice(0, 16)}`,
      name,
      role,
      prefix: displayPrefix(key),
      hash: hashKey(key),
      orgId,
      projectId,
      models,
      createdAt: now,
      revokedAt: null,
    },
  };
}

/** The key as it is safe to show or export: no hash, no secret. */
export function publicKey(k: KeyRecord): Omit<KeyRecord, 'hash'> {
  const { hash: _hash, ...rest } = k;
  return rest;
}
