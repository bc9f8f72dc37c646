import type { ProgressRecord } from '../storage/index.js';

export interface ProgressEstimate {
  percent: number;
  /** Percentage points a second, fitted over the reports used. */
  ratePerS: number;
  /** Expected completion (epoch ms), or null when progress is not moving forward. */
  eta: number | null;
  remainingS: number | null;
  /** How many reports the fit used. */
  basedOn: number;
}

/** Reports the fit reads at most: the recent pace matters, not the whole history. */
const WINDOW = 20;

/**
 * Expected completion from the progress curve: a least-squares line through
 * the recent reports (percent against time), since progress last went
 * backwards (a restarted step), extended to 100%.
 */
export function estimateCompletion(points: readonly ProgressRecord[]): ProgressEstimate | null {
  if (points.length === 0) return null;
  let from = 0;
  for (let i = 1; i < points.length; i++) if (points[i]!.percent < points[i - 1]!.percent) from = i;
  const used = points.slice(Math.max(from, points.length - WINDOW));
  const last = used.at(-1)!;
  if (last.percent >= 100) return { percent: 100, ratePerS: 0, eta: last.t, remainingS: 0, basedOn: used.length };
  if (used.length < 2) return { percent: last.percent, ratePerS: 0, eta: null, remainingS: null, basedOn: used.length };
  const n = used.length;
  const mt = used.reduce((a, p) => a + p.t, 0) / n, mp = used.reduce((a, p) => a + p.percent, 0) / n;
  let sxy = 0, sxx = 0;
  for (const p of used) {
    sxy += (p.t - mt) * (p.percent - mp);
    sxx += (p.t - mt) ** 2;
  }
  const perMs = sxx === 0 ? 0 : sxy / sxx;
  if (perMs <= 0) return { percent: last.percent, ratePerS: 0, eta: null, remainingS: null, basedOn: n };
  const remainingMs = (100 - last.percent) / perMs;
  // A crawl so slow it would end past any representable time says nothing: no estimate.
  if (!(last.t + remainingMs <= 8.64e15)) return { percent: last.percent, ratePerS: perMs * 1000, eta: null, remainingS: null, basedOn: n };
  return { percent: last.percent, ratePerS: perMs * 1000, eta: Math.round(last.t + remainingMs), remainingS: Math.round(remainingMs / 100) / 10, basedOn: n };
}
