/**
 * Text as the injection scorer and the learned classifier read it: NFKC and
 * lowercase, diacritics folded, zero-width characters dropped, Unicode tag
 * characters decoded, look-alikes mapped inside mixed-script words, whitespace
 * collapsed, with an offset map back to the original.
 */
const CONFUSABLES = new Map<number, number>(
  Object.entries({ а: 'a', в: 'b', е: 'e', ё: 'e', і: 'i', ї: 'i', ј: 'j', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h', ӏ: 'l', α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', γ: 'y', ω: 'w' }).map(
    ([k, v]) => [k.charCodeAt(0), v.charCodeAt(0)],
  ),
);
const CURLY: Record<number, number> = { 0x2018: 0x27, 0x2019: 0x27, 0x201c: 0x22, 0x201d: 0x22 };
/** Small capitals and letters without a decomposition that NFKC leaves as they are, but that read as plain Latin. */
const LATIN_LOOKALIKES: Record<number, string> = Object.fromEntries(
  Object.entries({ ᴀ: 'a', ʙ: 'b', ᴄ: 'c', ᴅ: 'd', ᴇ: 'e', ꜰ: 'f', ɢ: 'g', ʜ: 'h', ɪ: 'i', ᴊ: 'j', ᴋ: 'k', ʟ: 'l', ᴍ: 'm', ɴ: 'n', ᴏ: 'o', ᴘ: 'p', ǫ: 'q', ʀ: 'r', ꜱ: 's', ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ʏ: 'y', ᴢ: 'z', ı: 'i', ł: 'l', ø: 'o', đ: 'd', ħ: 'h', ŧ: 't' }).map(([k, v]) => [k.codePointAt(0)!, v]),
);
const foldCache = new Map<number, string>();
/** Per BMP code point: 1 + the one code unit it folds to, once known; 0 if not yet known or not one unit. */
const FOLD_ONE = new Uint16Array(0x10000);

const isTag = (cp: number): boolean => cp >= 0xe0000 && cp <= 0xe007f;
const isZeroWidth = (cp: number): boolean => (cp >= 0x200b && cp <= 0x200f) || cp === 0x2060 || cp === 0xfeff || cp === 0x00ad || cp === 0x180e;
const isSpace = (cp: number): boolean =>
  cp === 0x20 || (cp >= 0x09 && cp <= 0x0d) || cp === 0xa0 || cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f || cp === 0x3000;
export const isAsciiAlnum = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a);
export const isBase64Char = (c: number): boolean => isAsciiAlnum(c) || c === 0x2b || c === 0x2f || c === 0x5f || c === 0x2d;
/** 1 for Latin letters and digits, 2 for Greek and Cyrillic, 0 for anything that ends a word. */
const scriptOf = (c: number): 0 | 1 | 2 => (isAsciiAlnum(c) || (c >= 0xc0 && c <= 0x24f) ? 1 : (c >= 0x370 && c <= 0x3ff) || (c >= 0x400 && c <= 0x52f) ? 2 : 0);
export const wordHash = (h: number, c: number): number => (Math.imul(h, 31) + c) | 0;

function fold(cp: number): string {
  let s = foldCache.get(cp);
  if (s === undefined) {
    s = LATIN_LOOKALIKES[cp] ?? String.fromCodePoint(cp).normalize('NFKC').toLowerCase();
    // Strip diacritics from Latin (and Vietnamese and Greek) letters so "ïgnöre" reads as "ignore".
    if ((cp >= 0xc0 && cp <= 0x24f) || (cp >= 0x1e00 && cp <= 0x1eff) || (cp >= 0x386 && cp <= 0x3ce) || (cp >= 0x1f00 && cp <= 0x1fff)) s = s.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
    // Arabic short vowels are optional in writing, and hamza seats vary: "أُعطيت" reads as "اعطيت".
    else if ((cp >= 0x64b && cp <= 0x65f) || cp === 0x670) s = '';
    else if (cp === 0x622 || cp === 0x623 || cp === 0x625) s = '\u0627';
    if (foldCache.size < 4096) foldCache.set(cp, s);
  }
  return s;
}

export interface Span {
  count: number;
  start: number;
  end: number;
}


/**
 * The normalised text: NFKC and lowercase, zero-width characters dropped, tag
 * characters decoded, look-alikes mapped inside mixed-script words, whitespace
 * runs collapsed (to a newline if they hold one), behind a leading newline that
 * stands for the start of text (so line-start patterns need no `^` and work in
 * windows). `span` maps normalised offsets back to the original.
 */
export interface Normalised {
  text: string;
  span(s: number, e: number): [number, number];
  nonAscii: boolean;
  zeroWidth: Span | null;
  mixedScript: Span | null;
  tags: Span | null;
}

const NON_ASCII = /[\u0080-\u{10ffff}]/u;
const ASCII_SPACE_RUN = /[\t\n\v\f\r ]{2,}|[\t\v\f\r]/g;
const collapseRun = (run: string): string => (run.includes('\n') || run.includes('\r') ? '\n' : ' ');
export const isAsciiSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

export function normalise(text: string): Normalised {
  return NON_ASCII.test(text) ? new UnicodeNormaliser(text) : asciiNormalised(text);
}

/** The normalised text the rules and the learned model read (the trainer reads it too). */
export const normalisedText = (text: string): string => normalise(text).text;

