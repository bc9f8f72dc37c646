import type { Metric, Registry } from 'prom-client';

/**
 * Counter and histogram families for the per-request metrics, rendered by
 * prom-client's Registry like its own. prom-client hashes and validates the
 * label object on every inc/observe, even through a `labels()` child, which
 * cost ~15 µs of gateway CPU per request across Warden's six per-request
 * updates. Here a child is resolved once per label set and an update is an
 * addition (and, for histograms, a short bucket scan).
 */

type LabelValues = Record<string, string | number>;

interface Value {
  labels: LabelValues;
  value: number;
  metricName?: string;
}

interface FamilyOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
}

/** Children are cached per label set; client-chosen values (model names) could grow it, so it is bounded. */
const MAX_CHILDREN = 10_000;
const OVERFLOW = 'other';
const OVERFLOW_KEY = '\u0001overflow';

abstract class Family<L extends string, C> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum';
  protected readonly children = new Map<string, { labels: LabelValues; child: C }>();

  constructor(opts: FamilyOptions<L>) {
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = opts.labelNames;
    for (const r of opts.registers) r.registerMetric(this as unknown as Metric);
  }

  /** The child for these label values, in labelNames order. */
  labels(...values: string[]): C {
    const key = values.length === 1 ? values[0]! : values.join('\u0000');
    const entry = this.children.get(key);
    if (entry) return entry.child;
    // Past the bound, new label sets share one "other" child rather than growing memory without end.
    const full = this.children.size >= MAX_CHILDREN;
    return this.add(full ? OVERFLOW_KEY : key, full ? this.labelNames.map(() => OVERFLOW) : values);
  }

  private add(key: string, values: readonly string[]): C {
    const existing = this.children.get(key);
    if (existing) return existing.child;
    const labels: LabelValues = {};
    this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
    const child = this.create();
    this.children.set(key, { labels, child });
    return child;
  }

  protected abstract create(): C;
  protected abstract values(): Value[];

  /** What prom-client's Registry renders. */
  get(): Promise<{ name: string; help: string; type: string; values: Value[]; aggregator: string }> {
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator });
  }

  reset(): void {
    this.children.clear();
  }
}

export interface CounterChild {
  inc(v?: number): void;
}

class CounterCell implements CounterChild {
  value = 0;
  inc(v = 1): void {
    this.value += v;
  }
}

export class CounterFamily<L extends string> extends Family<L, CounterChild> {
  readonly type = 'counter';
  protected create(): CounterCell {
    return new CounterCell();
  }
  protected values(): Value[] {
    return [...this.children.values()].map(({ labels, child }) => ({ labels, value: (child as CounterCell).value }));
  }
}

export interface HistogramChild {
  observe(v: number): void;
}

class HistogramCell implements HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    if (!Number.isFinite(v)) return;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    if (i < b.length) this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

export class HistogramFamily<L extends string> extends Family<L, HistogramChild> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];

  constructor(opts: FamilyOptions<L> & { buckets: readonly number[] }) {
    super(opts);
    this.bounds = [...opts.buckets].sort((a, b) => a - b);
  }

  protected create(): HistogramCell {
    return new HistogramCell(this.bounds);
  }

  protected values(): Value[] {
    const out: Value[] = [];
    for (const { labels, child } of this.children.values()) {
      const cell = child as HistogramCell;
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += cell.counts[i]!;
        out.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      out.push({ labels: { ...labels, le: '+Inf' }, value: cell.count, metricName: `${this.name}_bucket` });
      out.push({ labels, value: cell.sum, metricName: `${this.name}_sum` });
      out.push({ labels, value: cell.count, metricName: `${this.name}_count` });
    }
    return out;
  }
}
