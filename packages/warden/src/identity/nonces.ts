import { hash } from 'node:crypto';
import { IdentityFailure } from './failure.js';

/**
 * Remembers the nonces of signed requests until their timestamp leaves the
 * skew window; after that the timestamp check alone refuses a replay.
 * A store shared by all replicas (Redis, say) may answer asynchronously.
 */
export interface NonceStore {
  /**
   * True if (keyId, nonce) was already recorded and has not expired;
   * otherwise records it until `expiresAtMs` and returns false. May throw
   * IdentityFailure('nonce_store_full') rather than forget a live nonce.
   */
  seen(keyId: string, nonce: string, expiresAtMs: number): boolean | Promise<boolean>;
}

export interface MemoryNonceStoreOptions {
  /** Most nonces held at once; default 1e6 (~95 MB, see docs/hmac-signing.md). */
  maxEntries?: number;
  /** Clock in milliseconds; injectable for tests. */
  now?: () => number;
}

/**
 * In-process nonce store for a single replica.
 *
 * When full it refuses new nonces instead of evicting old ones: evicting an
 * unexpired nonce would let that exact request be replayed until its window
 * closes, and an attacker able to send many signed requests could force
 * such evictions on purpose. Refusing turns the same pressure into a 503
 * that the caller can retry, which is the safer failure for a security gate.
 */
export class MemoryNonceStore implements NonceStore {
  private readonly expiries = new Map<string, number>();
  /** Entries by the second in which they expire, so sweeping never scans live ones. */
  private readonly buckets = new Map<number, string[]>();
  private sweptAt = -1;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: MemoryNonceStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 1_000_000;
    this.now = options.now ?? Date.now;
    if (!(this.maxEntries > 0)) throw new RangeError('maxEntries must be positive');
  }

  /** Entries currently held (expired ones may linger up to a second). */
  get size(): number {
    return this.expiries.size;
  }

  seen(keyId: string, nonce: string, expiresAtMs: number): boolean {
    const now = this.now();
    this.sweep(now, false);
    // A fixed-size digest keeps memory per entry (~95 bytes) the same whatever
    // the nonce length; 128 bits make a false "replay" negligible. Encoding
    // 16 bytes directly (not slicing a longer string) keeps V8 from retaining
    // the whole digest string behind each key.
    const key = hash('sha256', `${keyId}\n${nonce}`, 'buffer').toString('base64url', 0, 16);
    const previous = this.expiries.get(key);
    if (previous !== undefined && previous > now) return true;
    if (expiresAtMs <= now) return false;
    if (previous === undefined && this.expiries.size >= this.maxEntries) {
      this.sweep(now, true);
      if (this.expiries.size >= this.maxEntries) {
        throw new IdentityFailure('nonce_store_full', 'Warden is receiving more signed requests than it can track right now; retry shortly.');
      }
    }
    this.expiries.set(key, expiresAtMs);
    const second = Math.ceil(expiresAtMs / 1000);
    const bucket = this.buckets.get(second);
    if (bucket) bucket.push(key);
    else this.buckets.set(second, [key]);
    return false;
  }

  /** Drop every bucket whose second has passed; at most once a second unless forced. */
  private sweep(now: number, force: boolean): void {
    const second = Math.floor(now / 1000);
    if (!force && second === this.sweptAt) return;
    this.sweptAt = second;
    for (const [expirySecond, keys] of this.buckets) {
      if (expirySecond * 1000 > now) continue;
      for (const key of keys) {
        // The key may have been recorded again (after expiring) with a later expiry.
        const expiry = this.expiries.get(key);
        if (expiry !== undefined && expiry <= now) this.expiries.delete(key);
      }
      this.buckets.delete(expirySecond);
    }
  }
}
