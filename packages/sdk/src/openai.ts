import { randomBytes } from 'node:crypto';
import type { Run } from './run.js';
import type { Usage } from './types.js';

/**
 * Records an OpenAI client's model calls as tool calls of a run: an
 * action_request with the call's parameters, then an action_response with
 * the text and token usage, or an error event when the call fails (the
 * error is still thrown to the caller). Typed structurally, so the SDK
 * needs no `openai` package at run time; tested with openai v6.
 */

type Create = (body: never, options?: never) => unknown;

/** The part of an OpenAI client the wrapper touches. */
export interface OpenAILike {
  chat: { completions: { create: Create } };
  responses?: { create: Create };
}

export interface WrapOpenAIOptions {
  /**
   * Ask for usage on streamed chat completions (`stream_options.include_usage`)
   * when the caller did not, and take the extra usage chunk and the
   * `usage: null` fields back out, so the caller sees the chunks it would
   * have seen. Default true; without it a stream records no usage.
   */
  streamUsage?: boolean;
}

type Body = Record<string, unknown>;
type Obj = Record<PropertyKey, unknown>;

/** What the wrapper does with one call's answer. */
interface Recorder {
  /** A non-streamed answer. */
  value(v: unknown): void;
  /** One streamed chunk; false to keep it from the caller. */
  chunk(c: unknown): boolean;
  /** The stream ended; `complete` false when the caller stopped reading early. */
  end(complete: boolean): void;
  /** Only the raw Response was read (asResponse): no output to record. */
  raw(status: number): void;
  error(err: unknown): void;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null;

function usageOf(u: unknown): Usage | undefined {
  if (!isObj(u)) return undefined;
  const input = u.input_tokens ?? u.prompt_tokens;
  const output = u.output_tokens ?? u.completion_tokens;
  const usage: Usage = {};
  if (typeof input === 'number') usage.input_tokens = input;
  if (typeof output === 'number') usage.output_tokens = output;
  return Object.keys(usage).length > 0 ? usage : undefined;
}

/** Methods read through a proxy still run on the real object: the client keeps state in private fields. */
function passThrough(target: object, prop: PropertyKey, bound: WeakMap<object, unknown>): unknown {
  const v = Reflect.get(target, prop, target) as unknown;
  if (typeof v !== 'function') return v;
  let b = bound.get(v) as unknown;
  if (b === undefined) {
    b = (v as (...a: unknown[]) => unknown).bind(target);
    bound.set(v, b);
  }
  return b;
}

function overlay<T extends object>(target: T, overrides: Map<PropertyKey, () => unknown>): T {
  const bound = new WeakMap<object, unknown>();
  return new Proxy(target, { get: (t, p) => (overrides.has(p) ? overrides.get(p)!() : passThrough(t, p, bound)) });
}

/** Record every chunk the caller reads; `it` is the stream's own iterator. */
async function* tap(it: AsyncIterator<unknown>, rec: Recorder): AsyncGenerator<unknown> {
  let state: 'reading' | 'done' | 'failed' = 'reading';
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      if (rec.chunk(r.value)) yield r.value;
    }
    state = 'done';
  } catch (err) {
    state = 'failed';
    rec.error(err);
    throw err;
  } finally {
    if (state === 'reading') {
      rec.end(false);
      await it.return?.();
    } else if (state === 'done') rec.end(true);
  }
}

/** The caller still gets every chunk, through for-await, tee() and toReadableStream() alike. */
function tapStream(stream: unknown, rec: Recorder): unknown {
  if (!isObj(stream)) return stream;
  // openai's Stream reads through its `iterator` member on every path; wrapping it there covers them all.
  if (typeof stream.iterator === 'function') {
    const original = (stream.iterator as () => AsyncIterator<unknown>).bind(stream);
    stream.iterator = () => tap(original(), rec);
    return stream;
  }
  const iterate = stream[Symbol.asyncIterator];
  if (typeof iterate !== 'function') return stream;
  return overlay(stream, new Map([[Symbol.asyncIterator, () => () => tap((iterate as () => AsyncIterator<unknown>).call(stream), rec)]]));
}

