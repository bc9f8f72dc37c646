import { describe, expect, it } from 'vitest';
import { IdentityFailure } from './failure.js';
import { MemoryNonceStore } from './nonces.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('MemoryNonceStore', () => {
  it('reports a nonce as seen the second time, per key', () => {
    const c = clock();
    const store = new MemoryNonceStore({ now: c.now });
    expect(store.seen('sk_a', 'nonce-0000000001', c.now() + 300_000)).toBe(false);
    expect(store.seen('sk_a', 'nonce-0000000001', c.now() + 300_000)).toBe(true);
    expect(store.seen('sk_b', 'nonce-0000000001', c.now() + 300_000)).toBe(false);
  });

  it('forgets a nonce once it expires', () => {
    const c = clock();
    const store = new MemoryNonceStore({ now: c.now });
    store.seen('sk_a', 'nonce-0000000001', c.now() + 300_000);
    c.advance(301_000);
    expect(store.seen('sk_a', 'nonce-0000000002', c.now() + 300_000)).toBe(false);
    expect(store.size).toBe(1);
    expect(store.seen('sk_a', 'nonce-0000000001', c.now() + 300_000)).toBe(false);
  });

  it('refuses new nonces when full of live ones, rather than forgetting any', () => {
    const c = clock();
    const store = new MemoryNonceStore({ now: c.now, maxEntries: 2 });
    store.seen('sk_a', 'nonce-0000000001', c.now() + 300_000);
    store.seen('sk_a', 'nonce-0000000002', c.now() + 300_000);
    let reason: string | undefined;
    try {
      store.seen('sk_a', 'nonce-0000000003', c.now() + 300_000);
    } catch (err) {
      if (err instanceof IdentityFailure) reason = err.reason;
    }
    expect(reason).toBe('nonce_store_full');
    // The live nonces are still remembered: a replay is still caught.
    expect(store.seen('sk_a', 'nonce-0000000001', c.now() + 300_000)).toBe(true);
  });

  it('makes room as soon as old nonces expire', () => {
    const c = clock();
    const store = new MemoryNonceStore({ now: c.now, maxEntries: 2 });
    store.seen('sk_a', 'nonce-0000000001', c.now() + 1_000);
    store.seen('sk_a', 'nonce-0000000002', c.now() + 300_000);
    c.advance(1_500);
    expect(store.seen('sk_a', 'nonce-0000000003', c.now() + 300_000)).toBe(false);
    expect(store.size).toBe(2);
  });
});
