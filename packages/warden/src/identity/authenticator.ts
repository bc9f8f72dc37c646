import { WardenError } from '../errors/index.js';
import type { KeyRecord, Storage } from '../storage/types.js';
import { hashKey, KEY_PREFIX } from './keys.js';

export type AuthFailureReason = 'missing_api_key' | 'invalid_api_key' | 'revoked_api_key';

export interface Credentials {
  /** Raw token from the request; never logged. */
  token: string | undefined;
}

/** Bearer token from Authorization, else x-api-key (what Anthropic clients send). */
export function extractToken(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const x = headers['x-api-key'];
  if (typeof x === 'string' && x.trim()) return x.trim();
  return undefined;
}

const MAX_CACHED = 50_000;

/**
 * Resolves a key to its record from memory. The cache is dropped whenever the
 * store's key revision moves, so a revocation made anywhere (CLI, API, another
 * replica) takes effect on the next request.
 */
export class KeyAuthenticator {
  private readonly cache = new Map<string, KeyRecord>();
  private revision = -1;

  constructor(private readonly storage: Storage) {}

  /**
   * The key's record, synchronously when the revision and the key are in
   * memory (every request after the first per key), else a promise.
   * Throws or rejects with a catalogue authentication error.
   */
  authenticate(token: string | undefined): KeyRecord | Promise<KeyRecord> {
    if (!token) throw new WardenError('missing_api_key');
    if (!token.startsWith(KEY_PREFIX)) throw new WardenError('invalid_api_key');
    const rev = this.storage.keysRevision();
    return typeof rev === 'number' ? this.resolve(token, rev) : rev.then((r) => this.resolve(token, r));
  }

  private resolve(token: string, rev: number): KeyRecord | Promise<KeyRecord> {
    if (rev !== this.revision) {
      this.cache.clear();
      this.revision = rev;
    }
    const hash = hashKey(token);
    const cached = this.cache.get(hash);
    if (cached) return usable(cached);
    return this.storage.findKeyByHash(hash).then((rec) => {
      if (!rec) throw new WardenError('invalid_api_key');
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      this.cache.set(hash, rec);
      return usable(rec);
    });
  }
}

/** A revoked key is still known: its failure is attributed to the key and its org, so that org's admins see it. */
export class RevokedKeyError extends WardenError {
  constructor(readonly key: KeyRecord) {
    super('revoked_api_key');
  }
}

function usable(rec: KeyRecord): KeyRecord {
  if (rec.revokedAt !== null) throw new RevokedKeyError(rec);
  return rec;
}