/**
 * The promise `create` returned, recording its outcome. openai's
 * APIPromise parses only when awaited, and keeps withResponse() and
 * asResponse(): both still work, and are recorded.
 */
function observe(promise: unknown, rec: Recorder, streaming: boolean): unknown {
  if (!isObj(promise) || typeof promise.then !== 'function') return promise;
  const p = promise as Obj & PromiseLike<unknown>;
  let result: Promise<unknown> | undefined;
  const settled = () =>
    (result ??= Promise.resolve(p).then(
      (v) => {
        if (streaming) return tapStream(v, rec);
        rec.value(v);
        return v;
      },
      (err: unknown) => {
        rec.error(err);
        throw err;
      },
    ));
  const overrides = new Map<PropertyKey, () => unknown>([
    ['then', () => (a?: (v: unknown) => unknown, b?: (e: unknown) => unknown) => settled().then(a, b)],
    ['catch', () => (b?: (e: unknown) => unknown) => settled().catch(b)],
    ['finally', () => (f?: () => void) => settled().finally(f)],
  ]);
  if (typeof p.withResponse === 'function') {
    const withResponse = p.withResponse.bind(p) as () => Promise<Obj>;
    overrides.set('withResponse', () => async () => {
      const [r, data] = await Promise.all([withResponse(), settled()]);
      return { ...r, data };
    });
  }
  if (typeof p.asResponse === 'function') {
    const asResponse = p.asResponse.bind(p) as () => Promise<{ status: number }>;
    overrides.set('asResponse', () => () =>
      asResponse().then(
        (res) => {
          rec.raw(res.status);
          return res;
        },
        (err: unknown) => {
          rec.error(err);
          throw err;
        },
      ),
    );
  }
  return overlay(p, overrides);
}

function errorFields(err: unknown): { message: string; code: string; status?: number } {
  const e = isObj(err) ? err : {};
  const message = typeof e.message === 'string' && e.message ? e.message : String(err);
  const status = typeof e.status === 'number' ? e.status : undefined;
  const code = typeof e.code === 'string' ? e.code : status !== undefined ? `http_${status}` : typeof e.name === 'string' ? e.name : 'error';
  return { message, code, ...(status !== undefined && { status }) };
}

/** The recorder for one call: request first, then exactly one response or error. */
function recorder(run: Run, tool: string, callId: string, read: Reader): Recorder {
  let done = false;
  const respond = (output: Obj, usage: Usage | undefined, complete = true) => {
    if (done) return;
    done = true;
    run.actionResponse(tool, output, { callId, status: 'ok', ...(usage && { usage }), ...(!complete && { extra: { incomplete: true } }) });
  };
  return {
    value: (v) => respond(read.output(v), usageOf(isObj(v) ? v.usage : undefined)),
    chunk: (c) => read.chunk(c),
    end: (complete) => respond(read.streamed(), read.streamUsage(), complete),
    raw: (status) => respond({ http_status: status }, undefined),
    error: (err) => {
      if (done) return;
      done = true;
      const f = errorFields(err);
      run.error(f.message, { code: f.code, extra: { tool, call_id: callId, ...(f.status !== undefined && { http_status: f.status }) } });
    },
  };
}

/** How one API's answers read: whole, or chunk by chunk. */
interface Reader {
  output(v: unknown): Obj;
  chunk(c: unknown): boolean;
  streamed(): Obj;
  streamUsage(): Usage | undefined;
}

