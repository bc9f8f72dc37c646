import type { Detector, Finding } from './finding.js';
import { InjectionModel } from './injection-model.js';
import { RULES, VOCABULARIES, type Rule } from './injection-rules.js';
import { VocabIndex, type ConceptHit } from './vocab-index.js';
import { isAsciiAlnum, isAsciiSpace, isBase64Char, normalise, wordHash, type Normalised } from './normalise.js';

export { normalisedText } from './normalise.js';

/**
 * Prompt-injection and jailbreak scoring. Text is normalised once (normalise.ts: NFKC,
 * lowercase, zero-width stripped, Unicode tag characters decoded, Cyrillic
 * and Greek look-alikes mapped inside mixed-script words, whitespace
 * collapsed) with an offset map back to the original, then weighted signals
 * are combined by noisy-OR: score = (1 - Π(1 - wᵢ)) · (1 + Σ negatives).
 * Negative signals are framings that talk about attacks rather than make one
 * (questions about the concept, quoting, security-training context); they
 * discount at most 80%, or 30% when an unquoted command opens a clause.
 *
 * Signals come in families: dismissal verbs near the model's own
 * instructions (in either order, with bounded gaps), requests for those
 * instructions, role-play personas free of rules, forged turns and chat
 * templates, and text in fetched data that addresses the model. Other
 * languages are matched by concept vocabularies (dismissal verbs, instruction
 * nouns, voiding predicates, reproducing verbs, hidden or given markers) that
 * may appear in either order within a bounded gap. Encoded text
 * (base64, ROT13, reversed, leetspeak, spaced-out or split letters, hex and
 * escapes) is decoded and scored again, but only where cheap gates found
 * during the anchor pass point at it; its signal spans the encoded run.
 *
 * The rules and their vocabularies are in injection-rules.ts. Every
 * pattern is linear: no unbounded quantifier sits inside another
 * quantifier, and every gap between keywords is a bounded character class.
 */
export const INJECTION_THRESHOLD = 0.5;

export type InjectionSource = 'user' | 'system' | 'tool_result' | 'document';

export interface InjectionSignal {
  /** `family.name`, e.g. `override.ignore_prior`; negative weights are `meta.*`. */
  signal: string;
  weight: number;
  /** UTF-16 offsets into the scored text, end exclusive. */
  start: number;
  end: number;
}

export interface InjectionScore {
  score: number;
  signals: InjectionSignal[];
}


const UNTRUSTED_BOOST = 1.1;
/** A signal entirely inside quotes in user text is more often cited than meant. */
const QUOTED_FACTOR = 0.6;
/** Operator-written system prompts legitimately say "never reveal your instructions". */
const SYSTEM_FACTOR = 0.5;
const MAX_DISCOUNT = 0.8;
/** An unquoted command at the start of a clause is being issued, whatever framing surrounds it. */
const IMPERATIVE_MAX_DISCOUNT = 0.3;
/** Untrusted citations (a quoted title in search results) are discounted harder: they are data about attacks. */
const CITATION_FACTOR = 0.5;
const MAX_MATCHES_PER_RULE = 4;
const BASE64_MAX_RUN = 4096;
const BASE64_MAX_CANDIDATES = 8;
const MAX_DEPTH = 2;
const MAX_HITS_PER_RULE = 16;
/** Rules tried only at their anchors (sticky) stay cheap for longer: a common anchor word repeated in a long text need not force a full scan. */
const MAX_LEAD_HITS = 64;
/** Anchors kept for the rules on other-language vocabularies, which never fall back to a full scan. */
const MAX_ML_HITS = 64;
/** Occurrences of the other-language vocabularies looked for; a text with more is scored without co-occurrence gating. */
const MAX_CONCEPTS = 16_384;
/** Second words kept per rule; past this many the windows are not filtered by them. */
const MAX_ALSO_HITS = 64;
const FULL_SCAN = -1;
/** A match starts at most WINDOW_BACK before its anchor and ends within WINDOW_AHEAD after it. */
const WINDOW_BACK = 160;
const WINDOW_AHEAD = 240;
const DEFAULT_REACH = [WINDOW_BACK, WINDOW_AHEAD] as const;
/** Meta framings (a question about attacks, a quotation) are looked for this far around a positive signal. */
const META_WINDOW = 300;

// Cyrillic and Greek letters that render like Latin ones (subset of Unicode confusables.txt), lowercase.
// Which rules can possibly match: a rule runs only near one of its anchor words (or anchor punctuation).
const META_RULES = RULES.filter((r) => r.w < 0);
const NEEDS = new Map(RULES.flatMap((r) => (r.needs ? [[r.signal, r.needs] as const] : [])));
const STICKY = RULES.map((r) => (r.lead ? new RegExp(r.re.source, 'y') : null));
const LINE_START = Uint8Array.from(RULES, (r) => (r.lineStart ? 1 : 0));
const isMl = (r: Rule): boolean => r.on?.startsWith('MLGATE ') === true;
/** How many anchors a rule keeps, and from how many on it scans the whole text instead; rules on vocabularies of other languages never do, since their patterns are costly. */
const HIT_CAP = Uint8Array.from(RULES, (r) => (isMl(r) ? MAX_ML_HITS : r.lead ? MAX_LEAD_HITS : MAX_HITS_PER_RULE));
const FULL_SCAN_AT = RULES.map((r) => (isMl(r) ? Infinity : r.lead ? MAX_LEAD_HITS : MAX_HITS_PER_RULE));
/** Rules without anchors, tried on every text by the main loop (meta framings run only beside a positive). */
const ALWAYS_RULES = RULES.flatMap((r, i) => (r.w >= 0 && !r.on ? [i] : []));
const ML_GATE_RULES = RULES.flatMap((r, i) => (isMl(r) ? [i] : []));
/** Where any word of the other-language vocabularies starts: the anchors of their rules in non-ASCII text. */
const FOREIGN_LETTER = /[\u00c0-\u024f\u0370-\u1fff\u3040-\u9fff\uac00-\ud7af]/;
const VOCAB = new VocabIndex(VOCABULARIES);
/**
 * The gate is the alternation of every vocabulary, searched left to right: at each position
 * the first vocabulary in this order that matches decides where the search resumes.
 */
