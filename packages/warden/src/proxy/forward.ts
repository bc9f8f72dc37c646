import type { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { WardenError } from '../errors/index.js';
import type { EventDraft } from '../events/index.js';
import { addDetail } from '../events/index.js';
import type { PriceTable } from './pricing.js';
import { type ApiFamily, type Provider, type ProviderRouter, upstreamPath } from './providers.js';
import { SseUsageReader, usageFromBody, type Usage, type UsageFormat } from './usage.js';

export interface ProxyRoute {
  path: string;
  family: ApiFamily;
  format: UsageFormat;
}

export const PROXY_ROUTES: readonly ProxyRoute[] = [
  { path: '/v1/chat/completions', family: 'openai', format: 'chat' },
  { path: '/v1/responses', family: 'openai', format: 'responses' },
  { path: '/v1/embeddings', family: 'openai', format: 'embeddings' },
  { path: '/v1/messages', family: 'anthropic', format: 'messages' },
];

export interface ForwardInput {
  route: ProxyRoute;
  provider: Provider;
  model: string;
  body: Record<string, unknown>;
  rawBody: Buffer;
  headers: IncomingHttpHeaders;
  requestId: string;
  traceparent: string | null;
  /** process.hrtime.bigint() when the request arrived. */
  startedAt: bigint;
  /** Emits 'abort' when the client goes away (undici accepts an emitter or an AbortSignal). */
  signal: AbortSignal | EventEmitter;
}

export interface ForwardResult {
  status: number;
  headers: Record<string, string | string[]>;
  /** A whole JSON body, or a stream (SSE, or a body too large to hold). */
  body: Buffer | Readable;
}

/** RFC 9110 §7.6.1 hop-by-hop fields, plus what Warden replaces or must not pass on. */
const DROP_REQUEST = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host',
  'content-length', 'proxy-authorization', 'authorization', 'x-api-key', 'cookie', 'accept-encoding',
  'x-request-id', 'traceparent', 'x-warden-user-id', 'x-warden-agent-id', 'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip',
]);
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'x-request-id']);
/** Largest non-streamed body (by content-length) Warden reads whole to take usage from; larger ones stream through. */
const MAX_USAGE_BODY = 32 * 1024 * 1024;

const msSince = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

/**
 * Forwards one LLM call to its provider and hands back what the provider
 * said, unchanged, with usage, cost and timings recorded on the draft as the
 * body passes through.
 */
export class LlmForwarder {
  constructor(
    private readonly router: ProviderRouter,
    private readonly prices: PriceTable,
  ) {}

  route(family: ApiFamily, model: string): Provider | undefined {
    return this.router.route(family, model);
  }

  async forward(input: ForwardInput, draft: EventDraft): Promise<ForwardResult> {
    const { provider, route } = input;
    const streaming = input.body.stream === true;
    const injectUsage = streaming && route.format === 'chat' && !clientAskedForUsage(input.body);
    const payload = injectUsage
      ? Buffer.from(JSON.stringify({ ...input.body, stream_options: { ...asObject(input.body.stream_options), include_usage: true } }))
      : input.rawBody;
    if (injectUsage) addDetail(draft, { usage_injected: true });

    const sentAt = process.hrtime.bigint();
    let res;
    try {
      res = await provider.pool.request({
        path: upstreamPath(provider, route.path),
        method: 'POST',
        headers: upstreamHeaders(input, provider, payload.length),
        body: payload,
        signal: input.signal,
      });
    } catch (err) {
      throw this.failure(err, draft);
    }
    const isSse = String(res.headers['content-type'] ?? '').startsWith('text/event-stream');
    const headers = clientHeaders(res.headers, injectUsage && isSse);
    if (!isSse && !(Number(res.headers['content-length']) > MAX_USAGE_BODY)) {
      // Read whole: usage is in the body anyway, the client gets headers and
      // body in one write, and a failure mid-body can still become a 502/504.
      let body: Buffer;
      try {
        body = Buffer.from(await res.body.arrayBuffer());
      } catch (err) {
        throw this.failure(err, draft);
      }
      draft.upstreamMs = msSince(sentAt);
      this.account(input.model, usageFromBody(route.format, parseJson(body)), draft);
      return { status: res.statusCode, headers, body };
    }
    const tap = this.tap(route.format, isSse, injectUsage && isSse, input, sentAt, draft);
    res.body.on('error', (err) => {
      draft.errorType = 'upstream';
      draft.errorCode = isTimeout(err) ? 'upstream_timeout' : 'upstream_bad_response';
      addDetail(draft, { upstream_error: errorCodeOf(err) ?? 'stream_error' });
      tap.destroy(err);
    });
    return { status: res.statusCode, headers, body: res.body.pipe(tap) };
  }

