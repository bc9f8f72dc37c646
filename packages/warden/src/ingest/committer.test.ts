import { describe, expect, it } from 'vitest';
import type { AppendOutcome, TraceEventInput, TraceStore } from '../storage/index.js';
import { WriterThreadLost } from '../events/index.js';
import { GroupCommitter } from './committer.js';

const ev = (runId: string, seq: number) => ({ orgId: 'o', runId, seq }) as TraceEventInput;

/** A store that records each transaction and refuses any that holds an event of run "bad". */
function store(): { traces: TraceStore; transactions: number[] } {
  const transactions: number[] = [];
  const traces = {
    appendTraceEvents: async (events: readonly TraceEventInput[]): Promise<AppendOutcome[]> => {
      transactions.push(events.length);
      if (events.some((e) => e.runId === 'bad')) throw new Error('the database refused it');
      return events.map(() => ({ status: 'stored', flags: [] }));
    },
  } as unknown as TraceStore;
  return { traces, transactions };
}

describe('GroupCommitter', () => {
  it('commits the batches of concurrent requests in one transaction and answers each with its own outcomes', async () => {
    const s = store();
    const c = new GroupCommitter(s.traces);
    const [a, b] = await Promise.all([c.commit([ev('r1', 1), ev('r1', 2)]), c.commit([ev('r2', 1)])]);
    expect([a.length, b.length]).toEqual([2, 1]);
    expect(s.transactions).toEqual([3]);
  });

  it('when a shared transaction fails, only the batch that caused it fails', async () => {
    const s = store();
    const c = new GroupCommitter(s.traces);
    const results = await Promise.allSettled([c.commit([ev('r1', 1)]), c.commit([ev('bad', 1)]), c.commit([ev('r2', 1), ev('r2', 2)])]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // One shared attempt, then each batch alone.
    expect(s.transactions).toEqual([4, 1, 1, 2]);
  });

  it('does not retry a shared transaction whose outcome is unknown (the writer thread died unanswered): every batch in it fails, none is written twice', async () => {
    let calls = 0;
    const lost = { appendTraceEvents: async () => (calls++, Promise.reject(new WriterThreadLost('event writer thread exited (code 1)'))) };
    const c = new GroupCommitter(lost);
    const results = await Promise.allSettled([c.commit([ev('r1', 1)]), c.commit([ev('r2', 1)])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    await c.idle();
  });

  it('idle() waits for what is queued and being written', async () => {
    const s = store();
    const c = new GroupCommitter(s.traces);
    const pending = c.commit([ev('r', 1)]);
    let done = false;
    const idle = c.idle().then(() => (done = true));
    expect(done).toBe(false);
    await pending;
    await idle;
    expect(s.transactions).toEqual([1]);
  });

  it('splits a group at maxEvents', async () => {
    const s = store();
    const c = new GroupCommitter(s.traces, 3);
    await Promise.all([c.commit([ev('r', 1), ev('r', 2)]), c.commit([ev('r', 3), ev('r', 4)]), c.commit([ev('r', 5)])]);
    expect(s.transactions).toEqual([2, 3]);
  });

  it('refuses a batch at once with 503 and Retry-After when the queue is full, instead of queueing without bound', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = { appendTraceEvents: async (events: readonly TraceEventInput[]) => (await gate, events.map(() => ({ status: 'stored', flags: [] }))) } as unknown as TraceStore;
    const c = new GroupCommitter(slow, 5000, 3);
    const first = c.commit([ev('r', 1), ev('r', 2)]);
    await new Promise((r) => setImmediate(r));
    // The first batch is being written; the next two wait; a third would pass the limit.
    const second = c.commit([ev('r', 3), ev('r', 4)]);
    const third = c.commit([ev('r', 5)]);
    await expect(c.commit([ev('r', 6), ev('r', 7)])).rejects.toMatchObject({ code: 'ingest_overloaded', status: 503, headers: { 'retry-after': '1' } });
    release();
    expect((await Promise.all([first, second, third])).map((o) => o.length)).toEqual([2, 2, 1]);
  });
});
