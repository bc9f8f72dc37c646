/**
 * A circuit breaker in front of Warden: after `failureThreshold` failures in
 * a row it opens and nothing is sent for `cooldownMs`; then it is half-open
 * and lets one request through as a probe. The probe's success closes it,
 * its failure opens it again for another cooldown. It can also be opened
 * for longer than a cooldown: when Warden's Retry-After asks for that.
 */

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitPolicy {
  failureThreshold: number;
  cooldownMs: number;
}

export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private state: CircuitState = 'closed';

  constructor(
    private readonly policy: CircuitPolicy,
    private readonly now: () => number = Date.now,
    /** Told of every change of state (for the client's stats and the spool rescan). */
    private readonly onChange: (from: CircuitState, to: CircuitState) => void = () => {},
  ) {}

  get current(): CircuitState {
    if (this.state === 'open' && this.now() >= this.openUntil) this.move('half_open');
    return this.state;
  }

  /** Milliseconds until a probe may go out; 0 when a request may be sent now. */
  waitMs(): number {
    return this.current === 'open' ? Math.max(1, this.openUntil - this.now()) : 0;
  }

  success(): void {
    this.failures = 0;
    if (this.state !== 'closed') this.move('closed');
  }

  failure(): void {
    this.failures++;
    if (this.state === 'half_open' || this.failures >= this.policy.failureThreshold) this.trip();
  }

  /**
   * Open now, whatever the count (retries of one request ran out, or Warden
   * asked us to wait), for `forMs` (default the cooldown). An open circuit
   * is never shortened: it stays open until the later of the two ends.
   */
  trip(forMs: number = this.policy.cooldownMs): void {
    const until = this.now() + forMs;
    this.openUntil = this.state === 'open' ? Math.max(this.openUntil, until) : until;
    this.failures = 0;
    if (this.state !== 'open') this.move('open');
  }

  private move(to: CircuitState): void {
    const from = this.state;
    this.state = to;
    this.onChange(from, to);
  }
}
