import { readFileSync } from 'node:fs';
import type { PriceConfig } from '../config/index.js';

export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** The shipped table, read once. JSON import attributes are not stable on Node 20, so read the file. */
export function shippedPrices(): Record<string, PriceConfig> {
  const raw = JSON.parse(readFileSync(new URL('./prices.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  delete raw._comment;
  return raw as Record<string, PriceConfig>;
}

/**
 * Model → price. Exact names win; otherwise the longest table name that the
 * model extends with "-" (so gpt-4o-mini-2024-07-18 prices as gpt-4o-mini,
 * not gpt-4o). Lookups are memoised because the set of models is small.
 */
export class PriceTable {
  private readonly prices = new Map<string, Price>();
  private readonly memo = new Map<string, Price | null>();

  constructor(overrides: Readonly<Record<string, PriceConfig>>, base: Record<string, PriceConfig> = shippedPrices()) {
    for (const [model, p] of Object.entries({ ...base, ...overrides })) {
      this.prices.set(model, { inputPerMTok: p.input_per_mtok, outputPerMTok: p.output_per_mtok });
    }
  }

  models(): string[] {
    return [...this.prices.keys()];
  }

  lookup(model: string): Price | null {
    const hit = this.memo.get(model);
    if (hit !== undefined) return hit;
    let found = this.prices.get(model) ?? null;
    if (!found) {
      let best = '';
      for (const name of this.prices.keys()) {
        if (model.startsWith(`${name}-`) && name.length > best.length) best = name;
      }
      found = best ? this.prices.get(best)! : null;
    }
    if (this.memo.size < 10_000) this.memo.set(model, found);
    return found;
  }

  /** USD for a call, or null when the model has no price. */
  cost(model: string, tokensIn: number, tokensOut: number): number | null {
    const p = this.lookup(model);
    if (!p) return null;
    // Round to a micro-dollar fraction so stored values are stable decimals.
    return Math.round(((tokensIn * p.inputPerMTok + tokensOut * p.outputPerMTok) / 1e6) * 1e9) / 1e9;
  }
}
