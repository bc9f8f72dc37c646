import {
  DEFAULT_EMBEDDING_DIMS,
  answerFor,
  embeddingBase64,
  embeddingFor,
  isObject,
  promptTokens,
  summarize,
} from './content.js';
import { sendError, sendJson, type RequestContext } from './http.js';
import { DONE_EVENT, dataEvent, sendEvents } from './sse.js';

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function chatCompletions(ctx: RequestContext): void {
  const { body, model } = ctx;
  const prompt = summarize(body.messages);
  const answer = answerFor(prompt.lastUser, ctx.chunks, ctx.chunkChars);
  const inputTokens = promptTokens(prompt.chars);
  const usage = {
    prompt_tokens: inputTokens,
    completion_tokens: answer.tokens,
    total_tokens: inputTokens + answer.tokens,
  };
  const id = `chatcmpl-mock-${ctx.n}`;
  const created = nowSeconds();

  if (!ctx.stream) {
    sendJson(ctx.res, 200, ctx.headers, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: answer.text, refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage,
    });
    return;
  }

  const includeUsage = isObject(body.stream_options) && body.stream_options.include_usage === true;
  // Key order matters to byte-comparing consumers: id, object, created, model, choices, usage.
  // With include_usage OpenAI sends `"usage":null` on every chunk; without it, no usage key at all.
  const chunk = (choices: unknown[]): string =>
    dataEvent(
      includeUsage
        ? { id, object: 'chat.completion.chunk', created, model, choices, usage: null }
        : { id, object: 'chat.completion.chunk', created, model, choices },
    );
  const events: string[] = [
    chunk([
      { index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null },
    ]),
  ];
  for (const piece of answer.pieces) {
    events.push(chunk([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]));
  }
  events.push(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]));
  if (includeUsage) {
    events.push(dataEvent({ id, object: 'chat.completion.chunk', created, model, choices: [], usage }));
  }
  events.push(DONE_EVENT);
  sendEvents(ctx.res, ctx.headers, events, ctx.mode);
}

const MAX_EMBEDDING_DIMS = 4096;

/** OpenAI accepts a string, an array of strings, one token array, or an array of token arrays. */
function embeddingInputs(input: unknown): string[] | undefined {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((item) => typeof item === 'number')) return [JSON.stringify(input)];
  const texts: string[] = [];
  for (const item of input) {
    if (typeof item === 'string') texts.push(item);
    else if (Array.isArray(item)) texts.push(JSON.stringify(item));
    else return undefined;
  }
  return texts;
}

export function embeddings(ctx: RequestContext): void {
  const { body, model } = ctx;
  const texts = embeddingInputs(body.input);
  if (!texts) {
    sendError(ctx.res, 'openai', 400, ctx.headers, "'input' must be a non-empty string or array (mock upstream)");
    return;
  }
  const requested = body.dimensions;
  const dims =
    typeof requested === 'number' && Number.isInteger(requested) && requested > 0 && requested <= MAX_EMBEDDING_DIMS
      ? requested
      : DEFAULT_EMBEDDING_DIMS;
  const base64 = body.encoding_format === 'base64';
  let tokens = 0;
  const data = texts.map((text, index) => {
    tokens += promptTokens(text.length);
    const vector = embeddingFor(text, dims);
    return { object: 'embedding', index, embedding: base64 ? embeddingBase64(vector) : vector };
  });
  sendJson(ctx.res, 200, ctx.headers, {
    object: 'list',
    data,
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

// Fixed `created` so the listing is byte-identical across runs.
const MODELS_BODY = JSON.stringify({
  object: 'list',
  data: ['gpt-4o-mini', 'gpt-4o', 'o4-mini', 'text-embedding-3-small', 'mock-model'].map((id) => ({
    id,
    object: 'model',
    created: 1_700_000_000,
    owned_by: 'warden-mock',
  })),
});

export function listModels(ctx: RequestContext): void {
  sendJson(ctx.res, 200, ctx.headers, MODELS_BODY);
}