const GATE_ORDER = ['dismiss', 'void', 'extract', 'instr', 'your', 'given', 'old', 'free', 'hidden_only', 'sysprompt', 'authority', 'verbatim'];
const GATE_RANK = VOCAB.names.map((n) => {
  const rank = GATE_ORDER.indexOf(n);
  if (rank < 0) throw new Error(`vocabulary ${n} is not in the gate`);
  return rank;
});
/** Every concept co-occurring in a match lies within this many characters of the others (gaps of 60 between entries of up to 40). */
const COOCCUR_SPAN = 200;
/** A match lies within this many characters of each concept it contains. */
const COOCCUR_REACH = 240;
const COOCCUR = RULES.map((r) => r.cooccur?.map((group) => group.map((name) => {
  const i = VOCAB.names.indexOf(name);
  if (i < 0) throw new Error(`rule ${r.signal}: no vocabulary ${name}`);
  return i;
})));
/** Turned off only by the tests that check gating changes no result. */
let cooccurGating = true, alsoGating = true;
export const setGating = (on: boolean): void => {
  cooccurGating = on;
  alsoGating = on;
};
/** 64 Ki-bit prefilter on word hashes, so most words cost one array read rather than a Map lookup. */
const ANCHOR_BITS = new Uint8Array(1 << 16);
/** Per anchor word hash: the rules it anchors, the rules whose second word it is, and the decoder gates (ROT13, REVERSED bits) it feeds. */
const WORD_ANCHORS = new Map<number, { rules: number[]; also: number[]; gate: number }>();
const anchorOf = (h: number): { rules: number[]; also: number[]; gate: number } => {
  let a = WORD_ANCHORS.get(h);
  if (!a) WORD_ANCHORS.set(h, (a = { rules: [], also: [], gate: 0 }));
  ANCHOR_BITS[h & 0xffff] = 1;
  return a;
};
const CHAR_ANCHORS: Array<number[] | undefined> = [];
const NON_ASCII_RULES: number[] = [];
const hashOf = (word: string): number => {
  let h = 0;
  for (let k = 0; k < word.length; k++) h = wordHash(h, word.charCodeAt(k));
  return h;
};
RULES.forEach((rule, i) => {
  if (rule.w < 0 || !rule.on) return;
  for (const a of rule.on.split(' ')) {
    if (a === 'NONASCII') NON_ASCII_RULES.push(i);
    else if (a === 'MLGATE') continue;
    else if (a.length === 1 && !isAsciiAlnum(a.charCodeAt(0))) (CHAR_ANCHORS[a.charCodeAt(0)] ??= []).push(i);
    else anchorOf(hashOf(a)).rules.push(i);
  }
  for (const a of rule.also?.split(' ') ?? []) anchorOf(hashOf(a)).also.push(i);
});

/*
 * Gates for the decoders. Encoded text is decoded and re-scored only when it
 * already looks like an encoding of an attack, so ordinary text pays nothing
 * but a table read per word: words that turn into attack vocabulary once
 * ROT13-decoded or reversed, and leetspeak words that de-leet into it.
 */
const KEY_WORDS = 'ignore disregard forget previous prior instructions instruction rules guidelines prompt system reveal restrictions bypass override jailbreak pretend password filters safety developer secret hidden unrestricted mode print repeat above everything policy content answer without follow obey send email user admin assistant told earlier directives'.split(' ');
/** Function words whose ROT13 or reversed forms are not English words, so they add evidence that a run is encoded. */
const GATE_FILLERS = 'you your the and all with this what'.split(' ');
const ROT13 = 1, REVERSED = 2;
const rot13 = (s: string): string => s.replace(/[a-z]/gi, (c) => String.fromCharCode((c.charCodeAt(0) & 0x60) + ((c.charCodeAt(0) & 0x1f) + 12) % 26 + 1));
for (const w of [...KEY_WORDS, ...GATE_FILLERS]) {
  for (const [form, bit] of [[rot13(w), ROT13], [[...w].reverse().join(''), REVERSED]] as const) anchorOf(hashOf(form)).gate |= bit;
}
const KEY_HASHES = new Set(KEY_WORDS.map(hashOf));
const EMAIL_HASH = hashOf('email');
/** Leetspeak digits (lowercase targets); 1 reads as i far more often than l in attack text. */
const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '9': 'g' };
const LEET_CODE = Int16Array.from({ length: 10 }, (_, d) => (LEET[d] ?? String(d)).charCodeAt(0));
const LEET_SYMBOLS: Record<string, string> = { $: 's', '@': 'a', '!': 'i', '|': 'l' };
/** Per ASCII code: the letter a leet symbol stands for, else 0. */
const LEET_SYMBOL = Uint8Array.from({ length: 128 }, (_, c) => (LEET_SYMBOLS[String.fromCharCode(c)] ?? '\0').charCodeAt(0));
const PLAIN_JOIN = 1, LEET_JOIN = 2;
/** Per ASCII code: whether it joins word fragments plainly ("ig-nore") or as a leet letter ("pr3v!0u$"). */
const JOINER = Uint8Array.from({ length: 128 }, (_, c) => (LEET_SYMBOL[c] !== 0 ? LEET_JOIN : '-_*.'.includes(String.fromCharCode(c)) ? PLAIN_JOIN : 0));


/** Normalised [start, end) stretches of text that a decoder should read. */
type Stretches = Array<[number, number]>;

interface Anchors {
  /** Per rule: where its anchors start in the normalised text (FULL_SCAN first for a whole-text scan); unset if none. */
  hits: Array<number[] | undefined>;
  /** The rules with hits, in the order they were first hit. */
  touched: number[];
  /** Runs of 24 or more base64 characters. */
  base64: Stretches;
  gates: Gates;
  /** Per rule with `also` words: where they start (at most MAX_ALSO_HITS); unset if none. */
  also: Array<number[] | undefined>;
  /** Occurrences of the other-language vocabularies, once looked for. */
  concepts?: ConceptHit[];
}