function chatReader(stripUsage: boolean): Reader {
  let text = '';
  let finish: unknown;
  let model: unknown;
  let usage: Usage | undefined;
  return {
    output: (v) => {
      const choice = isObj(v) && Array.isArray(v.choices) && isObj(v.choices[0]) ? v.choices[0] : {};
      const message = isObj(choice.message) ? choice.message : {};
      return { text: typeof message.content === 'string' ? message.content : '', finish_reason: choice.finish_reason, model: isObj(v) ? v.model : undefined, ...(message.tool_calls !== undefined && { tool_calls: message.tool_calls }) };
    },
    chunk: (c) => {
      if (!isObj(c)) return true;
      model ??= c.model;
      const choices = Array.isArray(c.choices) ? c.choices : [];
      for (const ch of choices) {
        if (!isObj(ch)) continue;
        if (isObj(ch.delta) && typeof ch.delta.content === 'string') text += ch.delta.content;
        if (ch.finish_reason) finish = ch.finish_reason;
      }
      if (isObj(c.usage)) usage = usageOf(c.usage);
      if (!stripUsage) return true;
      // The usage we asked for on the caller's behalf: its own chunk, and `usage: null` on the others.
      if (choices.length === 0 && isObj(c.usage)) return false;
      if (c.usage === null) delete c.usage;
      return true;
    },
    streamed: () => ({ text, finish_reason: finish, model }),
    streamUsage: () => usage,
  };
}

function responsesReader(): Reader {
  let text = '';
  let final: Obj | undefined;
  return {
    output: (v) => (isObj(v) ? { text: typeof v.output_text === 'string' ? v.output_text : '', status: v.status, model: v.model } : {}),
    chunk: (e) => {
      if (isObj(e) && e.type === 'response.output_text.delta' && typeof e.delta === 'string') text += e.delta;
      if (isObj(e) && (e.type === 'response.completed' || e.type === 'response.incomplete' || e.type === 'response.failed') && isObj(e.response)) final = e.response;
      return true;
    },
    streamed: () => ({ text, status: final?.status, model: final?.model }),
    streamUsage: () => usageOf(final?.usage),
  };
}

function wrapCreate(target: { create: Create }, run: Run, tool: string, reader: (body: Body, injected: boolean) => Reader, options: WrapOpenAIOptions, injects: boolean): (body: Body, opts?: unknown) => unknown {
  const create = (target.create as unknown as (b: Body, o?: unknown) => unknown).bind(target);
  return (body, opts) => {
    const streaming = isObj(body) && body.stream === true;
    const streamOptions = isObj(body?.stream_options) ? body.stream_options : {};
    const inject = injects && streaming && options.streamUsage !== false && streamOptions.include_usage !== true;
    const sent = inject ? { ...body, stream_options: { ...streamOptions, include_usage: true } } : body;
    const callId = `call_${randomBytes(9).toString('base64url')}`;
    run.actionRequest(tool, body, { callId });
    const rec = recorder(run, tool, callId, reader(body, inject));
    let promise: unknown;
    try {
      promise = opts === undefined ? create(sent) : create(sent, opts);
    } catch (err) {
      rec.error(err);
      throw err;
    }
    return observe(promise, rec, streaming);
  };
}

/**
 * The same client, with `chat.completions.create` (and `responses.create`
 * when present) recorded on `run`. Everything else passes through
 * untouched. Wrap one client several times for several runs: the original
 * is not changed.
 */
export function wrapOpenAI<T extends OpenAILike>(client: T, run: Run, options: WrapOpenAIOptions = {}): T {
  const c = client as unknown as OpenAILike;
  const chatCreate = wrapCreate(c.chat.completions, run, 'openai.chat.completions', (_b, injected) => chatReader(injected), options, true);
  const completions = overlay(c.chat.completions, new Map([['create', () => chatCreate]]));
  const chat = overlay(c.chat, new Map([['completions', () => completions]]));
  const top = new Map<PropertyKey, () => unknown>([['chat', () => chat]]);
  if (c.responses && typeof c.responses.create === 'function') {
    const responsesCreate = wrapCreate(c.responses, run, 'openai.responses', () => responsesReader(), options, false);
    const responses = overlay(c.responses, new Map([['create', () => responsesCreate]]));
    top.set('responses', () => responses);
  }
  return overlay(client, top);
}
