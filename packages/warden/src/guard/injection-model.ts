import { Buffer } from 'node:buffer';
import MODEL from './injection-model.json' with { type: 'json' };

/**
 * A small learned prompt-injection classifier beside the rules: logistic
 * regression over hashed features of the normalised text (character 3- to
 * 5-grams, word unigrams and bigrams), trained by `npm run train:guard` on the
 * development corpora only (eval/guard/train.mjs). Weights are int8 in a
 * fixed table of 2^bits buckets; scoring costs one hash and one lookup per
 * feature.
 *
 * Long text is scored in overlapping windows of two sizes (runs of
 * neighbouring blocks of characters) and the most suspicious window wins: an injection is local, and a long benign document around it must not
 * dilute it. A window's feature counts are scaled by 1/√(number of
 * features), as in the training.
 */
export interface InjectionModelFile {
  version: string;
  bits: number;
  /** Character n-gram lengths, e.g. [3, 5]: every length from the first to the second. */
  chars: [number, number];
  words: boolean;
  /** Text is cut into blocks of 2^blockBits characters; windows are runs of `spans[i]` neighbouring blocks. */
  blockBits: number;
  spans: number[];
  /** Counts are scaled by 1/√min(features, normCap): short texts are normalised, long windows not diluted. */
  normCap: number;
  bias: number;
  /** weight = int8 × scale. */
  scale: number;
  /** Base64 of the int8 weights. */
  weights: string;
  /** The classifier probability at which it alone counts as an injection. */
  threshold: number;
  /** Below this probability the classifier overrules a rule hit scored below `vetoUnless`. */
  veto: number;
  vetoUnless: number;
}

const WORD_SEED = 0x2545f491, BIGRAM_SEED = 0x6b43a9b5, SOURCE_SEED = 0x1b873593;
const SOURCES = ['user', 'system', 'tool_result', 'document'];
const FNV_OFFSET = 0x811c9dc5, FNV_PRIME = 0x01000193, ROLL = 0x01000193;

const ASCII_WORD = Uint8Array.from({ length: 128 }, (_, c) => ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ? 1 : 0));
const isWordCode = (c: number): boolean =>
  c < 0x80 ? ASCII_WORD[c] === 1 : (c >= 0xc0 && c !== 0x2028 && c !== 0x2029 && !(c >= 0x2000 && c <= 0x206f) && !(c >= 0x3000 && c <= 0x303f));

/** Han, kana and CJK punctuation-free runs: scripts written without spaces between words. */
const isUnspaced = (c: number): boolean => (c >= 0x3040 && c <= 0x30ff) || (c >= 0x3400 && c <= 0x9fff) || (c >= 0xf900 && c <= 0xfaff);

