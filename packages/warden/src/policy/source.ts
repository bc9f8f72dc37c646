/**
 * Source-text helpers for policy documents: cutting a document into its
 * statements, reading their annotations, and turning Cedar's byte offsets
 * into line/column positions a person can find in an editor.
 *
 * All of it runs in JS because each wasm round trip into Cedar costs about
 * as much as parsing the policy again (policyToJson ≈ 0.35 ms a policy).
 * Callers parse the whole text with Cedar first, so these only have to be
 * right for text Cedar accepted.
 */

export interface Statement {
  /** The statement's text, from just after the previous `;` through its own `;`. */
  text: string;
  /** Character offset of `text` within the document. */
  start: number;
}

/**
 * Splits Cedar policy text at top-level `;`. Cedar's grammar only has `;` as
 * a statement terminator, so the only places one can hide are string
 * literals (with `\` escapes) and `//` line comments. Trailing whitespace or
 * comments after the last `;` are dropped.
 */
export function splitStatements(text: string): Statement[] {
  const out: Statement[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      i = skipString(text, i);
    } else if (ch === '/' && text[i + 1] === '/') {
      i = skipComment(text, i);
    } else if (ch === ';') {
      out.push({ text: text.slice(start, i + 1), start });
      start = i + 1;
      i++;
    } else {
      i++;
    }
  }
  return out;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;

/**
 * The `@key` / `@key("value")` annotations at the head of a statement.
 * Values are the raw literal text between the quotes, escapes not decoded
 * (null for a bare `@key`).
 */
export function leadingAnnotations(text: string): Map<string, string | null> {
  const out = new Map<string, string | null>();
  let i = skipTrivia(text, 0);
  while (text[i] === '@') {
    IDENT.lastIndex = skipTrivia(text, i + 1);
    const m = IDENT.exec(text);
    if (!m) break;
    i = skipTrivia(text, IDENT.lastIndex);
    let value: string | null = null;
    if (text[i] === '(') {
      i = skipTrivia(text, i + 1);
      if (text[i] !== '"') break;
      const end = skipString(text, i);
      value = text.slice(i + 1, end - 1);
      i = skipTrivia(text, end);
      if (text[i] === ')') i = skipTrivia(text, i + 1);
    }
    out.set(m[0], value);
  }
  return out;
}

/** Offset of the first character at or after `from` that is neither whitespace nor part of a `//` comment. */
export function skipTrivia(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) i++;
    else if (c === 47 && text.charCodeAt(i + 1) === 47) i = skipComment(text, i);
    else if (/\s/.test(text[i]!)) i++;
    else break;
  }
  return i;
}

function skipComment(text: string, at: number): number {
  const nl = text.indexOf('\n', at);
  return nl === -1 ? text.length : nl + 1;
}

function skipString(text: string, open: number): number {
  let i = open + 1;
  while (i < text.length) {
    if (text[i] === '\\') i += 2;
    else if (text[i] === '"') return i + 1;
    else i++;
  }
  return i;
}

/** Cedar (Rust) reports UTF-8 byte offsets; JS strings index UTF-16 units. */
export function byteToCharOffset(text: string, byteOffset: number): number {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return Math.min(byteOffset, text.length);
  return Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8').length;
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, charOffset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(charOffset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
