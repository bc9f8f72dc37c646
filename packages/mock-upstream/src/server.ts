import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { messages } from './anthropic.js';
import { isObject, type JsonObject } from './content.js';
import { sendError, type Provider, type RequestContext } from './http.js';
import { chatCompletions, embeddings, listModels } from './openai.js';
import { responses } from './responses.js';

export interface MockUpstreamOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /**
   * When set, OpenAI routes require `Authorization: Bearer <key>` and the Anthropic route
   * requires `x-api-key: <key>` (Bearer also accepted); otherwise 401 in the provider's shape.
   */
  apiKey?: string;
  /** Content deltas per streamed answer. Default 8. */
  streamChunks?: number;
  /** Keep every received request in `requests`. Default false. */
  recordRequests?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface MockUpstream {
  /** Base URL without trailing slash or /v1, e.g. http://127.0.0.1:54321. */
  url: string;
  port: number;
  /** Filled only when `recordRequests` is set. */
  requests: RecordedRequest[];
  /** Stops listening and destroys open sockets, including idle keep-alive and stalled ones. */
  close(): Promise<void>;
}

interface Route {
  provider: Provider;
  handle: (ctx: RequestContext) => void;
  /** Honours `"stream": true`; a stalled request on other routes stalls after the headers. */
  streams: boolean;
  /** Has a JSON body with a `model`, which is also what selects fault injection. */
  hasBody: boolean;
}

const ROUTES = new Map<string, Route>([
  ['POST /v1/chat/completions', { provider: 'openai', handle: chatCompletions, streams: true, hasBody: true }],
  ['POST /v1/responses', { provider: 'openai', handle: responses, streams: true, hasBody: true }],
  ['POST /v1/embeddings', { provider: 'openai', handle: embeddings, streams: false, hasBody: true }],
  ['GET /v1/models', { provider: 'openai', handle: listModels, streams: false, hasBody: false }],
  ['POST /v1/messages', { provider: 'anthropic', handle: messages, streams: true, hasBody: true }],
]);

// setTimeout fires immediately for delays above this, which would defeat mock-slow.
const MAX_TIMER_MS = 2_147_483_647;

export type Fault =
  | { kind: 'error'; status: number }
  | { kind: 'slow'; ms: number }
  | { kind: 'stall' }
  | { kind: 'hangup' };

/** Fault selected by the request's model name; undefined means answer normally. */
export function parseFault(model: string): Fault | undefined {
  if (!model.startsWith('mock-')) return undefined;
  if (model === 'mock-stall') return { kind: 'stall' };
  if (model === 'mock-hangup') return { kind: 'hangup' };
  const error = /^mock-error-(\d{3})$/.exec(model);
  if (error) {
    const status = Number(error[1]);
    return status >= 400 && status <= 599 ? { kind: 'error', status } : undefined;
  }
  const slow = /^mock-slow-(\d+)$/.exec(model);
  if (slow) return { kind: 'slow', ms: Math.min(Number(slow[1]), MAX_TIMER_MS) };
  return undefined;
}

/** A positive number from a request header, else 0. */
function positiveHeader(req: IncomingMessage, name: string): number {
  const raw = req.headers[name];
  const value = typeof raw === 'string' ? Number(raw) : 0;
  return Number.isFinite(value) && value > 0 ? value : 0;
}

function chunkDelay(req: IncomingMessage): number {
  return Math.min(positiveHeader(req, 'x-mock-chunk-delay-ms'), MAX_TIMER_MS);
}

/** Unknown routes answer in the style of whichever SDK seems to be calling. */
function guessProvider(req: IncomingMessage): Provider {
  return req.headers['anthropic-version'] !== undefined || req.headers['x-api-key'] !== undefined
    ? 'anthropic'
    : 'openai';
}

function parseBody(raw: string): JsonObject | string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return 'We could not parse the JSON body of your request (mock upstream).';
  }
  if (!isObject(value)) return 'The request body must be a JSON object (mock upstream).';
  if (typeof value.model !== 'string' || value.model === '') return "'model' is a required property (mock upstream).";
  return value;
}

export async function startMockUpstream(opts: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const host = opts.host ?? '127.0.0.1';
  const chunks = Math.max(1, Math.floor(opts.streamChunks ?? 8));
  const record = opts.recordRequests === true;
  const apiKey = opts.apiKey ? opts.apiKey : undefined;
  const bearer = `Bearer ${apiKey}`;
  const requests: RecordedRequest[] = [];
  let counter = 0;

  const authorized = (req: IncomingMessage, provider: Provider): boolean =>
    req.headers.authorization === bearer || (provider === 'anthropic' && req.headers['x-api-key'] === apiKey);

  const run = (route: Route, ctx: RequestContext): void => {
    try {
      route.handle(ctx);
    } catch (err) {
      if (ctx.res.headersSent) ctx.res.destroy();
      else sendError(ctx.res, route.provider, 500, ctx.headers, `mock upstream internal error: ${String(err)}`);
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    const n = ++counter;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (record) requests.push({ method, path, headers: req.headers, body: raw });

    const route = ROUTES.get(`${method} ${path}`);
    const provider = route?.provider ?? guessProvider(req);
    const requestId = `mock-${n}`;
    // Anthropic's SDK reads `request-id`; OpenAI's reads `x-request-id`.
    const headers: OutgoingHttpHeaders =
      provider === 'anthropic' ? { 'x-request-id': requestId, 'request-id': requestId } : { 'x-request-id': requestId };

    if (!route) {
      sendError(res, provider, 404, headers, `Invalid URL (${method} ${path}) (mock upstream).`);
      return;
    }
    if (apiKey !== undefined && !authorized(req, provider)) {
      const message =
        provider === 'openai' ? 'Incorrect API key provided (mock upstream).' : 'invalid x-api-key (mock upstream).';
      sendError(res, provider, 401, headers, message);
      return;
    }
    let body: JsonObject = {};
    if (route.hasBody) {
      const parsed = parseBody(raw);
      if (typeof parsed === 'string') {
        sendError(res, provider, 400, headers, parsed);
        return;
      }
      body = parsed;
    }
    const model = typeof body.model === 'string' ? body.model : '';
    const ctx: RequestContext = {
      res,
      n,
      headers,
      body,
      model,
      stream: route.streams && body.stream === true,
      mode: { delayMs: chunkDelay(req), stall: false },
      chunks,
      chunkChars: Math.floor(Math.min(positiveHeader(req, 'x-mock-chunk-chars'), 1 << 20)),
    };

    const fault = parseFault(model);
    if (!fault) {
      run(route, ctx);
      return;
    }
    switch (fault.kind) {
      case 'hangup':
        req.socket.destroy();
        return;
      case 'error':
        sendError(
          res,
          provider,
          fault.status,
          headers,
          `Injected ${fault.status} error from the mock upstream (model ${model}).`,
        );
        return;
      case 'stall':
        if (ctx.stream) {
          ctx.mode.stall = true;
          run(route, ctx);
        } else {
          res.writeHead(200, { ...headers, 'content-type': 'application/json' });
          res.flushHeaders();
        }
        return;
      case 'slow': {
        const timer = setTimeout(() => {
          if (!res.destroyed) run(route, ctx);
        }, fault.ms);
        res.once('close', () => clearTimeout(timer));
        return;
      }
    }
  };

  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const first = parts[0];
      const raw = first === undefined ? '' : parts.length === 1 ? first.toString() : Buffer.concat(parts).toString();
      handle(req, res, raw);
    });
  });
  // Longer than typical client/proxy idle timeouts, so the client side always closes first
  // and pooled connections are never reset underneath an in-flight request.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    requests,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
