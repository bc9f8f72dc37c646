import { randomUUID } from 'node:crypto';
import { WardenError } from '../errors/index.js';
import { estimateCall, type CallEstimate } from './estimate.js';
import { MemoryLimitStore } from './memory-store.js';
import { subjectOf, type LimitedCall, type LimitRule } from './rules.js';
import type { ConcurrencyCheck, LimitStore, ReserveResult, WindowCheck } from './store.js';

export interface LimiterHooks {
  /** Every decision: outcome and, when refused, the rule that refused. */
  decided?(outcome: 'allowed' | 'limited' | 'error', rule: LimitRule | null): void;
  /** After an admitted decision, per window rule: what is left. */
  remaining?(rule: LimitRule, subject: string, remaining: number): void;
  /** A call to a shared (remote) store: how long it took and whether it answered. */
  storeCall?(seconds: number, ok: boolean): void;
}

export interface LimiterOptions {
  rules: LimitRule[];
  store: LimitStore;
  /** USD for a model and token counts (the price table); null when the model has no price. */
  cost(model: string, tokensIn: number, tokensOut: number): number | null;
  defaultMaxTokens: number;
  /** How long an in-flight slot outlives a replica that died holding it. */
  leaseMs: number;
  hooks?: LimiterHooks;
}

/** An admitted call's reservation, settled when the call is over. */
export interface Admission {
  windows: WindowCheck[];
  windowRules: LimitRule[];
  concurrency: ConcurrencyCheck[];
  result: ReserveResult;
  estimate: CallEstimate | null;
  estimatedCost: number;
  model: string | null;
  settled: boolean;
}

/** The call's payload, when limits on tokens or spend need an estimate. */
export interface CallBody {
  body: Record<string, unknown>;
  embeddings: boolean;
}

/** Tokens and spend of a finished call (null: not reported). */
export interface Usage {
  tokensIn: number | null;
  tokensOut: number | null;
  costUsd: number | null;
}

/** Why a call was refused, for its security event. */
export interface Refusal {
  rule: LimitRule;
  subject: string;
  used: number;
  retryAfterS: number;
}

const QUOTA_UNIT: Record<LimitRule['metric'], string> = { requests: 'requests', tokens: 'tokens', spend_usd: 'usd', concurrent: 'concurrent-requests' };

/**
 * Decides, for each call, every limit that applies to it — in one atomic
 * store call — and settles token and spend reservations to what the call
 * actually used. See docs/limits.md for the model.
 */
export class Limiter {
  #rules: LimitRule[] = [];
  readonly #store: LimitStore;
  readonly #sync: MemoryLimitStore | null;
  readonly #opts: LimiterOptions;
  #needsBody = false;

  constructor(opts: LimiterOptions) {
    this.#opts = opts;
    this.#store = opts.store;
    // The in-process store answers without a promise: no microtask per call on the default set-up.
    this.#sync = opts.store instanceof MemoryLimitStore ? opts.store : null;
    this.setRules(opts.rules);
  }

  get rules(): readonly LimitRule[] {
    return this.#rules;
  }

  /** Replaces the rule set (an org's rules changed); counters of unchanged rules carry on. */
  setRules(rules: LimitRule[]): void {
    this.#rules = rules;
    this.#needsBody = rules.some((r) => r.metric === 'tokens' || r.metric === 'spend_usd');
  }

