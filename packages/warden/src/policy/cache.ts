/**
 * Bounded cache that keeps recently used entries (two generations: a hit in
 * the current one is a single Map lookup; a hit in the previous one moves the
 * entry forward; when the current generation fills half the capacity, the
 * previous one is dropped). A true LRU moved every hit to the end of a Map
 * (a delete and a set, each hashing the long key), which measured ~1.4 µs per
 * proxied request on the decision path.
 */
export class LruCache<K, V> {
  #current = new Map<K, V>();
  #previous = new Map<K, V>();
  readonly #half: number;

  constructor(capacity: number) {
    this.#half = Math.floor(Math.max(0, Math.floor(capacity)) / 2);
  }

  /** Entries held, at most the capacity. */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  get(key: K): V | undefined {
    const hot = this.#current.get(key);
    if (hot !== undefined) return hot;
    const cold = this.#previous.get(key);
    if (cold !== undefined) {
      this.#previous.delete(key);
      this.#add(key, cold);
    }
    return cold;
  }

  set(key: K, value: V): void {
    if (this.#half === 0) return;
    this.#previous.delete(key);
    this.#add(key, value);
  }

  clear(): void {
    this.#current.clear();
    this.#previous.clear();
  }

  #add(key: K, value: V): void {
    this.#current.set(key, value);
    if (this.#current.size >= this.#half) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
  }
}
