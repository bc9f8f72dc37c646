import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { JsonObject } from './content.js';

export type Provider = 'openai' | 'anthropic';

export interface StreamMode {
  /** Pause between stream events, from the `x-mock-chunk-delay-ms` request header. */
  delayMs: number;
  /** Send headers and the first event, then nothing more (the `mock-stall` fault). */
  stall: boolean;
}

/** Everything a route handler needs; built once per request by the server. */
export interface RequestContext {
  res: ServerResponse;
  /** Per-server request sequence number, used in every generated id. */
  n: number;
  /** Headers every response carries (request ids). */
  headers: OutgoingHttpHeaders;
  body: JsonObject;
  model: string;
  stream: boolean;
  mode: StreamMode;
  chunks: number;
  /** Characters per stream piece, from the `x-mock-chunk-chars` request header (0: `chunks` pieces). */
  chunkChars: number;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  payload: unknown,
  extra?: OutgoingHttpHeaders,
): void {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  res.writeHead(status, {
    ...headers,
    ...extra,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function openaiErrorBody(status: number, message: string): JsonObject {
  let type = 'invalid_request_error';
  let code: string | null = null;
  // Mirrors the type/code pairs the real API uses, which clients and gateways key on.
  if (status === 401) code = 'invalid_api_key';
  else if (status === 403) type = 'permission_error';
  else if (status === 429) {
    type = 'requests';
    code = 'rate_limit_exceeded';
  } else if (status >= 500) type = 'server_error';
  return { error: { message, type, param: null, code } };
}

const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

export function anthropicErrorBody(status: number, message: string): JsonObject {
  const type = ANTHROPIC_ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return { type: 'error', error: { type, message } };
}

export function sendError(
  res: ServerResponse,
  provider: Provider,
  status: number,
  headers: OutgoingHttpHeaders,
  message: string,
): void {
  const body = provider === 'openai' ? openaiErrorBody(status, message) : anthropicErrorBody(status, message);
  // Clients back off on 429 using retry-after; 1 s keeps tests that opt into retries quick.
  sendJson(res, status, headers, body, status === 429 ? { 'retry-after': '1' } : undefined);
}