const WORD = 1, BASE64 = 2, PLAIN_JOINER = 8, LEET_SYM = 16, JOINS = PLAIN_JOINER | LEET_SYM;
/** Per ASCII code in normalised (lowercase) text: a word character, a base64 character, a joiner of word fragments ("ig-nore", "pr3v!0u$"). */
const ASCII_KIND = Uint8Array.from({ length: 128 }, (_, c) => {
  const k = (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) ? WORD | BASE64 : isBase64Char(c) ? BASE64 : 0;
  return k | (JOINER[c] === PLAIN_JOIN ? PLAIN_JOINER : JOINER[c] === LEET_JOIN ? LEET_SYM : 0);
});
const MAX_GATE_HITS = 64;
const MAX_RUNS = 8;
/** Unusual words noted per text for the decoder gates (three numbers each); beyond this a text is not worth decoding word by word. */
const MAX_NOTED = 3 * 4096;
const isHexCode = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
/** A byte written in hex: "4f", "x4f" (from \x4f) or "0x4f". */
const isHexWord = (t: string, at: number, len: number): boolean => {
  const x = t.charCodeAt(at);
  if (len === 2) return isHexCode(x) && isHexCode(t.charCodeAt(at + 1));
  if (len === 3) return x === 0x78 && isHexCode(t.charCodeAt(at + 1)) && isHexCode(t.charCodeAt(at + 2));
  if (len === 4) return x === 0x30 && t.charCodeAt(at + 1) === 0x78 && isHexCode(t.charCodeAt(at + 2)) && isHexCode(t.charCodeAt(at + 3));
  // "u0069" from a \u0069 escape.
  return len === 5 && x === 0x75 && t.charCodeAt(at + 1) === 0x30 && t.charCodeAt(at + 2) === 0x30 && isHexCode(t.charCodeAt(at + 3)) && isHexCode(t.charCodeAt(at + 4));
};

/**
 * What the decoders look for: words that read as attack vocabulary once
 * ROT13-decoded, reversed or de-leeted, words split by joiners, runs of
 * single letters and of hex bytes. The anchor pass only notes one-letter
 * words, words with digits and joiners; `finish` reads them, which keeps the
 * common path of that loop short.
 */
class Gates {
  readonly rot13: Stretches = [];
  readonly reversed: Stretches = [];
  readonly leet: Stretches = [];
  /** Words split by hyphens, dots, underscores or stars that join into attack vocabulary ("ig-nore"). */
  readonly split: Stretches = [];
  /** Runs of five or more single letters ("i g n o r e", "r.e.v.e.a.l"). */
  readonly spaced: Stretches = [];
  /** Runs of eight or more byte-sized hex words ("49 67", "\x49\x67", "0x49 0x67", "%49%67", "\u0049"). */
  readonly hexWords: Stretches = [];
  /** Starts of one-letter words, in order. */
  readonly #singles: number[] = [];
  /** Words with a digit, as start and end, in order. */
  readonly #digits: number[] = [];
  /** Positions of joiners and leet symbols. */
  readonly #joiners: number[] = [];

  single(at: number): void {
    if (this.#singles.length < MAX_NOTED) this.#singles.push(at);
  }

  digits(start: number, end: number): void {
    if (this.#digits.length < MAX_NOTED) this.#digits.push(start, end);
  }

  joiner(at: number): void {
    if (this.#joiners.length < MAX_NOTED) this.#joiners.push(at);
  }

  finish(t: string): void {
    // Runs continue only across the one separator between their letters; any word in between breaks them.
    let ss = 0, se = -9, sn = 0;
    for (const at of this.#singles) {
      if (sn > 0 && at - se === 1) sn++;
      else {
        if (sn >= 5 && this.spaced.length < MAX_RUNS) this.spaced.push([ss, se]);
        ss = at;
        sn = 1;
      }
      se = at + 1;
    }
    if (sn >= 5 && this.spaced.length < MAX_RUNS) this.spaced.push([ss, se]);
    // Words with digits: leetspeak ("1gn0r3"), and hex bytes in runs (printable bytes always have a digit: "6e", "x49", "0x20").
    const d = this.#digits;
    let hs = 0, he = -9, hn = 0;
    for (let n = 0; n < d.length; n += 2) {
      const start = d[n]!, end = d[n + 1]!, len = end - start;
      let letters = 0;
      for (let k = start; k < end; k++) if (t.charCodeAt(k) >= 0x61) letters++;
      if (letters > 0 && len <= 24 && this.leet.length < MAX_GATE_HITS && KEY_HASHES.has(deleetHash(t, start, end))) this.leet.push([start, end]);
      if (len >= 2 && len <= 5 && isHexWord(t, start, len)) {
        if (hn > 0 && start - he <= 2) hn++;
        else {
          if (hn >= 8 && this.hexWords.length < MAX_RUNS) this.hexWords.push([hs, he]);
          hs = start;
          hn = 1;
        }
        he = end;
      }
    }
    if (hn >= 8 && this.hexWords.length < MAX_RUNS) this.hexWords.push([hs, he]);
    // Words around joiners ("ig-nore", "pr3v!0u$", "!gn0r3"): each chain of fragments is joined and hashed once.
    let done = -1;
    for (const at of this.#joiners) {
      if (at < done || !(isWordCode(t.charCodeAt(at + 1)) || (at > 0 && isWordCode(t.charCodeAt(at - 1)) && (ASCII_KIND[t.charCodeAt(at)]! & LEET_SYM) !== 0))) continue;
      let from = at, to = at + 1;
      while (from > 0 && at - from < 60 && (isWordCode(t.charCodeAt(from - 1)) || isJoinCode(t.charCodeAt(from - 1)))) from--;
      while (to < t.length && to - at < 60 && (isWordCode(t.charCodeAt(to)) || isJoinCode(t.charCodeAt(to)))) to++;
      // A chain neither starts nor ends with a plain joiner (a sentence's full stop), but may with a leet symbol.
      while (from < at && (ASCII_KIND[t.charCodeAt(from)]! & PLAIN_JOINER) !== 0) from++;
      while (to > at + 1 && (ASCII_KIND[t.charCodeAt(to - 1)]! & PLAIN_JOINER) !== 0) to--;
      done = to;
      let h = 0, leety = false;
      for (let k = from; k < to; k++) {
        const d = t.charCodeAt(k);
        const m = LEET_SYMBOL[d]!;
        if (m !== 0 || d < 0x3a) leety ||= m !== 0 || (d >= 0x30 && d <= 0x39);
        if (m !== 0 || isWordCode(d)) h = wordHash(h, m !== 0 ? m : d >= 0x30 && d <= 0x39 ? LEET_CODE[d - 0x30]! : d);
      }
      const list = leety ? this.leet : this.split;
      // "e-mail" is how many write the word, in German always: no disguise, and no reason to score the text again.
      if (KEY_HASHES.has(h) && list.length < MAX_GATE_HITS && (leety || h !== EMAIL_HASH)) list.push([from, to]);
    }
  }
}

const isWordCode = (c: number): boolean => c < 0x80 && (ASCII_KIND[c]! & WORD) !== 0;
const isJoinCode = (c: number): boolean => c < 0x80 && (ASCII_KIND[c]! & JOINS) !== 0;
/** The hash of a word read with leet digits as letters ("1gn0r3" as "ignore"). */
function deleetHash(t: string, start: number, end: number): number {
  let h = 0;
  for (let k = start; k < end; k++) {
    const d = t.charCodeAt(k);
    h = wordHash(h, d >= 0x30 && d <= 0x39 ? LEET_CODE[d - 0x30]! : d);
  }
  return h;
}

/** Where the left-to-right search for any vocabulary entry finds one, as the alternation of all of them would. */
function gatePositions(concepts: ConceptHit[]): number[] {
  const gate: number[] = [];
  let from = 0;
  for (let i = 0; i < concepts.length && gate.length < MAX_ML_HITS; ) {
    const at = concepts[i]!.start;
    let best = concepts[i]!;
    for (; i < concepts.length && concepts[i]!.start === at; i++) {
      const c = concepts[i]!;
      if (GATE_RANK[c.concept]! < GATE_RANK[best.concept]! || (c.concept === best.concept && c.order < best.order)) best = c;
    }
    if (at < from) continue;
    gate.push(at);
    from = best.end;
  }
  return gate;
}

/** Where the gate finds a vocabulary entry in normalised text (exported for the tests that check it against the alternation). */
export const mlGatePositions = (t: string): number[] => gatePositions(VOCAB.find(t));

/**
 * The windows where a rule's concepts occur together: around each occurrence of the rarest
 * group that has one of every other group within COOCCUR_SPAN, COOCCUR_REACH either side.
 */
function cooccurring(t: string, concepts: ConceptHit[], groups: number[][]): Array<[number, number]> {
  const byGroup = groups.map((g) => concepts.filter((c) => g.includes(c.concept)).map((c) => c.start));
  if (byGroup.some((starts) => starts.length === 0)) return [];
  byGroup.sort((a, b) => a.length - b.length);
  const [rarest, ...others] = byGroup as [number[], ...number[][]];
  const centres = rarest.filter((at) => others.every((starts) => near(starts, at)));
  if (centres.length === 0) return [];
  return windows(t, centres, COOCCUR_REACH, COOCCUR_REACH);
}

/** Whether sorted `starts` holds one within COOCCUR_SPAN of `at` (binary search: long texts hold thousands). */
function near(starts: number[], at: number): boolean {
  let lo = 0, hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! < at - COOCCUR_SPAN) lo = mid + 1;
    else hi = mid;
  }
  return lo < starts.length && starts[lo]! <= at + COOCCUR_SPAN;
}

/** The stretches two sets of windows share. */
function intersect(x: Array<[number, number]>, y: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [a, b] of x) {
    for (const [c, d] of y) {
      const s = Math.max(a, c), e = Math.min(b, d);
      if (s < e) out.push([s, e]);
    }
  }
  return out;
}

