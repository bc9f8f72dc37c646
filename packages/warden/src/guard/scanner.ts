import { hash } from 'node:crypto';
import type { Detector, Finding, FindingCategory } from './finding.js';

/** A finding as it may be recorded: where and what, a keyed hash and a masked preview — never the text itself. */
export interface RecordedFinding {
  type: string;
  category: FindingCategory;
  /** Which part of the payload (e.g. `messages[2].content`). */
  where: string;
  start: number;
  end: number;
  confidence: number;
  /** HMAC-SHA256 of the matched text under a key derived from the master key (first 16 hex): the same value gives the same hash, within one installation. */
  hash: string;
  /** First and last characters with the middle masked (`4111…1111` → `41**…**11`); `***` for short values; nothing for injections. */
  preview: string;
}

/** Secrets win over PII on the same text, a checksummed or likelier type over a weaker one. */
const CATEGORY_RANK: Record<FindingCategory, number> = { secret: 3, pii: 2, injection: 1 };

/**
 * Runs every detector over a text and resolves overlaps: where two
 * findings of redactable categories cover the same characters, the one of
 * the stronger category (then the higher confidence, then the longer span)
 * is kept. Injection findings never suppress, and are never suppressed by,
 * PII or secrets.
 */
export class ContentScanner {
  /** The finding-hash key, hex: what each value's hash begins with. */
  readonly #keyPrefix: string;

  constructor(
    private readonly detectors: readonly Detector[],
    hashKey: Buffer,
  ) {
    this.#keyPrefix = hashKey.toString('hex');
  }

  scan(text: string, minConfidence = 0): Finding[] {
    if (text.length === 0) return [];
    const redactable: Finding[] = [];
    const rest: Finding[] = [];
    for (const d of this.detectors) {
      for (const f of d.detect(text)) if (f.confidence >= minConfidence) (f.category === 'injection' ? rest : redactable).push(f);
    }
    redactable.sort((a, b) => a.start - b.start);
    // Each detector resolves its own overlaps; across detectors they are rare. Sweep once for
    // clusters of overlapping findings and pick within each cluster only: linear when there are none.
    const kept: Finding[] = [];
    for (let i = 0; i < redactable.length; ) {
      let j = i + 1;
      let end = redactable[i]!.end;
      while (j < redactable.length && redactable[j]!.start < end) end = Math.max(end, redactable[j++]!.end);
      if (j === i + 1) kept.push(redactable[i]!);
      else kept.push(...resolve(redactable.slice(i, j)));
      i = j;
    }
    return rest.length ? [...kept, ...rest] : kept;
  }

  record(text: string, where: string, f: Finding): RecordedFinding {
    const value = text.slice(f.start, f.end);
    return {
      type: f.type,
      category: f.category,
      where,
      start: f.start,
      end: f.end,
      confidence: Math.round(f.confidence * 100) / 100,
      hash: findingHash(this.#keyPrefix, value),
      preview: f.category === 'injection' ? '' : mask(value),
    };
  }
}

/**
 * A value's keyed fingerprint: SHA-256 over the secret key and the value,
 * cut to 64 bits. With the key unknown a guess of the value cannot be
 * checked; the cut leaves no digest to extend (what HMAC's second hash
 * guards against). One one-shot hash: a quarter of an HMAC's time, which
 * a prompt with many findings pays per finding.
 */
function findingHash(keyPrefix: string, value: string): string {
  return hash('sha256', keyPrefix + value, 'hex').slice(0, 16);
}

/** Within one cluster of overlapping findings: the strongest category, then confidence, then length, wins its characters. */
function resolve(cluster: Finding[]): Finding[] {
  cluster.sort((a, b) => CATEGORY_RANK[b.category] - CATEGORY_RANK[a.category] || b.confidence - a.confidence || b.end - b.start - (a.end - a.start));
  const kept: Finding[] = [];
  for (const f of cluster) if (!kept.some((k) => f.start < k.end && k.start < f.end)) kept.push(f);
  return kept.sort((a, b) => a.start - b.start);
}

function mask(v: string): string {
  if (v.length < 8) return '***';
  const keep = v.length >= 16 ? 2 : 1;
  return `${v.slice(0, keep)}${'*'.repeat(Math.min(8, v.length - 2 * keep))}${v.slice(-keep)}`;
}

/**
 * Replaces findings with typed placeholders, the same value getting the same
 * placeholder across one request (`[EMAIL_ADDRESS_1]` everywhere the same
 * address appears), so the model can still refer to it consistently.
 */
export class Redactor {
  readonly #byValue = new Map<string, string>();
  readonly #perType = new Map<string, number>();

  redact(text: string, findings: readonly Finding[]): string {
    let out = '';
    let at = 0;
    for (const f of [...findings].sort((a, b) => a.start - b.start)) {
      if (f.category === 'injection' || f.start < at) continue;
      out += text.slice(at, f.start) + this.placeholder(f.type, text.slice(f.start, f.end));
      at = f.end;
    }
    return at === 0 ? text : out + text.slice(at);
  }

  placeholder(type: string, value: string): string {
    const key = `${type}\u0000${value}`;
    let p = this.#byValue.get(key);
    if (!p) {
      const n = (this.#perType.get(type) ?? 0) + 1;
      this.#perType.set(type, n);
      p = `[${type}_${n}]`;
      this.#byValue.set(key, p);
    }
    return p;
  }
}
