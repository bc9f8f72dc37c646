/**
 * The master key ring: one current key that seals, older keys that only open.
 * Keys come from WARDEN_MASTER_KEY (+ WARDEN_MASTER_KEY_PREVIOUS), else a key
 * file, else — on first start or in the demo — a freshly generated key file.
 */
import { createHash, randomBytes, hkdfSync } from 'node:crypto';
import { inspect } from 'node:util';
import { MasterKeyError } from './errors.js';
import { readKeyFileLines, writeKeyFile } from './key-file.js';

export const MASTER_KEY_BYTES = 32;

/** Domain-separates the id hash so a key id can never equal some other hash of the key. */
const KEY_ID_CONTEXT = 'warden-master-key-id:';

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
/** 32 bytes are 43 base64 characters, plus one "=" when padded; either alphabet. */
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;

/** Raw key bytes live here rather than on the object, so logging or serialising a MasterKey cannot leak them. */
const material = new WeakMap<MasterKey, Buffer>();

/** One 256-bit AES key and its public id. */
export class MasterKey {
  /** First 8 hex characters of SHA-256("warden-master-key-id:" ‖ key bytes): names the key in envelopes without revealing it. */
  readonly id: string;

  constructor(bytes: Buffer) {
    if (bytes.length !== MASTER_KEY_BYTES) throw new MasterKeyError(`a master key must be ${MASTER_KEY_BYTES} bytes, got ${bytes.length}`);
    const copy = Buffer.from(bytes);
    this.id = masterKeyId(copy);
    material.set(this, copy);
    Object.freeze(this);
  }

  toJSON(): { id: string } {
    return { id: this.id };
  }

  [inspect.custom](): string {
    return `MasterKey { id: '${this.id}' }`;
  }
}

/** The key bytes, for the cipher and the key file writer. Deliberately not exported from index.ts. */
export function keyMaterial(key: MasterKey): Buffer {
  const bytes = material.get(key);
  if (!bytes) throw new MasterKeyError('not a MasterKey created by this module');
  return bytes;
}

export function masterKeyId(bytes: Buffer): string {
  return createHash('sha256').update(KEY_ID_CONTEXT).update(bytes).digest('hex').slice(0, 8);
}

export type MasterKeySource =
  | { readonly kind: 'env' }
  | { readonly kind: 'file'; readonly path: string }
  /** Generated on this start because no key existed: the caller should tell the operator to back the file up. */
  | { readonly kind: 'generated'; readonly path: string }
  | { readonly kind: 'memory' };

export interface MasterKeyRing {
  /** Seals every new secret. */
  readonly current: MasterKey;
  /** Open secrets sealed before a rotation; never used to seal. */
  readonly previous: readonly MasterKey[];
  readonly source: MasterKeySource;
  /** The key with this id, current or previous. */
  find(id: string): MasterKey | undefined;
}

/** Describe a rejected value by its shape only: the value may be a real key with a typo. */
function shapeOf(s: string): string {
  if (!s) return 'an empty value';
  if (/^[0-9a-fA-F]+$/.test(s)) return `${s.length} hex characters (${Math.floor(s.length / 2)} bytes)`;
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) return `${s.length} base64 characters (${Buffer.from(s, 'base64').length} bytes)`;
  return `${s.length} characters that are neither hex nor base64`;
}

/**
 * Decode one key written as 64 hex characters or base64/base64url of 32
 * bytes. `where` names the source for the error ("WARDEN_MASTER_KEY",
 * "/etc/warden/master.key line 2").
 */
export function parseMasterKey(text: string, where: string): MasterKey {
  const s = text.trim();
  // Hex first: 64 hex characters are also valid base64 (of 48 bytes).
  if (HEX_KEY.test(s)) return new MasterKey(Buffer.from(s, 'hex'));
  if (BASE64_KEY.test(s)) {
    // Node's base64 decoder accepts both alphabets.
    const bytes = Buffer.from(s, 'base64');
    if (bytes.length === MASTER_KEY_BYTES) return new MasterKey(bytes);
  }
  throw new MasterKeyError(
    `${where} is not a valid master key: expected ${MASTER_KEY_BYTES} random bytes written as 64 hex characters ` +
      `or as base64/base64url (43 characters, or 44 with "=" padding), got ${shapeOf(s)}. ` +
      `Generate one with: openssl rand -hex 32`,
  );
}