/** One tight pass over the normalised text: anchor words and punctuation, base64 candidate runs, and decoder gates. */
function findAnchors(t: string, nonAscii: boolean, foreign: boolean): Anchors {
  const hits: Array<number[] | undefined> = new Array<number[] | undefined>(RULES.length);
  const touched: number[] = [];
  const slot = (r: number): number[] => {
    let h = hits[r];
    if (h === undefined) {
      hits[r] = h = [];
      touched.push(r);
    }
    return h;
  };
  const also: Array<number[] | undefined> = new Array<number[] | undefined>(RULES.length);
  const base64: Stretches = [];
  const gates = new Gates();
  const hit = (rules: number[], at: number): void => {
    for (const r of rules) {
      if (LINE_START[r] === 1 && t.charCodeAt(at - 1) !== 0x0a) continue;
      const h = slot(r);
      if (h.length < HIT_CAP[r]!) h.push(at);
    }
  };
  let hash = 0, wordStart = 0, run = 0, digit = 0;
  for (let i = 0; i <= t.length; i++) {
    const c = i < t.length ? t.charCodeAt(i) : 0x20;
    const kind = c < 0x80 ? ASCII_KIND[c]! : c >= 0xc0 && c <= 0x24f ? WORD : 0;
    if ((kind & BASE64) !== 0) run++;
    else {
      if (run >= 24 && base64.length < BASE64_MAX_CANDIDATES) base64.push([i - run, i]);
      run = 0;
    }
    if ((kind & WORD) !== 0) {
      hash = (Math.imul(hash, 31) + c) | 0;
      // Negative once a digit (below 0x3a) is seen: cheaper than a branch per character.
      digit |= c - 0x3a;
      continue;
    }
    const len = i - wordStart;
    if (len > 0) {
      if (ANCHOR_BITS[hash & 0xffff] === 1) {
        const anchor = WORD_ANCHORS.get(hash);
        if (anchor) {
          if (anchor.rules.length > 0) hit(anchor.rules, wordStart);
          for (const r of anchor.also) {
            const h = (also[r] ??= []);
            if (h.length < MAX_ALSO_HITS) h.push(wordStart);
          }
          if ((anchor.gate & ROT13) !== 0 && gates.rot13.length < MAX_GATE_HITS) gates.rot13.push([wordStart, i]);
          if ((anchor.gate & REVERSED) !== 0 && gates.reversed.length < MAX_GATE_HITS) gates.reversed.push([wordStart, i]);
        }
      }
      if (len === 1) gates.single(wordStart);
      else if (digit < 0) gates.digits(wordStart, i);
    }
    if ((kind & JOINS) !== 0) gates.joiner(i);
    hash = 0;
    digit = 0;
    wordStart = i + 1;
    const rules = c < 0x80 ? CHAR_ANCHORS[c] : undefined;
    if (rules) hit(rules, i);
  }
  gates.finish(t);
  if (nonAscii) for (const r of NON_ASCII_RULES) slot(r).unshift(FULL_SCAN);
  let concepts: ConceptHit[] | undefined;
  // Letters beyond ASCII, not just curly quotes or dashes, are what other languages need.
  if (foreign) {
    concepts = VOCAB.find(t, MAX_CONCEPTS);
    const gate = gatePositions(concepts);
    if (gate.length > 0) {
      for (const r of ML_GATE_RULES) {
        const h = slot(r);
        hits[r] = [...h, ...gate].sort((x, y) => x - y).slice(0, MAX_ML_HITS);
      }
    }
  }
  return { hits, touched, also, base64, gates, concepts };
}


