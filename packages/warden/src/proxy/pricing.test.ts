import { describe, expect, it } from 'vitest';
import { PriceTable } from './pricing.js';

describe('PriceTable', () => {
  const t = new PriceTable({ 'my-model': { input_per_mtok: 1, output_per_mtok: 2 }, 'gpt-4o': { input_per_mtok: 100, output_per_mtok: 100 } });

  it('prices dated snapshots by their longest base name', () => {
    expect(t.lookup('gpt-4o-mini-2024-07-18')).toEqual(t.lookup('gpt-4o-mini'));
    expect(t.lookup('gpt-4o-mini')).not.toEqual(t.lookup('gpt-4o'));
  });

  it('lets config override and extend the shipped table', () => {
    expect(t.cost('gpt-4o', 1_000_000, 0)).toBe(100);
    expect(t.cost('my-model', 500_000, 250_000)).toBe(1);
  });

  it('computes cost from the shipped prices and returns null for unknown models', () => {
    // gpt-4o-mini ships at $0.15 in / $0.60 out per million tokens.
    expect(t.cost('gpt-4o-mini', 1000, 1000)).toBeCloseTo(0.00075, 9);
    expect(t.cost('no-such-model', 10, 10)).toBeNull();
  });
});
