/**
 * When to try again: exponential backoff with full jitter (a random delay
 * between zero and the capped exponential, as in AWS's "Exponential Backoff
 * and Jitter"), never shorter than what the server asked for in Retry-After
 * (RFC 9110 §10.2.3).
 */

/** The longest delay setTimeout takes (2^31−1 ms, about 24.8 days); a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface BackoffPolicy {
  /** The cap of the first retry's delay; doubles each attempt. */
  baseMs: number;
  /** No delay drawn is longer than this (Retry-After can still ask for more). */
  maxMs: number;
}

/** Delay before retry number `attempt` (1 = the first retry): uniform in [0, min(maxMs, baseMs·2^(attempt-1))). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Retry-After as milliseconds from `now`: delay-seconds or an HTTP-date.
 * Undefined when absent or unreadable; a date in the past is zero.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** The wait before the next attempt: the jittered backoff, floored by Retry-After. Cap `retryAfterMs` first: see Deliverer. */
export function retryDelay(attempt: number, policy: BackoffPolicy, retryAfterMs: number | undefined, random: () => number = Math.random): number {
  return Math.max(backoffDelay(attempt, policy, random), retryAfterMs ?? 0);
}

/** A timer that does not keep the process alive, and ends early (resolving false) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