/** Pure-ASCII text, the common case: native lowercasing, and an offset map built only if a span is asked for. */
function asciiNormalised(text: string): Normalised {
  // Lowercasing the concatenation (rather than concatenating after) yields a flat string, cheap to index.
  const lower = ('\n' + text).toLowerCase();
  ASCII_SPACE_RUN.lastIndex = 0;
  const collapsed = ASCII_SPACE_RUN.test(lower);
  const t = collapsed ? lower.replace(ASCII_SPACE_RUN, collapseRun) : lower;
  let from: Int32Array | null = null;
  const span = (s: number, e: number): [number, number] => {
    if (!collapsed) return [Math.max(0, s - 1), e - 1];
    if (!from) {
      // Mirror ASCII_SPACE_RUN: each whitespace run becomes its first character.
      from = new Int32Array(t.length);
      for (let i = 1, n = 1; i < lower.length; i++) {
        if (isAsciiSpace(lower.charCodeAt(i)) && isAsciiSpace(lower.charCodeAt(i - 1))) continue;
        from[n++] = i - 1;
      }
    }
    return [from[s]!, from[e - 1]! + 1];
  };
  return { text: t, span, nonAscii: false, zeroWidth: null, mixedScript: null, tags: null };
}

class UnicodeNormaliser implements Normalised {
  out: Uint16Array;
  from: Int32Array;
  n = 0;
  readonly text: string;
  readonly nonAscii = true;
  zeroWidth: Span | null = null;
  mixedScript: Span | null = null;
  tags: Span | null = null;
  #wordStart = 1;
  #latin = false;
  #other = false;
  readonly #pending: number[] = [];

  constructor(readonly source: string) {
    this.out = new Uint16Array(source.length + 16);
    this.from = new Int32Array(source.length + 16);
    const text = source;
    this.#push(0x0a, 0);
    let space = true;
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      const len = cp > 0xffff ? 2 : 1;
      if (isSpace(cp)) {
        const nl = cp === 0x0a || cp === 0x0d || cp === 0x2028 || cp === 0x2029;
        if (!space) this.#push(nl ? 0x0a : 0x20, i);
        else if (nl && this.n > 1) this.out[this.n - 1] = 0x0a;
        space = true;
      } else if (cp < 0x80) {
        this.#push(cp >= 0x41 && cp <= 0x5a ? cp + 32 : cp, i);
        space = false;
      } else if (isZeroWidth(cp)) {
        if (scriptOf(this.out[this.n - 1]!) === 1 && scriptOf(text.charCodeAt(i + len)) === 1) this.zeroWidth = grow(this.zeroWidth, i, i + len);
      } else if (isTag(cp)) {
        // Tag characters are invisible and decode to ASCII: a known smuggling channel. An emoji flag
        // (U+1F3F4 then a few tags) is their one legitimate use; every other run is decoded.
        let j = i;
        while (j < text.length && isTag(text.codePointAt(j)!)) j += 2;
        const flag = text.codePointAt(i - 2) === 0x1f3f4 && j - i <= 16;
        for (let k = i; k < j && !flag; k += 2) {
          const c = text.codePointAt(k)! - 0xe0000;
          if (c < 0x20 || c > 0x7e) continue;
          this.tags = grow(this.tags, k, k + 2);
          this.#push(c >= 0x41 && c <= 0x5a ? c + 32 : c, k);
        }
        space = false;
        i = j;
        continue;
      } else {
        // Most letters fold to one code unit, read from a table after their first time.
        const one = cp <= 0xffff ? FOLD_ONE[cp]! : 0;
        if (one !== 0) this.#push(one - 1, i);
        else {
          const curly = CURLY[cp];
          const s = curly !== undefined ? String.fromCharCode(curly) : fold(cp);
          if (s.length === 1 && cp <= 0xffff) FOLD_ONE[cp] = s.charCodeAt(0) + 1;
          for (let k = 0; k < s.length; k++) this.#push(s.charCodeAt(k), i);
        }
        space = false;
      }
      i += len;
    }
    this.#endWord();
    this.text = utf16.decode(this.out.subarray(0, this.n));
  }

  span(s: number, e: number): [number, number] {
    const last = this.from[e - 1]!;
    return [this.from[s]!, last + (this.source.codePointAt(last)! > 0xffff ? 2 : 1)];
  }

  #push(c: number, at: number): void {
    if (this.n === this.out.length) {
      const out = new Uint16Array(this.n * 2), from = new Int32Array(this.n * 2);
      out.set(this.out);
      from.set(this.from);
      this.out = out;
      this.from = from;
    }
    const script = scriptOf(c);
    if (script === 0) {
      this.#endWord();
      this.#wordStart = this.n + 1;
    } else if (script === 1) this.#latin = true;
    else {
      this.#other = true;
      if (CONFUSABLES.has(c)) this.#pending.push(this.n);
    }
    this.out[this.n] = c;
    this.from[this.n++] = at;
  }

  #endWord(): void {
    if (this.#latin && this.#other && this.#pending.length > 0) {
      for (const at of this.#pending) this.out[at] = CONFUSABLES.get(this.out[at]!)!;
      this.mixedScript = grow(this.mixedScript, ...this.span(this.#wordStart, this.n));
    }
    this.#latin = this.#other = false;
    if (this.#pending.length > 0) this.#pending.length = 0;
  }
}

function grow(span: Span | null, start: number, end: number): Span {
  return span ? { count: span.count + 1, start: span.start, end } : { count: 1, start, end };
}
const utf16 = new TextDecoder('utf-16le');