/** Quoted stretches of normalised text, as [start, end) pairs; an apostrophe inside a word is not a quote. */
function quotedRegions(t: string): number[] {
  const regions: number[] = [];
  let open = -1, closer = '';
  for (let i = 0; i < t.length; i++) {
    const c = t[i]!;
    if (open >= 0) {
      if (i - open > 600) open = -1;
      else if (c === closer && (c !== "'" || (!isAsciiAlnum(t.charCodeAt(i + 1)) && t[i - 1] !== ' '))) {
        regions.push(open, i + 1);
        open = -1;
      }
      continue;
    }
    if (c === '"' || c === '`' || c === '«' || c === '「') {
      open = i;
      closer = c === '«' ? '»' : c === '「' ? '」' : c;
    } else if (c === "'" && !isAsciiAlnum(t.charCodeAt(i - 1)) && t[i + 1] !== ' ' && t[i + 1] !== '\n') {
      open = i;
      closer = "'";
    }
  }
  return regions;
}

function inRegion(regions: number[], s: number, e: number): boolean {
  for (let k = 0; k < regions.length; k += 2) if (s >= regions[k]! && e <= regions[k + 1]!) return true;
  return false;
}

/** Inside a short quotation that prose mentions (a title, a quoted phrase) rather than one that is the content itself (`"note": "..."`, `alt text: '...'`). */
function inCitation(t: string, regions: number[], s: number, e: number): boolean {
  for (let k = 0; k < regions.length; k += 2) {
    const a = regions[k]!, b = regions[k + 1]!;
    if (s < a || e > b || b - a > 60) continue;
    let p = a - 1;
    while (p >= 0 && t[p] === ' ') p--;
    let q = b;
    while (q < t.length && t[q] === ' ') q++;
    // JSON keys, values and list items are data; so is a quote that stands alone after a label ("alt text: '...'").
    if (p >= 0 && ((t[p] === ':' && (t[p - 1] === '"' || t[p - 1] === "'")) || '[{,'.includes(t[p]!)) || t[q] === ':') continue;
    const introduced = p < 0 || ':\n>='.includes(t[p]!);
    const alone = q >= t.length || '\n<'.includes(t[q]!);
    if (!(introduced && alone)) return true;
  }
  return false;
}

const CLAUSE_LEAD = /(?:^|[\n.!?;,]|\b(?:please|now|so|just|kindly|and|then|also|first|ok|okay))\s?$/;
/** Whether a match starting at `s` opens a clause: text start, punctuation, or a softener like "please" before it. */
function clauseStart(t: string, s: number): boolean {
  return CLAUSE_LEAD.test(t.slice(Math.max(0, s - 12), s));
}

const ACTIVATION = /\b(?:enable|activate|enter|engage|unlock|switch to|turn on|start|simulate|use|say|reply with|respond with|in)\s?$/;
/** A short quote right after "enable" or "say" names what to do ("enable 'developer mode'"); it is not a citation. */
function activated(t: string, regions: number[], s: number): boolean {
  for (let k = 0; k < regions.length; k += 2) {
    const a = regions[k]!;
    if (a <= s && s < regions[k + 1]! && regions[k + 1]! - a <= 40) return ACTIVATION.test(t.slice(Math.max(0, a - 16), a));
  }
  return false;
}

function overlaps(pairs: number[], s: number, e: number): boolean {
  for (let k = 0; k < pairs.length; k += 2) if (s < pairs[k + 1]! && e > pairs[k]!) return true;
  return false;
}

