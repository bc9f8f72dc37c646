import type { IncomingHttpHeaders } from 'node:http';
import { WardenError } from '../errors/index.js';
import type { EventDraft } from '../events/index.js';
import { addDetail } from '../events/index.js';
import { type AnswerGuard, StreamAnswerGuard } from './answer-guard.js';
import { topLevelUsage } from './usage-scan.js';
import type { PriceTable } from './pricing.js';
import { type ApiFamily, type Provider, type ProviderRouter, upstreamPath } from './providers.js';
import { type BodyTransform, UpstreamCall, type UpstreamOutcome } from './upstream-call.js';
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
  /** Registers what to do if the client goes away before the answer is complete. */
  onAbort(cancel: () => void): void;
  /** Guardrails on the answer (null: answers pass unread). */
  answers: AnswerGuard | null;
}

/** RFC 9110 §7.6.1 hop-by-hop fields, plus what Warden replaces or must not pass on. */
const DROP_REQUEST = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host',
  'content-length', 'proxy-authorization', 'authorization', 'x-api-key', 'cookie', 'accept-encoding',
  'x-request-id', 'traceparent', 'x-warden-user-id', 'x-warden-agent-id',
  // HMAC request signing (identity/hmac.ts): credentials for Warden, not the provider.
  'x-warden-key-id', 'x-warden-timestamp', 'x-warden-nonce', 'x-warden-signature', 'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip',
]);
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'x-request-id']);
/** Largest non-streamed body (by content-length) Warden reads whole to take usage from; larger ones stream through. */
const MAX_USAGE_BODY = 32 * 1024 * 1024;

const msSince = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

/** A streamed body that is copied as it is, without reading usage (too large to hold). */
const PASS_THROUGH: BodyTransform = { rewrites: false, push: (c) => c, end: () => EMPTY };
const EMPTY = Buffer.alloc(0);

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

  /**
   * Sends the call upstream and reports to `outcome` once: with the answer
   * when it can be written to the client (at its headers for a stream, at
   * its last byte otherwise, so a failure mid-body can still become a
   * 502/504), or with a catalogue error.
   */
  forward(input: ForwardInput, draft: EventDraft, outcome: UpstreamOutcome): void {
    const { provider, route } = input;
    const streaming = input.body.stream === true;
    const injectUsage = streaming && route.format === 'chat' && !clientAskedForUsage(input.body);
    const payload = injectUsage
      ? Buffer.from(JSON.stringify({ ...input.body, stream_options: { ...asObject(input.body.stream_options), include_usage: true } }))
      : input.rawBody;
    if (injectUsage) addDetail(draft, { usage_injected: true });
    const call = new LlmExchange(this, input, draft, injectUsage, outcome);
    input.onAbort(() => call.abort());
    provider.pool.dispatch(
      { origin: provider.origin, path: upstreamPath(provider, route.path), method: 'POST', headers: upstreamHeaders(input, provider, payload.length), body: payload },
      call,
    );
  }

  /** Tokens and cost onto the draft. */
  account(model: string, usage: Usage, draft: EventDraft): void {
    draft.tokensIn = usage.tokensIn;
    draft.tokensOut = usage.tokensOut;
    if (usage.tokensIn !== null || usage.tokensOut !== null) {
      draft.costUsd = this.prices.cost(model, usage.tokensIn ?? 0, usage.tokensOut ?? 0);
    }
  }
}

/** One LLM call in flight: reads usage and timings off the answer as it passes, onto the event draft. */
class LlmExchange extends UpstreamCall {
  private readonly sentAt = process.hrtime.bigint();
  private reader: SseUsageReader | null = null;

  constructor(
    private readonly forwarder: LlmForwarder,
    private readonly input: ForwardInput,
    private readonly draft: EventDraft,
    /** Warden asked the upstream for usage the client did not ask for: strip it again. */
    private readonly strip: boolean,
    outcome: UpstreamOutcome,
  ) {
    super(outcome);
  }

  /** The client went away: what the stream produced so far is what the call used (an estimate; the provider never reports it). */
  override abort(): void {
    this.estimateUsage();
    super.abort();
  }

  /** A guardrail cut the stream: charged like a client that went away. */
  protected cutShort(): void {
    this.estimateUsage();
    this.draft.upstreamMs = msSince(this.sentAt);
  }

