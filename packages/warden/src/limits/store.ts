/**
 * Where limit counters live. One implementation per backend (memory, Redis),
 * chosen once at start-up. Every method decides all the counters a call
 * touches at once: a call is admitted by every applicable limit or by none,
 * and nothing is counted for a refused call.
 *
 * The counters are sliding windows of BUCKETS sub-buckets (window.ts has the
 * arithmetic and the proof that no window-length span ever admits more than
 * the limit).
 */

/** One windowed counter a reservation checks and charges. */
export interface WindowCheck {
  /** Store key of the counter: rule id plus the subject it counts (e.g. `r:org-tokens:org:acme`). */
  key: string;
  /** Window length in ms (1000 for per-second … 30 days for per-month). */
  windowMs: number;
  /** Most the window may hold. */
  limit: number;
  /** What this call adds now (1 request; estimated tokens; estimated USD). May be 0 (check only). */
  amount: number;
}

/** One in-flight counter (concurrent requests). */
export interface ConcurrencyCheck {
  key: string;
  limit: number;
}

export interface WindowState {
  /** Sum over the window, after this call's amount when admitted. */
  used: number;
  /** limit - used, never below 0. */
  remaining: number;
  /** Seconds until the window has room again for this amount (0 when admitted). */
  retryAfterS: number;
  /** Seconds until the window is empty (for the RateLimit header's t). */
  resetS: number;
}

export interface ReserveResult {
  admitted: boolean;
  /** Per check, in order: state after the decision. */
  windows: WindowState[];
  /** Per concurrency check, in order: holders after the decision. */
  inFlight: number[];
  /** Index into windows (or, when >= windows.length, into concurrency as index - windows.length) of the first check that refused. */
  refusedBy: number;
  /** A token for settle()/release(): which bucket each window charge went to. */
  ticket: ReservationTicket;
}

/** What a store needs later to move a charge or let go of an in-flight slot. */
export interface ReservationTicket {
  /** Bucket index each window charge went into (same order as the checks). */
  buckets: number[];
  /** Holder id under which concurrency slots were taken. */
  holder: string;
}

export interface LimitStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Checks every window and concurrency counter and, only if all have room,
   * charges all of them, atomically (no other reserve interleaves).
   * `holder` is unique per call; `leaseMs` bounds how long an in-flight slot
   * survives a replica that died without releasing it.
   */
  reserve(windows: WindowCheck[], concurrency: ConcurrencyCheck[], holder: string, leaseMs: number): Promise<ReserveResult>;
  /**
   * Moves window charges made by reserve() to their actual amounts: adds
   * `deltas[i]` (actual - estimated, may be negative) to the bucket the
   * ticket names, if that bucket is still in its window. Never refuses.
   */
  settle(windows: WindowCheck[], ticket: ReservationTicket, deltas: number[]): Promise<void>;
  /** Frees the in-flight slots reserve() took. */
  release(concurrency: ConcurrencyCheck[], ticket: ReservationTicket): Promise<void>;
  close(): Promise<void>;
}
