import { UpstreamUnavailable } from './tools.js';

/**
 * `closed`: requests go through. `open`: they fail at once, for the
 * cool-down. `half_open`: the cool-down is over and one trial request goes
 * (or is on its way); its outcome closes or reopens the circuit.
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitOptions {
  /** Transport failures in a row that open the circuit. */
  failures: number;
  /** How long it stays open before a trial request. */
  cooldownMs: number;
}

/** The config's defaults (`mcp.servers[].circuit`), for servers built without one. */
export const DEFAULT_CIRCUIT = { failures: 5, cooldown_s: 30 } as const;

/** Why a request was refused without asking the server. */
export class CircuitOpenError extends UpstreamUnavailable {
  constructor(
    readonly failures: number,
    /** Until the trial request; 0 when the trial is already on its way. */
    readonly retryInMs: number,
  ) {
    const when = retryInMs > 0 ? `Warden retries it in ${Math.max(1, Math.ceil(retryInMs / 1000))} s` : 'Warden is trying it again now';
    super(`it is unavailable (${failures} failures in a row); ${when}`, false);
    this.name = 'CircuitOpenError';
  }
}

/**
 * One server's circuit breaker. A server that keeps failing below MCP
 * (refused connections, HTTP 5xx, timeouts) is left alone for a cool-down
 * instead of making every caller wait for its timeout, and is then tried
 * with a single request. Only transport failures count: a JSON-RPC error is
 * the server answering, so it counts as a success.
 */
export class CircuitBreaker {
  #failures = 0;
  /** When it opened; null while closed. */
  #openedAt: number | null = null;
  #trial = false;

  constructor(
    private readonly opts: CircuitOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    if (this.#openedAt === null) return 'closed';
    return this.#trial || this.now() - this.#openedAt >= this.opts.cooldownMs ? 'half_open' : 'open';
  }

  /** Transport failures since the last success. */
  get failures(): number {
    return this.#failures;
  }

  /**
   * Lets one request through or throws CircuitOpenError. Returns true when
   * the request is the half-open trial: pass that to the outcome.
   */
  admit(): boolean {
    if (this.#openedAt === null) return false;
    const wait = this.#openedAt + this.opts.cooldownMs - this.now();
    if (wait > 0) throw new CircuitOpenError(this.#failures, wait);
    if (this.#trial) throw new CircuitOpenError(this.#failures, 0);
    this.#trial = true;
    return true;
  }

  /** The server answered (a JSON-RPC error included). */
  succeeded(): void {
    this.#failures = 0;
    this.#openedAt = null;
    this.#trial = false;
  }

  /** The request failed below MCP. A failed trial reopens the circuit for a fresh cool-down. */
  failed(trial: boolean): void {
    this.#failures++;
    if (trial) this.#trial = false;
    if (this.#openedAt !== null) {
      // A request admitted before it opened, failing late, does not extend the cool-down.
      if (trial) this.#openedAt = this.now();
      return;
    }
    if (this.#failures >= this.opts.failures) this.#openedAt = this.now();
  }

  /** The request ended without telling anything about the server (the caller cancelled): the next one may be the trial. */
  released(trial: boolean): void {
    if (trial) this.#trial = false;
  }
}