  private estimateUsage(): void {
    const r = this.reader;
    if (r && this.draft.tokensOut === null) {
      this.draft.tokensOut = r.usage.tokensOut ?? r.produced;
      if (r.usage.tokensIn !== null) this.draft.tokensIn = r.usage.tokensIn;
      if (this.draft.tokensIn !== null || this.draft.tokensOut !== null) this.forwarder.account(this.input.model, { tokensIn: this.draft.tokensIn, tokensOut: this.draft.tokensOut }, this.draft);
      addDetail(this.draft, { usage_estimated: true });
    }
  }

  protected classify(status: number, contentType: string, contentLength: number): BodyTransform | null {
    if (contentType.startsWith('text/event-stream')) {
      const reader = (this.reader = new SseUsageReader(this.input.route.format, this.strip));
      const answers = status < 300 ? this.input.answers : null;
      return answers ? guarded(reader, new StreamAnswerGuard(this.input.route.format, answers)) : reader;
    }
    return contentLength > MAX_USAGE_BODY ? PASS_THROUGH : null;
  }

  protected clientHeaders(raw: Buffer[], rewritten: boolean): string[] {
    return clientHeaders(raw, rewritten);
  }

  protected firstByte(): void {
    if (this.reader) this.draft.ttftMs = msSince(this.input.startedAt);
  }

  protected bufferedEnd(body: Buffer): Buffer | Error | undefined {
    const answers = this.status < 300 ? this.input.answers : null;
    const format = this.input.route.format;
    if (!answers || format === 'embeddings') {
      this.settleUsage(usageFromBody(format, topLevelUsage(body) ?? parseJson(body)));
      return undefined;
    }
    const json = parseJson(body);
    this.settleUsage(usageFromBody(format, json));
    const v = answers.guard.inspectAnswer(format, json, answers.target, answers.redactor);
    answers.report(v);
    if (v.action === 'block') return new WardenError('content_blocked', blockedMessage(v.blocked));
    return v.redacted ? Buffer.from(JSON.stringify(json)) : undefined;
  }

  protected streamEnd(): void {
    this.settleUsage(this.reader ? this.reader.usage : { tokensIn: null, tokensOut: null });
  }

  private settleUsage(usage: Usage): void {
    this.draft.upstreamMs = msSince(this.sentAt);
    this.forwarder.account(this.input.model, usage, this.draft);
  }

  protected failed(err: Error, midStream: boolean): Error {
    const draft = this.draft;
    const code = errorCodeOf(err);
    draft.errorType = 'upstream';
    if (isAbort(err, code)) {
      draft.errorCode = 'client_closed';
      return new WardenError('upstream_unreachable', 'The client closed the request.');
    }
    addDetail(draft, { upstream_error: code ?? (midStream ? 'stream_error' : 'unknown') });
    const e = isTimeout(code)
      ? new WardenError('upstream_timeout')
      : !midStream && isUnreachable(code)
        ? new WardenError('upstream_unreachable')
        : new WardenError('upstream_bad_response');
    draft.errorCode = e.code;
    return e;
  }
}
/** The usage reader, then the answer's guardrails, over one stream. */
function guarded(reader: SseUsageReader, g: StreamAnswerGuard): BodyTransform {
  return {
    rewrites: reader.rewrites || g.rewrites,
    get closed() {
      return g.closed;
    },
    push: (c) => g.push(reader.push(c)),
    end: () => {
      const last = g.push(reader.end());
      const rest = g.end();
      return last.length ? Buffer.concat([last, rest]) : rest;
    },
  };
}

/** What the client is told when a guardrail stops an answer: the finding types, never the content. */
export function blockedMessage(types: readonly string[]): string {
  return `The model's answer was blocked by a guardrail: it contains ${types.join(', ')}.`;
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

/** The provider's response fields for the client, from undici's raw [name, value, …] list. */
function clientHeaders(raw: Buffer[], rewritten: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    if (DROP_RESPONSE.has(name) || (rewritten && name === 'content-length')) {
      // Keep the provider's own request id (people quote it to provider support) under another name.
      if (name === 'x-request-id') out.push('x-upstream-request-id', raw[i + 1]!.toString('latin1'));
      continue;
    }
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  return out;
}

function errorCodeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const c = e?.code ?? e?.cause?.code;
  return typeof c === 'string' ? c : undefined;
}

function isAbort(err: unknown, code: string | undefined): boolean {
  return (err as Error)?.name === 'AbortError' || code === 'UND_ERR_ABORTED';
}

function isTimeout(c: string | undefined): boolean {
  return c === 'UND_ERR_HEADERS_TIMEOUT' || c === 'UND_ERR_BODY_TIMEOUT' || c === 'UND_ERR_CONNECT_TIMEOUT' || c === 'ETIMEDOUT';
}

function isUnreachable(code: string | undefined): boolean {
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH';
}
