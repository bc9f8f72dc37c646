import { describe, expect, it } from 'vitest';
import type { ProgressRecord } from '../storage/index.js';
import { estimateCompletion } from './progress.js';

const at = (t: number, percent: number): ProgressRecord => ({ orgId: 'o', runId: 'r', t, percent, status: null, message: null, step: null });

describe('estimateCompletion', () => {
  it('extends the recent pace to 100%', () => {
    // 10 points a second, now at 40% at t = 4 s: 6 s to go.
    const e = estimateCompletion([at(0, 0), at(1000, 10), at(2000, 20), at(3000, 30), at(4000, 40)])!;
    expect(e).toEqual({ percent: 40, ratePerS: 10, eta: 10_000, remainingS: 6, basedOn: 5 });
  });

  it('starts again after progress went backwards, and gives no time when progress stalls or is only one report', () => {
    const e = estimateCompletion([at(0, 0), at(1000, 50), at(2000, 5), at(3000, 10), at(4000, 15)])!;
    expect([e.basedOn, e.ratePerS, e.eta]).toEqual([3, 5, 21_000]);
    expect(estimateCompletion([at(0, 30), at(1000, 30)])).toMatchObject({ eta: null, remainingS: null });
    expect(estimateCompletion([at(0, 30)])).toMatchObject({ percent: 30, eta: null, basedOn: 1 });
    expect(estimateCompletion([at(0, 50), at(1000, 100)])).toMatchObject({ percent: 100, eta: 1000, remainingS: 0 });
    expect(estimateCompletion([])).toBeNull();
  });
});