  /**
   * Admits the call or throws the 429 (or 503 when the store is down and
   * limits fail closed). Returns synchronously with the in-process store.
   * `refused` is told why before the error is thrown.
   */
  admit(call: LimitedCall, payload: CallBody | null, refused: (r: Refusal) => void): Admission | null | Promise<Admission | null> {
    const applicable = this.#applicable(call);
    if (applicable.length === 0) return null;
    const estimate = payload && this.#needsBody && call.model ? estimateCall(call.model, payload.body, { defaultMaxTokens: this.#opts.defaultMaxTokens, embeddings: payload.embeddings }) : null;
    const estimatedCost = estimate && call.model ? (this.#opts.cost(call.model, estimate.tokensIn, estimate.tokensOut) ?? 0) : 0;
    const windows: WindowCheck[] = [];
    const windowRules: LimitRule[] = [];
    const concurrency: ConcurrencyCheck[] = [];
    const concRules: LimitRule[] = [];
    const subjects: string[] = [];
    for (const [rule, subject] of applicable) {
      const key = `${rule.id}|${subject}`;
      if (rule.metric === 'concurrent') {
        concurrency.push({ key, limit: rule.limit });
        concRules.push(rule);
        continue;
      }
      const amount = rule.metric === 'requests' ? 1 : rule.metric === 'tokens' ? (estimate ? estimate.tokensIn + estimate.tokensOut : 0) : estimatedCost;
      windows.push({ key, windowMs: rule.windowMs, limit: rule.limit, amount });
      windowRules.push(rule);
      subjects.push(subject);
    }
    const finish = (result: ReserveResult): Admission => {
      if (!result.admitted) {
        const i = result.refusedBy;
        const isWindow = i < windows.length;
        const rule = isWindow ? windowRules[i]! : concRules[i - windows.length]!;
        const w = isWindow ? result.windows[i]! : null;
        const retryAfterS = w ? w.retryAfterS : 1;
        this.#opts.hooks?.decided?.('limited', rule);
        const subject = isWindow ? subjects[i]! : concurrency[i - windows.length]!.key.slice(rule.id.length + 1);
        refused({ rule, subject, used: w ? w.used : result.inFlight[i - windows.length]!, retryAfterS });
        throw refusalError(rule, retryAfterS, windowRules, result);
      }
      this.#opts.hooks?.decided?.('allowed', null);
      const r = this.#opts.hooks?.remaining;
      if (r) for (let i = 0; i < windowRules.length; i++) r(windowRules[i]!, subjects[i]!, result.windows[i]!.remaining);
      return { windows, windowRules, concurrency, result, estimate, estimatedCost, model: call.model, settled: false };
    };
    const holder = concurrency.length ? randomUUID() : '';
    if (this.#sync) return finish(this.#sync.reserveNow(windows, concurrency, holder));
    const started = process.hrtime.bigint();
    const timed = (ok: boolean) => this.#opts.hooks?.storeCall?.(Number(process.hrtime.bigint() - started) / 1e9, ok);
    return this.#store.reserve(windows, concurrency, holder, this.#opts.leaseMs).then(
      (result) => {
        timed(true);
        return finish(result);
      },
      () => {
        // Fail-closed (or a store error in open mode that the local fallback could not answer either).
        timed(false);
        this.#opts.hooks?.decided?.('error', null);
        throw new WardenError('limits_unavailable');
      },
    );
  }

  /**
   * The call is over: token and spend charges move from the estimate to
   * what was used (an aborted stream the provider never reported on counts
   * the input estimate and what was streamed; a call with no answer at all
   * counts nothing),
   * and in-flight slots are freed. Never throws; runs once per admission.
   */
  settle(a: Admission, used: Usage): Usage | null {
    if (a.settled) return null;
    a.settled = true;
    if (a.concurrency.length) void this.#store.release(a.concurrency, a.result.ticket).catch(() => undefined);
    if (!a.estimate) return null;
    // Nothing known at all (the call failed before the provider answered): nothing was used.
    const tokensOut = used.tokensOut ?? 0;
    const tokensIn = used.tokensIn ?? (used.tokensOut !== null ? a.estimate.tokensIn : 0);
    const cost = used.costUsd ?? (a.model ? (this.#opts.cost(a.model, tokensIn, tokensOut) ?? 0) : 0);
    const deltas = a.windowRules.map((r) =>
      r.metric === 'tokens' ? tokensIn + tokensOut - (a.estimate!.tokensIn + a.estimate!.tokensOut) : r.metric === 'spend_usd' ? cost - a.estimatedCost : 0,
    );
    const charged = { tokensIn, tokensOut, costUsd: cost };
    if (deltas.every((d) => d === 0)) return charged;
    if (this.#sync) this.#sync.settleNow(a.windows, a.result.ticket, deltas);
    else void this.#store.settle(a.windows, a.result.ticket, deltas).catch(() => undefined);
    return charged;
  }

  /** RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers-09) for an admitted call. */
  headers(a: Admission): [string, string] | [] {
    return headerValues(a.windowRules, a.result);
  }

  close(): Promise<void> {
    return this.#store.close();
  }

  /** Rules that apply to the call with the subject each charges, less those a more specific rule replaces. */
  #applicable(call: LimitedCall): Array<[LimitRule, string]> {
    const out: Array<[LimitRule, string]> = [];
    let replaced: Set<string> | null = null;
    for (const rule of this.#rules) {
      if (!rule.matches(call)) continue;
      const subject = subjectOf(rule, call);
      if (subject === null) continue;
      out.push([rule, subject]);
      if (rule.replaces.length) for (const n of rule.replaces) (replaced ??= new Set()).add(n);
    }
    return replaced ? out.filter(([r]) => !replaced.has(r.name)) : out;
  }
}

/** Structured-field strings: names are sf-strings, parameters q/w/qu (policy) and r/t (state). */
function headerValues(rules: LimitRule[], result: ReserveResult): [string, string] | [] {
  if (rules.length === 0) return [];
  const policy: string[] = [];
  const state: string[] = [];
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    const w = result.windows[i]!;
    const unit = r.metric === 'requests' ? '' : `;qu="${QUOTA_UNIT[r.metric]}"`;
    policy.push(`"${r.name}";q=${fmt(r.limit)};w=${r.windowMs / 1000}${unit}`);
    state.push(`"${r.name}";r=${fmt(w.remaining)};t=${Math.ceil(w.resetS)}`);
  }
  return [policy.join(', '), state.join(', ')];
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(6).replace(/0+$/, '');
}

const UNIT_TEXT: Record<LimitRule['metric'], string> = { requests: 'requests', tokens: 'tokens', spend_usd: 'USD', concurrent: 'requests in flight' };
const PERIOD_TEXT: Record<string, string> = { second: 'second', minute: 'minute', hour: 'hour', day: 'day', month: '30 days' };

function refusalError(rule: LimitRule, retryAfterS: number, windowRules: LimitRule[], result: ReserveResult): WardenError {
  const retry = Number.isFinite(retryAfterS) ? Math.max(1, Math.ceil(retryAfterS)) : Math.ceil(rule.windowMs / 1000) || 1;
  const amount = rule.metric === 'spend_usd' ? `$${fmt(rule.limit)}` : `${fmt(rule.limit)} ${UNIT_TEXT[rule.metric]}`;
  const per = rule.window ? ` per ${PERIOD_TEXT[rule.window]}` : ' at a time';
  const who = rule.per === 'global' ? 'for everyone' : `for this ${rule.per}`;
  const when = Number.isFinite(retryAfterS) ? `Retry in ${retry} s.` : 'This call alone is larger than the limit; make it smaller (fewer tokens or a lower max_tokens).';
  const message = `Limit "${rule.name}" reached: ${amount}${per} ${who}. ${when}`;
  const headers: Record<string, string> = { 'retry-after': String(retry) };
  const [policy, state] = headerValues(windowRules, result);
  if (policy && state) {
    headers['ratelimit-policy'] = policy;
    headers.ratelimit = state;
  }
  return new WardenError(rule.metric === 'spend_usd' ? 'budget_exceeded' : 'rate_limited', message, headers);
}