const mix = (h: number, seed: number): number => {
  let x = Math.imul(h ^ seed, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
};

/** Feature ids of a text and where each starts, in buffers reused between calls. */
export class Features {
  ids = new Int32Array(0);
  at = new Int32Array(0);
  n = 0;

  reserve(n: number): void {
    if (this.ids.length >= n) return;
    this.ids = new Int32Array(n * 2);
    this.at = new Int32Array(n * 2);
  }
}

/**
 * Every feature of `t` (repeats included) into `out`, with where it starts:
 * character n-grams at their first character, words and bigrams at the
 * word's last. Shared by the trainer and the scorer.
 */
export function featuresOf(t: string, m: Pick<InjectionModelFile, 'bits' | 'chars' | 'words'>, out: Features): Features {
  const shift = 32 - m.bits;
  const [lo, hi] = m.chars;
  const to = t.length;
  // At most one n-gram per length per position, and a word and a bigram per character (Han and kana).
  out.reserve(to * (lo > 0 ? hi - lo + 1 : 0) + 2 * to + 2);
  const ids = out.ids, at = out.at;
  let n = 0;
  // Rolling polynomial hashes, one per length: each position adds a character and drops the one n back.
  for (let len = lo; len > 0 && len <= hi; len++) {
    let top = 1;
    for (let k = 1; k < len; k++) top = Math.imul(top, ROLL);
    let h = 0;
    for (let i = 0; i < to; i++) {
      if (i >= len) h = (h - Math.imul(t.charCodeAt(i - len), top)) | 0;
      h = (Math.imul(h, ROLL) + t.charCodeAt(i)) | 0;
      if (i + 1 >= len) {
        ids[n] = mix(h, len) >>> shift;
        at[n++] = i + 1 - len;
      }
    }
  }
  if (m.words) {
    // Words are runs of letters and digits; in scripts written without spaces (Han, kana) each character is a word.
    let prev = 0, h = FNV_OFFSET, inWord = false;
    for (let i = 0; i <= to; i++) {
      const c = i < to ? t.charCodeAt(i) : 0x20;
      const single = isUnspaced(c);
      if (!single && isWordCode(c)) {
        h = Math.imul(h ^ c, FNV_PRIME);
        inWord = true;
        continue;
      }
      if (single) {
        if (inWord) i--;
        else h = Math.imul(h ^ c, FNV_PRIME);
      } else if (!inWord) continue;
      ids[n] = mix(h, WORD_SEED) >>> shift;
      at[n++] = i;
      if (prev !== 0) {
        ids[n] = mix(Math.imul(prev, 31) ^ h, BIGRAM_SEED) >>> shift;
        at[n++] = i;
      }
      prev = h;
      h = FNV_OFFSET;
      inWord = false;
    }
  }
  out.n = n;
  return out;
}

/** The feature that tells the model where the text came from (a user, the operator, fetched data). */
export function sourceFeature(source: string, bits: number): number {
  return mix(SOURCES.indexOf(source) + 1, SOURCE_SEED) >>> (32 - bits);
}

/**
 * The windows of text of `length`, as [first block, end block) over blocks
 * of 2^blockBits characters: for each span in `spans` (in blocks), every run
 * of that many neighbouring blocks, or the whole text when it is shorter.
 * Small windows find an attack in a long document; large ones read a long
 * attack whole.
 */
export function windowsOf(length: number, blockBits: number, spans: readonly number[]): Array<[number, number]> {
  const blocks = Math.max(1, Math.ceil(length / (1 << blockBits)));
  const out: Array<[number, number]> = [];
  for (const span of spans) {
    if (blocks <= span) {
      if (!out.some(([a, e]) => a === 0 && e === blocks)) out.push([0, blocks]);
      continue;
    }
    for (let j = 0; j + span <= blocks; j++) out.push([j, j + span]);
  }
  return out;
}

export class InjectionModel {
  readonly threshold: number;
  readonly veto: number;
  readonly vetoUnless: number;
  readonly version: string;
  readonly #m: InjectionModelFile;
  readonly #w: Int8Array;
  /** Per block: the sum of the weights and the number of the features that start in it (reused between calls). */
  #sum = new Int32Array(64);
  #count = new Int32Array(64);
  readonly #features = new Features();

  constructor(m: InjectionModelFile = MODEL as InjectionModelFile) {
    this.#m = m;
    const bytes = Buffer.from(m.weights, 'base64');
    if (bytes.length !== 1 << m.bits) throw new Error(`injection model ${m.version}: ${bytes.length} weights, expected ${1 << m.bits}`);
    this.#w = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    this.threshold = m.threshold;
    this.veto = m.veto;
    this.vetoUnless = m.vetoUnless;
    this.version = m.version;
  }

  /**
   * Probability that normalised text `t` is an injection, and the window it
   * comes from. Features are summed per block once; a window adds two blocks.
   */
  score(t: string, source: string): { p: number; start: number; end: number } {
    const m = this.#m, b = m.blockBits;
    const blocks = Math.max(1, Math.ceil(t.length / (1 << b)));
    // Index j + 1 holds block j; after the pass below, running totals, so a window [a, e) is total(e) - total(a).
    if (this.#sum.length < blocks + 1) {
      this.#sum = new Int32Array(blocks * 2 + 2);
      this.#count = new Int32Array(blocks * 2 + 2);
    } else {
      this.#sum.fill(0, 0, blocks + 1);
      this.#count.fill(0, 0, blocks + 1);
    }
    const f = featuresOf(t, m, this.#features);
    const sum = this.#sum, count = this.#count, w = this.#w, ids = f.ids, pos = f.at;
    for (let k = 0; k < f.n; k++) {
      const i = (pos[k]! >> b) + 1;
      sum[i]! += w[ids[k]!]!;
      count[i]!++;
    }
    for (let i = 1; i <= blocks; i++) {
      sum[i]! += sum[i - 1]!;
      count[i]! += count[i - 1]!;
    }
    const src = w[sourceFeature(source, m.bits)]!;
    let best = -Infinity, at: [number, number] = [0, blocks];
    for (const win of windowsOf(t.length, b, m.spans)) {
      const [a, e] = win;
      const z = m.bias + ((sum[e]! - sum[a]! + src) * m.scale) / Math.sqrt(Math.min(count[e]! - count[a]! + 1, m.normCap));
      if (z > best) {
        best = z;
        at = win;
      }
    }
    return { p: 1 / (1 + Math.exp(-best)), start: at[0] << b, end: Math.min(t.length, at[1] << b) };
  }
}
