import { createRequire } from 'node:module';

/** What a call may consume, estimated before it is sent. */
export interface CallEstimate {
  tokensIn: number;
  /** The most the model may answer with: the request's max_tokens, else the configured default. */
  tokensOut: number;
  /** How tokensIn was counted. */
  method: 'tiktoken-o200k' | 'tiktoken-cl100k' | 'chars';
}

type Counter = (text: string) => number;
const require = createRequire(import.meta.url);
const counters = new Map<string, Counter>();

/** gpt-tokenizer's encodings, loaded on first use (each holds its BPE ranks: ~20 MB, ~100 ms to load). */
function tokenizer(encoding: 'o200k_base' | 'cl100k_base'): Counter {
  let c = counters.get(encoding);
  if (!c) {
    const mod = require(`gpt-tokenizer/cjs/encoding/${encoding}`) as { countTokens(text: string): number };
    c = (text) => mod.countTokens(text);
    counters.set(encoding, c);
  }
  return c;
}

/**
 * OpenAI's published encodings: o200k_base for the GPT-4o, 4.1, 5 and o-series
 * models, cl100k_base for GPT-4 and GPT-3.5. Other families (Anthropic,
 * open models behind an OpenAI-compatible server) have no tokenizer that
 * runs here: 1 token per 3.5 characters, a little above the ~4 characters
 * per token both vendors quote for English, so the estimate errs high.
 */
function methodFor(model: string): CallEstimate['method'] {
  const m = model.toLowerCase().replace(/^.*\//, '');
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o\d|chatgpt-4o|gpt-oss)/.test(m)) return 'tiktoken-o200k';
  if (/^(gpt-4|gpt-3\.5|text-embedding-3|text-embedding-ada)/.test(m)) return 'tiktoken-cl100k';
  return 'chars';
}

export const CHARS_PER_TOKEN = 3.5;
/** Per message: OpenAI's chat format adds ~3 tokens of framing to each message and 3 to prime the reply. */
const PER_MESSAGE = 3;

function count(method: CallEstimate['method'], text: string): number {
  if (method === 'chars') return Math.ceil(text.length / CHARS_PER_TOKEN);
  return tokenizer(method === 'tiktoken-o200k' ? 'o200k_base' : 'cl100k_base')(text);
}

/** Every string a prompt carries the model will read: message contents, system prompts, tool definitions, input. */
function promptTexts(body: Record<string, unknown>): { texts: string[]; messages: number } {
  const texts: string[] = [];
  let messages = 0;
  const visit = (v: unknown): void => {
    if (typeof v === 'string') texts.push(v);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        // Images and audio are billed by size, not by the characters of their base64: count them as their URL/reference only.
        if (k === 'image_url' || k === 'input_audio' || k === 'source') continue;
        visit(x);
      }
    }
  };
  for (const field of ['messages', 'system', 'input', 'instructions', 'prompt', 'tools', 'functions']) {
    const v = body[field];
    if (v === undefined) continue;
    if (field === 'messages' && Array.isArray(v)) messages = v.length;
    visit(v);
  }
  return { texts, messages };
}

function maxTokens(body: Record<string, unknown>, fallback: number): number {
  for (const f of ['max_completion_tokens', 'max_tokens', 'max_output_tokens']) {
    const v = body[f];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.ceil(v);
  }
  return fallback;
}

/** The reservation for a call: prompt tokens counted the model family's way, plus its max_tokens (embeddings answer with none). */
export function estimateCall(model: string, body: Record<string, unknown>, opts: { defaultMaxTokens: number; embeddings: boolean }): CallEstimate {
  const method = methodFor(model);
  const { texts, messages } = promptTexts(body);
  let tokensIn = messages * PER_MESSAGE + (messages ? 3 : 0);
  for (const t of texts) tokensIn += count(method, t);
  return { tokensIn, tokensOut: opts.embeddings ? 0 : maxTokens(body, opts.defaultMaxTokens), method };
}
