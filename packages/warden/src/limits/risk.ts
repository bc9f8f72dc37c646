/**
 * A caller's risk from limit violations: each violation adds `step`, and
 * the score halves every `halfLifeMs`, so a burst of refusals raises it fast
 * and good behaviour lowers it again. Capped at 100. The guardrails stage
 * reads it; the limits stage only raises it. Bounded: callers whose score
 * has decayed below 1 are forgotten on the next sweep.
 */
export class RiskLedger {
  readonly #scores = new Map<string, { score: number; at: number }>();
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly step = 10,
    private readonly halfLifeMs = 10 * 60_000,
    now: () => number = Date.now,
  ) {
    this.#now = now;
    this.#timer = setInterval(() => this.sweep(), 60_000);
    this.#timer.unref();
  }

  /** Records a violation by `caller`; returns the new score. */
  raise(caller: string): number {
    const s = Math.min(100, this.score(caller) + this.step);
    this.#scores.set(caller, { score: s, at: this.#now() });
    return s;
  }

  score(caller: string): number {
    const e = this.#scores.get(caller);
    if (!e) return 0;
    return e.score * 0.5 ** ((this.#now() - e.at) / this.halfLifeMs);
  }

  sweep(): void {
    for (const k of this.#scores.keys()) if (this.score(k) < 1) this.#scores.delete(k);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
