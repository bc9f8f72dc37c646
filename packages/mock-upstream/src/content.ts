export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Text of a message `content` in any of the supported wire shapes: a plain string, or an
 * array of parts. Parts carry `text` (OpenAI text/input_text/output_text, Anthropic text),
 * a nested `content` (Anthropic tool_result) or an `output` (Responses function_call_output).
 */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const part of content) {
    if (!isObject(part)) continue;
    if (typeof part.text === 'string') parts.push(part.text);
    else if (part.content !== undefined) parts.push(contentText(part.content));
    else if (typeof part.output === 'string') parts.push(part.output);
  }
  return parts.join('\n');
}

export interface PromptSummary {
  /** Text of the last user turn; the answer is derived from it alone. */
  lastUser: string;
  /** Characters of all prompt text (system included), the basis of prompt token counts. */
  chars: number;
}

export function summarize(messages: unknown, system?: unknown): PromptSummary {
  let chars = contentText(system).length;
  let lastUser = '';
  if (Array.isArray(messages)) {
    for (const message of messages) {
      if (!isObject(message)) continue;
      // Responses input items without a role (e.g. function_call_output) hold text at the top level.
      const text = message.content !== undefined ? contentText(message.content) : contentText([message]);
      chars += text.length;
      if (message.role === 'user') lastUser = text;
    }
  }
  return { lastUser, chars };
}

export function promptTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

export interface Answer {
  text: string;
  /** Stream deltas; they concatenate to `text`. */
  pieces: string[];
  /** Completion token count: the number of words in `text`. */
  tokens: number;
}

const SNIPPET_CHARS = 40;
const TAIL = 'This is a deterministic reply from the Warden mock upstream.';
const ANSWER_CACHE_LIMIT = 1024;
// Benchmarks replay the same prompt thousands of times; caching skips the string work.
const answerCache = new Map<string, Answer>();

/** A prompt starting with this is answered with the rest of it, verbatim (tests of what Warden does with answers). */
export const ECHO_PREFIX = 'mock-echo: ';

/**
 * The answer to a prompt, streamed as `chunks` pieces, or as pieces of
 * `chunkChars` characters each when set (the `x-mock-chunk-chars` request
 * header), which cuts words apart as a real token stream can.
 */
export function answerFor(lastUser: string, chunks: number, chunkChars = 0): Answer {
  const key = `${chunks}\u0000${chunkChars}\u0000${lastUser}`;
  const cached = answerCache.get(key);
  if (cached) return cached;
  if (lastUser.startsWith(ECHO_PREFIX)) {
    const text = lastUser.slice(ECHO_PREFIX.length);
    const words = text.match(/\S+\s*/g) ?? [text];
    const pieces = chunkChars > 0 ? cut(text, chunkChars) : splitPieces(text, words, chunks);
    return remember(key, { text, pieces, tokens: words.length });
  }
  const collapsed = lastUser.replace(/\s+/g, ' ').trim();
  // Code points, so a snippet never ends in half a surrogate pair.
  const snippet = Array.from(collapsed).slice(0, SNIPPET_CHARS).join('') || '(empty prompt)';
  const stop = /[.!?]$/.test(snippet) ? ' ' : '. ';
  const text = `Mock answer to: ${snippet}${stop}${TAIL}`;
  const words = text.match(/\S+\s*/g) ?? [text];
  return remember(key, { text, pieces: chunkChars > 0 ? cut(text, chunkChars) : splitPieces(text, words, chunks), tokens: words.length });
}

function remember(key: string, answer: Answer): Answer {
  if (answerCache.size >= ANSWER_CACHE_LIMIT) answerCache.clear();
  answerCache.set(key, answer);
  return answer;
}

/** Pieces of `n` code points each. */
function cut(text: string, n: number): string[] {
  const points = Array.from(text);
  const pieces: string[] = [];
  for (let i = 0; i < points.length; i += n) pieces.push(points.slice(i, i + n).join(''));
  return pieces.length ? pieces : [''];
}

/** Splits on word boundaries when there are enough words, else on code points. */
function splitPieces(text: string, words: string[], wanted: number): string[] {
  const units = words.length >= wanted ? words : Array.from(text);
  const count = Math.max(1, Math.min(wanted, units.length));
  const pieces: string[] = [];
  for (let i = 0; i < count; i++) {
    const start = Math.floor((i * units.length) / count);
    const end = Math.floor(((i + 1) * units.length) / count);
    pieces.push(units.slice(start, end).join(''));
  }
  return pieces;
}

export const DEFAULT_EMBEDDING_DIMS = 8;

/**
 * Unit-length vector seeded by an FNV-1a hash of the text. Components are rounded to
 * float32 so the 'float' and 'base64' encodings decode to identical numbers.
 */
export function embeddingFor(text: string, dims: number): number[] {
  let seed = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    seed ^= text.charCodeAt(i);
    seed = Math.imul(seed, 0x01000193) >>> 0;
  }
  const raw: number[] = [];
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    // xorshift32: cheap, deterministic, and never stuck at zero for a non-zero seed.
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    if (seed === 0) seed = 0x9e3779b9;
    const value = seed / 0xffffffff - 0.5;
    raw.push(value);
    norm += value * value;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return raw.map((value) => Math.fround(value * scale));
}

/** Base64 of the vector as little-endian float32, as the OpenAI API encodes it. */
export function embeddingBase64(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString('base64');
}
