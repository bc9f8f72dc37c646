import { describe, expect, it } from 'vitest';
import { blankEvent, type WardenEvent } from './event.js';
import { parseEventJson } from './json.js';
import { EventWriter } from './writer.js';

function ev(n: number): WardenEvent {
  return { ...blankEvent(), id: `e${n}`, ts: n, requestId: `r${n}`, kind: 'test' };
}

class FlakyStore {
  batches: WardenEvent[][] = [];
  failNext = 0;
  async appendEventJson(events: string[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('database is down');
    }
    this.batches.push(events.map(parseEventJson));
  }
  get all(): string[] {
    return this.batches.flat().map((e) => e.id);
  }
}

describe('EventWriter', () => {
  it('writes events in batches off the caller and in order', async () => {
    const store = new FlakyStore();
    const w = new EventWriter(store, { batchSize: 10, flushIntervalMs: 5, queueLimit: 1000 });
    for (let i = 0; i < 35; i++) w.emit(ev(i));
    expect(store.batches.length).toBe(0); // emit never writes synchronously
    await w.close();
    expect(store.all).toEqual(Array.from({ length: 35 }, (_, i) => `e${i}`));
    expect(Math.max(...store.batches.map((b) => b.length))).toBeLessThanOrEqual(10);
  });

  it('keeps events through failed writes and writes them when storage returns', async () => {
    const store = new FlakyStore();
    store.failNext = 3;
    const failures: unknown[] = [];
    const w = new EventWriter(store, { batchSize: 100, flushIntervalMs: 1, queueLimit: 1000 }, { failed: (e) => failures.push(e) });
    for (let i = 0; i < 5; i++) w.emit(ev(i));
    const lost = await w.close(5000);
    expect(lost).toBe(0);
    expect(failures.length).toBe(3);
    expect(store.all).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
  });

  it('drops and counts events only beyond the queue limit', async () => {
    const store = new FlakyStore();
    store.failNext = 1_000_000;
    let dropped = 0;
    const w = new EventWriter(store, { batchSize: 10, flushIntervalMs: 1000, queueLimit: 100 }, { dropped: (n) => (dropped += n) });
    for (let i = 0; i < 150; i++) w.emit(ev(i));
    expect(w.depth).toBe(100);
    expect(dropped).toBe(50);
    expect(w.stats().dropped).toBe(50);
    store.failNext = 0;
    await w.close();
    expect(store.all.length).toBe(100);
  });
});
