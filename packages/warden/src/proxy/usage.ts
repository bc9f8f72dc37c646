import { StringDecoder } from 'node:string_decoder';

/** Which API's response shape to read usage from. */
export type UsageFormat = 'chat' | 'responses' | 'embeddings' | 'messages';

export interface Usage {
  tokensIn: number | null;
  tokensOut: number | null;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function sum(...vs: unknown[]): number | null {
  const ns = vs.map(num);
  return ns.every((n) => n === null) ? null : ns.reduce<number>((a, n) => a + (n ?? 0), 0);
}

/** Usage from a non-streamed response body (already parsed JSON). */
export function usageFromBody(format: UsageFormat, body: unknown): Usage {
  const u = (body as { usage?: Record<string, unknown> } | null)?.usage;
  if (!u || typeof u !== 'object') return { tokensIn: null, tokensOut: null };
  switch (format) {
    case 'chat':
      return { tokensIn: num(u.prompt_tokens), tokensOut: num(u.completion_tokens) };
    case 'embeddings':
      return { tokensIn: num(u.prompt_tokens), tokensOut: 0 };
    case 'responses':
      return { tokensIn: num(u.input_tokens), tokensOut: num(u.output_tokens) };
    case 'messages':
      // Cache reads and writes are input too; they are billed at other rates, which the price table does not model yet.
      return {
        tokensIn: sum(u.input_tokens, u.cache_creation_input_tokens, u.cache_read_input_tokens),
        tokensOut: num(u.output_tokens),
      };
  }
}

const USAGE_OBJECT = /"usage"\s*:\s*\{/;
const USAGE_NULL_AFTER = /,\s*"usage"\s*:\s*null(?=\s*[,}])/;
const USAGE_NULL_BEFORE = /"usage"\s*:\s*null\s*,\s*/;

/** Index just past the end of the first SSE event in `s` (blank line: LF LF or CRLF CRLF), else -1. */
export function eventEnd(s: string, from: number, hasCr: boolean): number {
  const lf = s.indexOf('\n\n', from);
  // Most streams use bare LF: skip the second scan (to the end of the text) when there is no CR at all.
  if (!hasCr) return lf === -1 ? -1 : lf + 2;
  const crlf = s.indexOf('\r\n\r\n', from);
  if (lf === -1) return crlf === -1 ? -1 : crlf + 4;
  if (crlf === -1 || lf < crlf) return lf + 2;
  return crlf + 4;
}

export function dataOf(event: string): string {
  let data = '';
  for (const line of event.split(/\r?\n/)) {
    if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(line[5] === ' ' ? 6 : 5);
  }
  return data;
}

/**
 * Reads token usage out of a server-sent-event stream as it passes through.
 *
 * In pass-through mode every chunk is forwarded untouched. In strip mode
 * (Warden asked an OpenAI-style upstream for `stream_options.include_usage`
 * on the client's behalf) the stream is re-cut at event boundaries: the
 * usage-only final chunk is consumed and the `"usage":null` member OpenAI adds
 * to every other chunk is removed, so the client receives the bytes it would
 * have received had Warden not asked.
 */
export class SseUsageReader {
  readonly usage: Usage = { tokensIn: null, tokensOut: null };
  /**
   * Content events seen so far. A stream cut short never reports its usage;
   * OpenAI and Anthropic send about one token per content event, so this is
   * what an aborted call is charged for output (docs/limits.md).
   */
  produced = 0;
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(
    private readonly format: UsageFormat,
    private readonly strip: boolean,
  ) {}

  /** Whether the bytes forwarded can differ from those received (strip mode). */
  get rewrites(): boolean {
    return this.strip;
  }

  /** Feed a chunk; returns what to forward to the client. */
  push(chunk: Buffer): Buffer {
    this.pending += this.decoder.write(chunk);
    const hasCr = this.pending.includes('\r');
    let out = '';
    let start = 0;
    for (let end = eventEnd(this.pending, 0, hasCr); end !== -1; end = eventEnd(this.pending, start, hasCr)) {
      const event = this.pending.slice(start, end);
      start = end;
      const keep = this.read(event);
      if (this.strip) out += keep;
    }
    this.pending = this.pending.slice(start);
    return this.strip ? Buffer.from(out) : chunk;
  }

  /** End of stream: returns any trailing bytes to forward (strip mode only). */
  end(): Buffer {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (rest) this.read(rest);
    return this.strip ? Buffer.from(rest) : Buffer.alloc(0);
  }

  /** Record usage from one event; return the event text to forward in strip mode. */
  private read(event: string): string {
    switch (this.format) {
      case 'chat': {
        // Most events carry no usage object: find that out with indexOf before any regex.
        if (!event.includes('"usage"')) {
          if (event.includes('"delta"')) this.produced++;
          return event;
        }
        if (event.includes('"delta"')) this.produced++;
        if (!USAGE_OBJECT.test(event)) return this.strip ? stripUsageNull(event) : event;
        const data = parse(dataOf(event));
        const u = usageFromBody('chat', data);
        if (u.tokensIn !== null) this.usage.tokensIn = u.tokensIn;
        if (u.tokensOut !== null) this.usage.tokensOut = u.tokensOut;
        const usageOnly = Array.isArray((data as { choices?: unknown[] } | null)?.choices) && (data as { choices: unknown[] }).choices.length === 0;
        return this.strip && usageOnly ? '' : event;
      }
      case 'responses': {
        if (event.includes('.delta"')) this.produced++;
        else if (event.includes('"response.completed"') || event.includes('"response.incomplete"')) {
          const data = parse(dataOf(event)) as { response?: unknown } | null;
          Object.assign(this.usage, usageFromBody('responses', data?.response));
        }
        return event;
      }
      case 'messages': {
        if (event.includes('"message_start"')) {
          const data = parse(dataOf(event)) as { message?: unknown } | null;
          this.usage.tokensIn = usageFromBody('messages', data?.message).tokensIn;
        } else if (event.includes('"content_block_delta"')) {
          this.produced++;
        } else if (event.includes('"message_delta"')) {
          // message_delta carries the cumulative output count (Anthropic streaming docs).
          const data = parse(dataOf(event));
          const out = usageFromBody('messages', data).tokensOut;
          if (out !== null) this.usage.tokensOut = out;
        }
        return event;
      }
      case 'embeddings':
        return event;
    }
  }
}

/** Removes the `"usage":null` member OpenAI adds to every chunk when include_usage is on. */
function stripUsageNull(event: string): string {
  // The compact form OpenAI sends, by slicing; anything else through the regexes.
  const i = event.indexOf(',"usage":null');
  if (i !== -1 && (event[i + 13] === ',' || event[i + 13] === '}')) return event.slice(0, i) + event.slice(i + 13);
  return event.replace(USAGE_NULL_AFTER, '').replace(USAGE_NULL_BEFORE, '');
}

function parse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}