  /**
   * Copies a streamed body through: SSE, reading usage and time to first
   * chunk as it passes; or a non-SSE body too large to hold, passed on
   * without reading usage.
   */
  private tap(format: UsageFormat, isSse: boolean, strip: boolean, input: ForwardInput, sentAt: bigint, draft: EventDraft): Transform {
    const reader = isSse ? new SseUsageReader(format, strip) : null;
    const finish = (usage: Usage): void => {
      draft.upstreamMs = msSince(sentAt);
      this.account(input.model, usage, draft);
    };
    return new Transform({
      transform(chunk: Buffer, _enc, cb) {
        if (reader) {
          if (draft.ttftMs === null) draft.ttftMs = msSince(input.startedAt);
          const out = reader.push(chunk);
          cb(null, out.length ? out : undefined);
          return;
        }
        cb(null, chunk);
      },
      flush(cb) {
        if (reader) {
          const rest = reader.end();
          finish(reader.usage);
          cb(null, rest.length ? rest : undefined);
          return;
        }
        finish({ tokensIn: null, tokensOut: null });
        cb();
      },
    });
  }

  private account(model: string, usage: Usage, draft: EventDraft): void {
    draft.tokensIn = usage.tokensIn;
    draft.tokensOut = usage.tokensOut;
    if (usage.tokensIn !== null || usage.tokensOut !== null) {
      draft.costUsd = this.prices.cost(model, usage.tokensIn ?? 0, usage.tokensOut ?? 0);
    }
  }

  private failure(err: unknown, draft: EventDraft): WardenError {
    const code = errorCodeOf(err);
    draft.errorType = 'upstream';
    if ((err as Error)?.name === 'AbortError' || code === 'UND_ERR_ABORTED') {
      draft.errorCode = 'client_closed';
      return new WardenError('upstream_unreachable', 'The client closed the request.');
    }
    addDetail(draft, { upstream_error: code ?? 'unknown' });
    const e = isTimeout(err) ? new WardenError('upstream_timeout') : isUnreachable(code) ? new WardenError('upstream_unreachable') : new WardenError('upstream_bad_response');
    draft.errorCode = e.code;
    return e;
  }
}

/** JSON body or null (an HTML error page, say, has no usage to read). */
function parseJson(b: Buffer): unknown {
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    return null;
  }
}

function asObject(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function clientAskedForUsage(body: Record<string, unknown>): boolean {
  return asObject(body.stream_options).include_usage === true;
}

function upstreamHeaders(input: ForwardInput, p: Provider, length: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.headers)) {
    if (v === undefined || DROP_REQUEST.has(k)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  out['content-type'] = 'application/json';
  out['content-length'] = String(length);
  out['x-request-id'] = input.requestId;
  if (input.traceparent) out.traceparent = input.traceparent;
  if (p.family === 'anthropic') {
    if (p.apiKey) out['x-api-key'] = p.apiKey;
    out['anthropic-version'] ??= '2023-06-01';
  } else if (p.apiKey) {
    out.authorization = `Bearer ${p.apiKey}`;
  }
  return out;
}

function clientHeaders(h: IncomingHttpHeaders, rewritten: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || DROP_RESPONSE.has(k)) continue;
    if (rewritten && k === 'content-length') continue;
    out[k] = v;
  }
  // Keep the provider's own request id (people quote it to provider support) under another name.
  const upstreamId = h['x-request-id'];
  if (upstreamId !== undefined) out['x-upstream-request-id'] = upstreamId;
  return out;
}

function errorCodeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const c = e?.code ?? e?.cause?.code;
  return typeof c === 'string' ? c : undefined;
}

function isTimeout(err: unknown): boolean {
  const c = errorCodeOf(err);
  return c === 'UND_ERR_HEADERS_TIMEOUT' || c === 'UND_ERR_BODY_TIMEOUT' || c === 'UND_ERR_CONNECT_TIMEOUT' || c === 'ETIMEDOUT';
}

function isUnreachable(code: string | undefined): boolean {
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH';
}