/** Build a ring; the first key is current. Repeats of one key are dropped; two keys sharing an id are refused. */
export function createMasterKeyRing(keys: readonly MasterKey[], source: MasterKeySource = { kind: 'memory' }): MasterKeyRing {
  const byId = new Map<string, MasterKey>();
  for (const key of keys) {
    const seen = byId.get(key.id);
    if (!seen) byId.set(key.id, key);
    else if (!keyMaterial(seen).equals(keyMaterial(key))) {
      // 32-bit ids collide about once in 4 billion pairs; envelopes could not say which key sealed them.
      throw new MasterKeyError(`two different master keys share the id ${key.id}; generate a new key for one of them`);
    }
  }
  const [current, ...previous] = byId.values();
  if (!current) throw new MasterKeyError('a master key ring needs at least one key');
  return Object.freeze({
    current,
    previous: Object.freeze(previous),
    source: Object.freeze(source),
    find: (id: string) => byId.get(id),
  });
}

/** Fresh random key bytes, as the 64 hex characters the key file and WARDEN_MASTER_KEY take. */
export function generateMasterKey(): string {
  return randomBytes(MASTER_KEY_BYTES).toString('hex');
}

/** The file's keys, current first, or undefined when it does not exist. */
export function readMasterKeyFile(path: string): MasterKeyRing | undefined {
  const lines = readKeyFileLines(path);
  if (lines === undefined) return undefined;
  if (lines.length === 0) {
    // Never regenerate over an existing file: an emptied file is an accident, not a first start.
    throw new MasterKeyError(`the master key file ${path} contains no key; restore it from a backup or set WARDEN_MASTER_KEY`);
  }
  const keys = lines.map((l) => parseMasterKey(l.text, `${path} line ${l.line}`));
  return createMasterKeyRing(keys, { kind: 'file', path });
}

/** Write a key file from ring keys, current first; see writeKeyFile for the atomicity guarantees. */
export function writeMasterKeyFile(path: string, keys: readonly MasterKey[], mode: 'create' | 'replace'): boolean {
  return writeKeyFile(path, keys.map((k) => keyMaterial(k).toString('hex')), mode);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

export interface LoadMasterKeysOptions {
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Used when WARDEN_MASTER_KEY is unset. */
  keyFile?: string | undefined;
  /** Generate and write `keyFile` when neither source has a key (first start, the demo). */
  createIfMissing?: boolean;
}

/** Load the master keys once at start-up. Throws MasterKeyError, naming the source, when there is no usable key. */
export function loadMasterKeys(opts: LoadMasterKeysOptions = {}): MasterKeyRing {
  const env = opts.env ?? process.env;
  const current = nonEmpty(env.WARDEN_MASTER_KEY);
  const previous = nonEmpty(env.WARDEN_MASTER_KEY_PREVIOUS);

  if (current !== undefined) {
    const keys = [parseMasterKey(current, 'WARDEN_MASTER_KEY')];
    const entries = (previous ?? '').split(',').map((s) => s.trim());
    entries.forEach((entry, i) => {
      if (entry) keys.push(parseMasterKey(entry, `WARDEN_MASTER_KEY_PREVIOUS entry ${i + 1} of ${entries.length}`));
    });
    return createMasterKeyRing(keys, { kind: 'env' });
  }
  if (previous !== undefined) {
    // Silently falling back to the key file here would seal new secrets with a key the operator did not choose.
    throw new MasterKeyError('WARDEN_MASTER_KEY_PREVIOUS is set but WARDEN_MASTER_KEY is not; set the current key as well');
  }

  const path = opts.keyFile;
  if (path === undefined) {
    throw new MasterKeyError('no master key: set WARDEN_MASTER_KEY (generate one with: openssl rand -hex 32) or configure a master key file');
  }
  const fromFile = readMasterKeyFile(path);
  if (fromFile) return fromFile;
  if (!opts.createIfMissing) {
    throw new MasterKeyError(
      `no master key: WARDEN_MASTER_KEY is not set and the master key file ${path} does not exist. ` +
        'Restore the file from a backup, or set WARDEN_MASTER_KEY (generate one with: openssl rand -hex 32)',
    );
  }
  const key = parseMasterKey(generateMasterKey(), 'generated key');
  if (writeMasterKeyFile(path, [key], 'create')) return createMasterKeyRing([key], { kind: 'generated', path });
  // Another process created the file first; use its key so both agree.
  const theirs = readMasterKeyFile(path);
  if (!theirs) throw new MasterKeyError(`the master key file ${path} vanished while it was being created`);
  return theirs;
}

/**
 * A 32-byte key for another purpose (HKDF-SHA256 of the current master key
 * with `info`), so no other part of Warden handles the master key itself.
 * It changes when the master key is rotated.
 */
export function deriveKey(ring: MasterKeyRing, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', keyMaterial(ring.current), Buffer.alloc(0), info, 32));
}
