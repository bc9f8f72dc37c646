import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { StreamMode } from './http.js';

/** OpenAI Chat Completions framing: data-only events. */
export function dataEvent(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

/** Responses API and Anthropic framing: a named event plus its JSON data. */
export function namedEvent(type: string, payload: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(payload)}\n\n`;
}

export const DONE_EVENT = 'data: [DONE]\n\n';

/**
 * Writes pre-rendered events, each with its own `res.write` so a proxy in between sees
 * the stream arrive in several chunks rather than one buffered body.
 */
export function sendEvents(
  res: ServerResponse,
  headers: OutgoingHttpHeaders,
  events: readonly string[],
  mode: StreamMode,
): void {
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
  const first = events[0];
  if (mode.stall) {
    // Left open on purpose: the socket closes when the client gives up or the server closes.
    if (first !== undefined) res.write(first);
    else res.flushHeaders();
    return;
  }
  if (mode.delayMs <= 0) {
    for (const event of events) res.write(event);
    res.end();
    return;
  }
  let index = 0;
  let timer: NodeJS.Timeout | undefined;
  const next = (): void => {
    if (res.destroyed) return;
    const event = events[index++];
    if (event !== undefined) res.write(event);
    if (index >= events.length) {
      res.end();
      return;
    }
    timer = setTimeout(next, mode.delayMs);
  };
  res.once('close', () => clearTimeout(timer));
  next();
}
