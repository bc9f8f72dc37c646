/**
 * Sliding-window counters, the arithmetic both stores share.
 *
 * A window of length W is split into BUCKETS sub-buckets of width w = W/BUCKETS;
 * bucket k holds what was charged during [k·w, (k+1)·w). At time t the
 * window's sum is taken over buckets floor((t−W)/w) … floor(t/w): the
 * BUCKETS+1 buckets that overlap (t−W, t], the oldest one counted whole even
 * though only part of it lies inside the window. Counting it whole is what
 * makes the limit exact rather than approximate:
 *
 *   Take any span [s, s+W] and the last admission in it, at t. Every other
 *   admission in the span happened at or after s ≥ t−W, so it sits in a
 *   bucket ≥ floor((t−W)/w), which the sum at t counted. The call at t was
 *   admitted only if that sum plus its own amount was ≤ limit; so the span
 *   holds at most `limit`.
 *
 * The price is that a window can refuse up to one bucket's width (W/20)
 * longer than a perfect sliding log would. Unlike a sliding-window
 * *estimate* (the previous fixed window weighted by overlap), a burst at a
 * window boundary cannot get twice the limit through.
 */
export const BUCKETS = 20;

export function bucketWidth(windowMs: number): number {
  return windowMs / BUCKETS;
}

export function bucketIndex(nowMs: number, windowMs: number): number {
  return Math.floor(nowMs / bucketWidth(windowMs));
}

/** Oldest bucket index still inside the window at bucket `current`. */
export function oldestLive(current: number): number {
  return current - BUCKETS;
}

/**
 * Seconds until a window holding `buckets` (index → amount, any order) has
 * room for `amount` more under `limit`: the time at which enough of the
 * oldest buckets have slid out. Infinity when the amount alone exceeds the limit.
 */
export function retryAfterS(buckets: Array<[number, number]>, used: number, amount: number, limit: number, nowMs: number, windowMs: number): number {
  const excess = used + amount - limit;
  if (excess <= 0) return 0;
  if (amount > limit) return Infinity;
  const w = bucketWidth(windowMs);
  let freed = 0;
  for (const [k, v] of [...buckets].sort((a, b) => a[0] - b[0])) {
    freed += v;
    if (freed >= excess) return Math.max(0, ((k + BUCKETS + 1) * w - nowMs) / 1000);
  }
  return windowMs / 1000;
}

/** Seconds until every bucket charged so far has left the window. */
export function resetS(newest: number | undefined, nowMs: number, windowMs: number): number {
  if (newest === undefined) return 0;
  return Math.max(0, ((newest + BUCKETS + 1) * bucketWidth(windowMs) - nowMs) / 1000);
}
