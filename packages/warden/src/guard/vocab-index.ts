/**
 * Finds every occurrence of the other-language concept vocabularies
 * (injection-rules.ts) in one pass, without running their alternations as
 * regular expressions. A regular expression with hundreds of alternatives
 * tries each one at every position; here each position costs one table read
 * (most positions end there) and a few hash lookups, and only words that
 * begin like a vocabulary entry are checked, by that entry's own sticky
 * pattern. What is found is exactly what the alternation matches at each
 * position: the same boundaries, the same order of preference.
 */
import type { Vocabulary } from './injection-rules.js';

export interface ConceptHit {
  /** Index into the vocabularies the index was built from. */
  concept: number;
  start: number;
  end: number;
  /** Preference of the alternative within its vocabulary (the alternation tries lower first). */
  order: number;
}

interface Entry {
  concept: number;
  order: number;
  re: RegExp;
}

/** Alternatives are keyed by up to this many leading literal characters. */
const KEY_LEN = 3;
const LATIN = 1;
const STEM = 2;
const isAz = (c: number): boolean => c >= 0x61 && c <= 0x7a;

/** Splits an alternation at its top level, leaving groups and classes whole. */
export function alternatives(src: string): string[] {
  const out: string[] = [];
  let depth = 0, inClass = false, from = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(src.slice(from, i).trim());
      from = i + 1;
    }
  }
  out.push(src.slice(from).trim());
  return out.filter((a) => a.length > 0);
}

/** The characters every match of an alternative starts with: its literal prefix, short of any optional character. */
export function literalPrefix(alt: string): string {
  let i = 0;
  while (i < alt.length && !'\\()[]{}?*+|.^$'.includes(alt[i]!)) i++;
  // A character made optional by the quantifier after it is not certain.
  if (i < alt.length && '?*{'.includes(alt[i]!)) i--;
  return alt.slice(0, Math.max(0, i));
}

const keyHash = (t: string, at: number, len: number): number => {
  let h = 0;
  for (let k = 0; k < len; k++) h = (Math.imul(h, 31) + t.charCodeAt(at + k)) | 0;
  return h;
};

export class VocabIndex {
  /** Per first character: LATIN and/or STEM when some entry's key starts with it. */
  readonly #first = new Uint8Array(1 << 16);
  /** Entries by key length (index 1..KEY_LEN) and key hash, Latin and stems apart. */
  readonly #latin: Array<Map<number, Entry[]>> = [];
  readonly #stems: Array<Map<number, Entry[]>> = [];
  readonly names: readonly string[];

  constructor(vocabularies: readonly Vocabulary[]) {
    for (let n = 0; n <= KEY_LEN; n++) {
      this.#latin.push(new Map());
      this.#stems.push(new Map());
    }
    this.names = vocabularies.map((v) => v.name);
    vocabularies.forEach((v, concept) => {
      let order = 0;
      for (const [kind, src] of [[LATIN, v.latin], [STEM, v.stems]] as const) {
        for (const alt of alternatives(src)) {
          const prefix = literalPrefix(alt);
          if (prefix.length === 0) throw new Error(`vocabulary ${v.name}: "${alt}" has no literal start to index`);
          const key = prefix.slice(0, KEY_LEN);
          // Latin entries stand alone as words, exactly as the rules' latin() wrapper demands.
          const re = new RegExp(kind === LATIN ? String.raw`(?<![a-z])(?:${alt})(?![a-z])` : `(?:${alt})`, 'y');
          const table = (kind === LATIN ? this.#latin : this.#stems)[key.length]!;
          const h = keyHash(key, 0, key.length);
          const list = table.get(h);
          const entry = { concept, order: order++, re };
          if (list) list.push(entry);
          else table.set(h, [entry]);
          this.#first[key.charCodeAt(0)]! |= kind;
        }
      }
    });
  }

  /** Every occurrence of every concept, by position, then preference. At most `cap` are kept. */
  find(t: string, cap = 16_384): ConceptHit[] {
    const out: ConceptHit[] = [];
    for (let i = 0; i < t.length && out.length < cap; i++) {
      const f = this.#first[t.charCodeAt(i)]!;
      if (f === 0) continue;
      // Latin entries can only start where no letter a-z stands before them.
      if ((f & LATIN) !== 0 && (i === 0 || !isAz(t.charCodeAt(i - 1)))) this.#probe(this.#latin, t, i, out);
      if ((f & STEM) !== 0) this.#probe(this.#stems, t, i, out);
    }
    return out.sort((a, b) => a.start - b.start || a.concept - b.concept || a.order - b.order);
  }

  #probe(tables: Array<Map<number, Entry[]>>, t: string, at: number, out: ConceptHit[]): void {
    let h = 0;
    for (let len = 1; len <= KEY_LEN && at + len <= t.length; len++) {
      h = (Math.imul(h, 31) + t.charCodeAt(at + len - 1)) | 0;
      const list = tables[len]!.get(h);
      if (!list) continue;
      for (const e of list) {
        e.re.lastIndex = at;
        if (e.re.test(t)) out.push({ concept: e.concept, start: at, end: e.re.lastIndex, order: e.order });
      }
    }
  }
}