/** Candidate base64 runs (original offsets) that decode to mostly printable text. */
function base64Payloads(text: string, runs: Array<[number, number]>): Array<{ text: string; start: number; end: number }> {
  const found: Array<{ text: string; start: number; end: number }> = [];
  for (const [start, end] of runs) {
    const run = text.slice(start, Math.min(end, start + BASE64_MAX_RUN));
    // Encoded prose mixes cases and digits; long words and identifiers rarely decode to text anyway.
    if (!/[a-z]/.test(run) || !/[A-Z0-9]/.test(run)) continue;
    const bytes = Buffer.from(run, 'base64');
    if (bytes.length < 12) continue;
    let printable = 0;
    for (const b of bytes) if ((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09 || b >= 0xc2) printable++;
    if (printable / bytes.length >= 0.9) found.push({ text: bytes.toString('utf8'), start, end });
  }
  return found;
}

/** A decoded reading of an encoded run, with enough plain context around it for the run to read as a sentence. */
interface Decoding {
  signal: string;
  text: string;
  /** [start, end) pairs in `text` that decoding changed; signals elsewhere in it were already scored as plain text. */
  changed: number[];
  /** Original offsets of the encoded run, and its normalised start. */
  start: number;
  end: number;
  at: number;
  /** The letters, squeezed together, spell an attack phrase even though the run marks no word breaks. */
  compact?: boolean;
}

const DECODE_CONTEXT = 160;
const DECODE_MAX = 8192;
/** Attack phrases with the spaces squeezed out, for single-letter runs that mark no word breaks ("i g n o r e a l l"). */
const COMPACT = /(?:ignore|disregard|forget|bypass|override)(?:all|any|the|your|my){0,2}(?:previous|prior|above|earlier|system|original|safety)?(?:instructions?|rules|guidelines|prompts?|directives|filters)|(?:reveal|show|print|repeat|leak|output|tell)(?:me)?(?:your|the)(?:system|hidden|initial|secret|original)?(?:prompt|instructions)|developermode|doanythingnow|jailbr[oe]ken|nofilters|norestrictions/;
const isAsciiLetter = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
const isPrintable = (b: number): boolean => (b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09 || b >= 0xc2;

/**
 * Readings of the text under the encodings that the gates point at: ROT13,
 * reversal, leetspeak, spaced-out letters and hex. Each decodes only the
 * stretch around its evidence, bounded by DECODE_MAX.
 */
function decodings(text: string, norm: Normalised, a: Anchors): Decoding[] {
  const out: Decoding[] = [];
  const g = a.gates;
  // The original [start, end) of the normalised stretch, widened by context on both sides within the bounds.
  const around = (s: number, e: number): [number, number, number, number] => {
    const [os, oe] = norm.span(s, e);
    const cs = Math.max(0, os - DECODE_CONTEXT), ce = Math.min(text.length, oe + DECODE_CONTEXT, cs + DECODE_MAX);
    return [os, Math.min(oe, ce), cs, ce];
  };
  const whole = (signal: string, hits: Array<[number, number]>, decode: (s: string) => string): void => {
    // Three words of attack vocabulary make a run worth decoding; fewer are coincidence.
    if (hits.length < 3) return;
    const [os, oe, cs, ce] = around(hits[0]![0], hits[hits.length - 1]![1]);
    const decoded = decode(text.slice(cs, ce));
    out.push({ signal, text: decoded, changed: [0, decoded.length], start: os, end: oe, at: hits[0]![0] });
  };
  whole('encoding.rot13', g.rot13, rot13);
  whole('encoding.reversed', g.reversed, (s) => [...s].reverse().join(''));
  if (g.leet.length > 0) {
    const [os, oe, cs, ce] = around(g.leet[0]![0], g.leet[g.leet.length - 1]![1]);
    const changed: number[] = [];
    // De-leet every word that mixes letters with digits or symbols; the signal must come from one of them.
    const decoded = text.slice(cs, ce).replace(/[a-z0-9$@!|]{1,40}/gi, (w, at: number) => {
      if (!/[a-z]/i.test(w) || !/[0-9]|[$@!|](?=.)/.test(w)) return w;
      changed.push(at, at + w.length);
      return w.replace(/[0134579$@!|]/g, (d) => LEET[d] ?? LEET_SYMBOLS[d]!);
    });
    out.push({ signal: 'encoding.leet', text: decoded, changed, start: os, end: oe, at: g.leet[0]![0] });
  }
  if (g.split.length > 0) {
    const [os, oe, cs, ce] = around(g.split[0]![0], g.split[g.split.length - 1]![1]);
    const changed: number[] = [];
    let shift = 0;
    // Drop the joiners inside words; the signal must come from a rejoined word.
    const decoded = text.slice(cs, ce).replace(/[a-z0-9]{1,24}(?:[-_*.][a-z0-9]{1,24}){1,12}/gi, (w, at: number) => {
      const plain = w.replace(/[-_*.]/g, '');
      changed.push(at - shift, at - shift + plain.length);
      shift += w.length - plain.length;
      return plain;
    });
    out.push({ signal: 'encoding.split', text: decoded, changed, start: os, end: oe, at: g.split[0]![0] });
  }
  // The decoded run put back in its place, between plain context; `os`, `oe` are original offsets, `at` normalised.
  const spliced = (signal: string, os: number, oe: number, at: number, run: string, compact = false): void => {
    const cs = Math.max(0, os - DECODE_CONTEXT), ce = Math.min(text.length, oe + DECODE_CONTEXT);
    const before = text.slice(cs, os);
    out.push({ signal, text: before + run + text.slice(oe, ce), changed: [before.length, before.length + run.length], start: os, end: oe, at, compact });
  };
  for (const [s, e] of g.spaced) {
    const [os, end] = norm.span(s, e);
    const oe = Math.min(end, os + DECODE_MAX);
    const src = text.slice(os, oe);
    // The separator between letters; where it is not a space, spaces mark word breaks, otherwise double spaces do.
    const sep = src.charCodeAt(1);
    const sepIsSpace = isAsciiSpace(sep);
    let run = '', spaces = 0;
    for (let i = 0; i < src.length; i++) {
      const c = src.charCodeAt(i);
      if (isAsciiSpace(c)) {
        spaces++;
        continue;
      }
      if (spaces > 0 && (spaces >= 2 || !sepIsSpace) && run.length > 0) run += ' ';
      spaces = 0;
      if (isAsciiLetter(c)) run += String.fromCharCode(c | 0x20);
      else if (c !== sep) run += ' ';
    }
    spliced('encoding.spaced', os, oe, s, run, COMPACT.test(run.replace(/ /g, '')));
  }
  const hexText = (hex: string): string | null => {
    const bytes = Buffer.from(hex, 'hex');
    if (bytes.length < 8) return null;
    let printable = 0, letters = 0;
    for (const b of bytes) {
      if (isPrintable(b)) printable++;
      if (isAsciiLetter(b)) letters++;
    }
    return printable / bytes.length >= 0.9 && letters >= bytes.length / 2 ? bytes.toString('utf8') : null;
  };
  for (const [s, e] of g.hexWords) {
    const [first, end] = norm.span(s, e);
    // The run starts at the first byte's digits; its escape's backslash or percent sign belongs to it.
    const os = text[first - 1] === '\\' || text[first - 1] === '%' ? first - 1 : first;
    const oe = Math.min(end, os + DECODE_MAX);
    const src = text.slice(os, oe);
    const bytes = [...src.matchAll(/\\u00([0-9a-f]{2})|(?<![0-9a-f])(?:\\x|0x|%)?([0-9a-f]{2})(?![0-9a-f])/gi)];
    // Escapes written back to back ("\x49\x67 \x6e") keep the text between them; bytes listed apart ("49 67 6e") are the whole text.
    let adjacent = 0;
    for (let k = 1; k < bytes.length; k++) if (bytes[k]!.index === bytes[k - 1]!.index + bytes[k - 1]![0].length) adjacent++;
    const hex = adjacent * 2 > bytes.length
      ? src.replace(/\\u00([0-9a-f]{2})|\\x([0-9a-f]{2})|%([0-9a-f]{2})/gi, (_, u?: string, x?: string, p?: string) => String.fromCharCode(parseInt(u ?? x ?? p!, 16)))
      : hexText(bytes.map((b) => b[1] ?? b[2]!).join(''));
    if (hex && hex !== src) spliced('encoding.hex', os, oe, s, hex);
  }
  for (const [s, e] of a.base64) {
    if (e - s < 24 || (e - s) % 2 !== 0) continue;
    const run = norm.text.slice(s, Math.min(e, s + DECODE_MAX));
    if (!/^[0-9a-f]+$/.test(run)) continue;
    const decoded = hexText(run);
    if (decoded) spliced('encoding.hex', ...norm.span(s, s + run.length), s, decoded);
  }
  return out;
}

/** Signals about how text is disguised, not what it says: their spans cover the phrases inside without being the same evidence. */
const DISGUISES = new Set(['encoding.zero_width', 'encoding.homoglyph', 'encoding.unicode_tags']);

/** Drops a positive signal whose span lies inside a stronger one's: one phrase is one piece of evidence. */
function distinctEvidence(signals: InjectionSignal[]): InjectionSignal[] {
  const pos = signals.filter((s) => s.weight > 0).sort((a, b) => b.weight - a.weight);
  const kept: InjectionSignal[] = signals.filter((s) => s.weight < 0);
  for (const s of pos) if (!kept.some((k) => k.weight > 0 && !DISGUISES.has(k.signal) && k.start <= s.start && s.end <= k.end)) kept.push(s);
  return kept;
}

/**
 * Merged [start, end) windows around anchor positions, widened to whitespace so
 * that word boundaries inside a window are the text's own. A match never
 * starts more than `back` before its anchor or ends `ahead` after it.
 */
function windows(t: string, hits: number[], back: number, ahead: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const h of hits) {
    let a = Math.max(0, h - back), b = Math.min(t.length, h + ahead);
    while (a > 0 && h - a < back + 40 && t[a - 1] !== ' ' && t[a - 1] !== '\n') a--;
    while (b < t.length && b - h < ahead + 40 && t[b] !== ' ' && t[b] !== '\n') b++;
    // Keep the whitespace at each edge, so a window never starts a line or ends the text that the text does not.
    a = Math.max(0, a - 1);
    b = Math.min(t.length, b + 1);
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

function combine(signals: InjectionSignal[], maxDiscount = MAX_DISCOUNT): number {
  let keep = 1, discount = 0;
  for (const s of signals) {
    if (s.weight >= 0) keep *= 1 - s.weight;
    else discount -= s.weight;
  }
  return (1 - keep) * (1 - Math.min(maxDiscount, discount));
}

function scoreAt(text: string, source: InjectionSource, depth: number, norm = normalise(text)): InjectionScore {
  const t = norm.text;
  const anchors = findAnchors(t, norm.nonAscii, norm.nonAscii && FOREIGN_LETTER.test(text));
  const untrusted = source === 'tool_result' || source === 'document';
  const best = new Map<string, InjectionSignal>();
  let regions: number[] | null = null;
  let imperative = false;
  const positives: number[] = [];
  const add = (signal: string, weight: number, start: number, end: number): void => {
    const prev = best.get(signal);
    if (!prev || weight > prev.weight) best.set(signal, { signal, weight: Math.round(weight * 1000) / 1000, start, end });
  };
  const weightOf = (rule: Rule): number => {
    if (rule.w < 0) return rule.w;
    const w = untrusted ? (rule.wu ?? Math.min(0.95, rule.w * UNTRUSTED_BOOST)) : rule.w;
    return source === 'system' ? w * SYSTEM_FACTOR : w;
  };
  const record = (rule: Rule, base: number, start: number, end: number): void => {
    let s = start;
    while (s < end && (t[s] === ' ' || t[s] === '\n')) s++;
    if (s === end) return;
    let w = base;
    let quoted = false;
    // In tool results quotes are mostly JSON strings, i.e. data, not citation; only a short quote that is no value is a title or citation.
    if (w > 0) {
      regions ??= quotedRegions(t);
      if (untrusted) {
        if (inCitation(t, regions, s, end)) w *= CITATION_FACTOR;
      } else if (inRegion(regions, s, end) && !activated(t, regions, s)) {
        w *= QUOTED_FACTOR;
        quoted = true;
      }
    }
    if (w > 0) positives.push(s);
    if (rule.imperative && !quoted && w > 0 && clauseStart(t, s)) imperative = true;
    add(rule.signal, w, ...norm.span(s, end));
  };
  const run = (rule: Rule, from: number, to: number): void => {
    const base = weightOf(rule);
    const window = from === 0 && to === t.length ? t : t.slice(from, to);
    rule.re.lastIndex = 0;
    let m: RegExpExecArray | null;
    for (let k = 0; k < MAX_MATCHES_PER_RULE && (m = rule.re.exec(window)) !== null; k++) {
      if (m[0].length === 0) rule.re.lastIndex++;
      else record(rule, base, from + m.index, from + m.index + m[0].length);
    }
  };
  // Only the rules a text has anchors for (and any without anchors), in rule order: most rules have none in a text.
  const order = ALWAYS_RULES.length > 0 ? [...new Set([...anchors.touched, ...ALWAYS_RULES])] : anchors.touched;
  order.sort((a, b) => a - b);
  for (const i of order) {
    const rule = RULES[i]!, hits = anchors.hits[i] ?? [];
    if (rule.w < 0) continue;
    const also = rule.also && alsoGating ? anchors.also[i] : undefined;
    if (rule.also && alsoGating && !also) continue;
    const sticky = STICKY[i];
    if (hits.length >= FULL_SCAN_AT[i]! || hits[0] === FULL_SCAN || !rule.on) run(rule, 0, t.length);
    else if (sticky) {
      const base = weightOf(rule);
      for (const h of hits) {
        sticky.lastIndex = rule.lineStart ? h - 1 : h;
        const m = sticky.exec(t);
        if (m && m[0].length > 0) record(rule, base, m.index, m.index + m[0].length);
      }
    } else {
      const groups = COOCCUR[i];
      anchors.concepts ??= groups && cooccurGating ? VOCAB.find(t, MAX_CONCEPTS) : undefined;
      // Past MAX_CONCEPTS occurrences some are unknown: the rule then runs ungated, as it would without the index.
      const gated = groups && anchors.concepts && anchors.concepts.length < MAX_CONCEPTS ? cooccurring(t, anchors.concepts, groups) : null;
      if (gated?.length === 0) continue;
      let around = windows(t, hits, ...(rule.reach ?? DEFAULT_REACH));
      if (gated) around = intersect(around, gated);
      // Every match holds one of the rule's second words: a window without one cannot match.
      if (also && also.length < MAX_ALSO_HITS) around = around.filter(([a, b]) => also.some((at) => at >= a && at < b));
      for (const [a, b] of around) run(rule, a, b);
    }
  }
  if (norm.zeroWidth) add('encoding.zero_width', norm.zeroWidth.count >= 3 ? 0.45 : 0.3, norm.zeroWidth.start, norm.zeroWidth.end);
  // Mixing alone stays below the threshold (keyboard-layout slips happen); it tips an attack that is also there.
  if (norm.mixedScript) add('encoding.homoglyph', Math.min(0.45, 0.25 + 0.1 * norm.mixedScript.count), norm.mixedScript.start, norm.mixedScript.end);
  if (norm.tags) add('encoding.unicode_tags', norm.tags.count >= 6 ? 0.6 : 0.35, norm.tags.start, norm.tags.end);
  if (anchors.base64.length > 0 && depth < MAX_DEPTH) {
    for (const p of base64Payloads(text, anchors.base64.map(([a, b]) => norm.span(a, b)))) {
      const inner = scoreAt(p.text, source, depth + 1).score;
      if (inner >= 0.3) add('encoding.base64', Math.min(0.97, inner + 0.1), p.start, p.end);
    }
  }
  if (depth === 0) {
    for (const d of decodings(text, norm, anchors)) {
      const inner = scoreAt(d.text, source, depth + 1).signals.filter((s) => s.weight < 0 || overlaps(d.changed, s.start, s.end));
      const score = Math.max(combine(distinctEvidence(inner)), d.compact ? 0.8 : 0);
      if (score < 0.3) continue;
      add(d.signal, Math.min(0.97, score + 0.1), d.start, d.end);
      positives.push(d.at);
    }
  }
  // Framings that discount a score only matter once there is something to discount.
  if (positives.length > 0) {
    positives.sort((a, b) => a - b);
    const around = positives.length >= MAX_HITS_PER_RULE ? [[0, t.length] as [number, number]] : windows(t, positives, META_WINDOW, META_WINDOW);
    for (const rule of META_RULES) for (const [a, b] of around) run(rule, a, b);
  }
  for (const [signal, needed] of NEEDS) if (!best.has(needed)) best.delete(signal);
  const signals = [...best.values()];
  return { score: Math.round(combine(distinctEvidence(signals), imperative ? IMPERATIVE_MAX_DISCOUNT : MAX_DISCOUNT) * 1000) / 1000, signals };
}

let shared: InjectionModel | undefined;
const defaultModel = (): InjectionModel => (shared ??= new InjectionModel());

/**
 * The learned classifier adds one signal, `model.classifier`, over its most
 * suspicious window. At or above its trained threshold it counts as an
 * injection on its own (mapped onto [INJECTION_THRESHOLD, 0.95]), except in
 * system prompts; below, it only adds evidence to what the rules found,
 * never crossing the threshold, and says nothing when they found nothing.
 * When it finds the text clearly benign (below `veto`) it overrules a rule
 * hit that is not sure (below `vetoUnless`): the score stays under the
 * threshold and the signal `model.benign` says why.
 */
function withModel(rules: InjectionScore, norm: Normalised, source: InjectionSource, model: InjectionModel): InjectionScore {
  const { p, start, end } = model.score(norm.text, source);
  const t = model.threshold;
  if (p < model.veto && rules.score >= INJECTION_THRESHOLD && rules.score < model.vetoUnless) {
    return { score: INJECTION_THRESHOLD - 0.01, signals: [...rules.signals, { signal: 'model.benign', weight: -Math.round((1 - p) * 1000) / 1000, ...spanOf(norm, start, end) }] };
  }
  // Operator-written system prompts legitimately talk about their instructions: there the model only adds evidence.
  const alone = p >= t && source !== 'system';
  if (!alone && rules.score === 0) return rules;
  const weight = alone ? INJECTION_THRESHOLD + ((p - t) / (1 - t)) * (0.95 - INJECTION_THRESHOLD) : (Math.min(p, t) / t) * 0.3;
  if (weight < 0.05) return rules;
  // The span is mapped back to the original text only when a signal carries it (mapping may build an offset table).
  const signal = { signal: 'model.classifier', weight: Math.round(weight * 1000) / 1000, ...spanOf(norm, start, end) };
  const score = Math.round((1 - (1 - rules.score) * (1 - signal.weight)) * 1000) / 1000;
  const capped = alone || rules.score >= INJECTION_THRESHOLD ? score : Math.min(score, INJECTION_THRESHOLD - 0.01);
  return { score: Math.max(rules.score, capped), signals: [...rules.signals, signal] };
}

/** The model's window in the original text (normalised text starts with a newline of its own). */
function spanOf(norm: Normalised, s: number, e: number): { start: number; end: number } {
  if (e <= 1) return { start: 0, end: 0 };
  const [start, end] = norm.span(Math.max(1, s), e);
  return { start, end };
}

/**
 * Scores text for prompt injection and jailbreaks. Tool results and retrieved
 * documents weigh text addressed to the model more heavily, since data the
 * model reads should never give it instructions.
 */
export class InjectionDetector implements Detector {
  readonly name = 'injection';
  readonly #model: InjectionModel | null;

  /** `model: null` scores with the rules alone (the trainer's baseline). */
  constructor(options: { model?: InjectionModel | null } = {}) {
    this.#model = options.model === undefined ? defaultModel() : options.model;
  }

  score(text: string, source: InjectionSource = 'user'): InjectionScore {
    const norm = normalise(text);
    const rules = scoreAt(text, source, 0, norm);
    return this.#model ? withModel(rules, norm, source, this.#model) : rules;
  }

  detect(text: string): Finding[] {
    const { score, signals } = this.score(text);
    if (score < INJECTION_THRESHOLD) return [];
    let top = signals[0]!;
    for (const s of signals) if (s.weight > top.weight) top = s;
    return [{ type: 'PROMPT_INJECTION', category: 'injection', start: top.start, end: top.end, confidence: score }];
  }
}
