import { answerFor, promptTokens, summarize, type JsonObject } from './content.js';
import { sendJson, type RequestContext } from './http.js';
import { nowSeconds } from './openai.js';
import { namedEvent, sendEvents } from './sse.js';

type Status = 'in_progress' | 'completed';

/** OpenAI Responses API (`POST /v1/responses`), non-streaming and streaming. */
export function responses(ctx: RequestContext): void {
  const { body, model } = ctx;
  const input = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input;
  const prompt = summarize(input, body.instructions);
  const answer = answerFor(prompt.lastUser, ctx.chunks, ctx.chunkChars);
  const inputTokens = promptTokens(prompt.chars);
  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: answer.tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + answer.tokens,
  };
  const id = `resp_mock_${ctx.n}`;
  const itemId = `msg_mock_${ctx.n}`;
  const createdAt = nowSeconds();

  const envelope = (status: Status, output: unknown[], withUsage: boolean): JsonObject => ({
    id,
    object: 'response',
    created_at: createdAt,
    status,
    error: null,
    incomplete_details: null,
    instructions: typeof body.instructions === 'string' ? body.instructions : null,
    max_output_tokens: typeof body.max_output_tokens === 'number' ? body.max_output_tokens : null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: typeof body.previous_response_id === 'string' ? body.previous_response_id : null,
    temperature: 1,
    text: { format: { type: 'text' } },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: withUsage ? usage : null,
    metadata: {},
  });
  const part = (text: string): JsonObject => ({ type: 'output_text', text, annotations: [] });
  const message = (status: Status, content: unknown[]): JsonObject => ({
    type: 'message',
    id: itemId,
    status,
    role: 'assistant',
    content,
  });
  const completedMessage = message('completed', [part(answer.text)]);

  if (!ctx.stream) {
    sendJson(ctx.res, 200, ctx.headers, envelope('completed', [completedMessage], true));
    return;
  }

  let sequence = 0;
  const events: string[] = [];
  const emit = (type: string, fields: JsonObject): void => {
    events.push(namedEvent(type, { type, ...fields, sequence_number: sequence++ }));
  };
  const at = { item_id: itemId, output_index: 0, content_index: 0 };
  emit('response.created', { response: envelope('in_progress', [], false) });
  emit('response.in_progress', { response: envelope('in_progress', [], false) });
  emit('response.output_item.added', { output_index: 0, item: message('in_progress', []) });
  emit('response.content_part.added', { ...at, part: part('') });
  for (const delta of answer.pieces) emit('response.output_text.delta', { ...at, delta, logprobs: [] });
  emit('response.output_text.done', { ...at, text: answer.text, logprobs: [] });
  emit('response.content_part.done', { ...at, part: part(answer.text) });
  emit('response.output_item.done', { output_index: 0, item: completedMessage });
  emit('response.completed', { response: envelope('completed', [completedMessage], true) });
  sendEvents(ctx.res, ctx.headers, events, ctx.mode);
}
