import { answerFor, promptTokens, summarize } from './content.js';
import { sendJson, type RequestContext } from './http.js';
import { namedEvent, sendEvents } from './sse.js';

/** Anthropic Messages API (`POST /v1/messages`), non-streaming and streaming. */
export function messages(ctx: RequestContext): void {
  const { body, model } = ctx;
  const prompt = summarize(body.messages, body.system);
  const answer = answerFor(prompt.lastUser, ctx.chunks, ctx.chunkChars);
  const inputTokens = promptTokens(prompt.chars);
  const id = `msg_mock_${ctx.n}`;

  if (!ctx.stream) {
    sendJson(ctx.res, 200, ctx.headers, {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [{ type: 'text', text: answer.text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: answer.tokens },
    });
    return;
  }

  const events: string[] = [
    // Anthropic reports output_tokens: 1 up front and the real total in message_delta.
    namedEvent('message_start', {
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: inputTokens, output_tokens: 1 },
      },
    }),
    namedEvent('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    }),
    namedEvent('ping', { type: 'ping' }),
  ];
  for (const text of answer.pieces) {
    events.push(
      namedEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }),
    );
  }
  events.push(
    namedEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
    namedEvent('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: answer.tokens },
    }),
    namedEvent('message_stop', { type: 'message_stop' }),
  );
  sendEvents(ctx.res, ctx.headers, events, ctx.mode);
}
