import { describe, expect, it } from 'vitest';
import type { AppendOutcome, TraceEventInput, TraceStore } from '../storage/index.js';
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

  it('splits a group at maxEvents', async () => {
    const s = store();
    const c = new GroupCommitter(s.traces, 3);
    await Promise.all([c.commit([ev('r', 1), ev('r', 2)]), c.commit([ev('r', 3), ev('r', 4)]), c.commit([ev('r', 5)])]);
    expect(s.transactions).toEqual([2, 3]);
  });
});
