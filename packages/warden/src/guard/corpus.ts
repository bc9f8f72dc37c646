import { readFileSync } from 'node:fs';
import type { Finding } from './finding.js';

/** A labelled sample of eval/guard/*.jsonl: the spans a detector should find (none for a hard negative). */
export interface LabelledSample {
  id: string;
  text: string;
  spans: Array<{ type: string; start: number; end: number }>;
  note?: string;
}

export interface TypeCounts {
  tp: number;
  fp: number;
  fn: number;
}

export function readCorpus<T = LabelledSample>(file: string | URL): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

/** A finding counts for a label of the same type when the spans overlap by at least half of the longer one. */
export function spansMatch(a: { type: string; start: number; end: number }, b: { type: string; start: number; end: number }): boolean {
  return a.type === b.type && Math.min(a.end, b.end) - Math.max(a.start, b.start) >= Math.max(a.end - a.start, b.end - b.start) / 2;
}

/** True/false positives and misses per type; each labelled span is matched at most once. */
export function scoreCorpus(rows: readonly LabelledSample[], find: (text: string) => readonly Finding[]): Map<string, TypeCounts> {
  const per = new Map<string, TypeCounts>();
  const of = (t: string) => per.get(t) ?? (per.set(t, { tp: 0, fp: 0, fn: 0 }), per.get(t)!);
  for (const row of rows) {
    const found = find(row.text);
    const used = new Set<number>();
    for (const f of found) {
      const i = row.spans.findIndex((s, j) => !used.has(j) && spansMatch(s, f));
      if (i >= 0) {
        used.add(i);
        of(f.type).tp++;
      } else of(f.type).fp++;
    }
    row.spans.forEach((s, j) => {
      if (!used.has(j)) of(s.type).fn++;
    });
  }
  return per;
}

export function f1({ tp, fp, fn }: TypeCounts): number {
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}
