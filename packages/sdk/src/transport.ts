import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { parseRetryAfter } from './backoff.js';
import { signRequest, type SigningCredentials } from './signing.js';
import type { CreateRunBody, FinalStatus } from './types.js';

const gzip = promisify(gzipCallback);

/** One unit of delivery, in the order it must reach Warden. */
export type Op =
  | { kind: 'create_run'; run: CreateRunBody }
  /** Each event already serialised, so a batch's size is known and its body is built by joining. */
  | { kind: 'events'; events: string[] }
  | { kind: 'finalize_run'; runId: string; status: FinalStatus };

/** What one attempt came to. */
export type Outcome =
  | { kind: 'ok'; status: number; body: unknown }
  /** Worth trying again: no answer, 408, 429 or 5xx. */
  | { kind: 'retry'; status?: number; retryAfterMs?: number; reason: string }
  | { kind: 'too_large' }
  /** Warden answered and will answer the same again: not retried. */
  | { kind: 'refused'; status: number; serverCode?: string; message: string }
  /** close() gave up waiting. */
  | { kind: 'aborted' };

/** A request ready to send: the body is built and compressed once; each attempt signs afresh. */
export interface Prepared {
  target: string;
  url: string;
  body: Buffer;
  gzipped: boolean;
}

export type Auth = { apiKey: string } | { signing: SigningCredentials };

export interface TransportOptions {
  url: string;
  auth: Auth;
  /** Bodies at least this large are gzipped; null never. */
  gzipMinBytes: number | null;
  requestTimeoutMs: number;
  fetch: typeof fetch;
}

export function eventsBody(events: readonly string[]): string {
  return `{"events":[${events.join(',')}]}`;
}

function route(op: Op): { path: string; json: string } {
  switch (op.kind) {
    case 'create_run':
      return { path: '/api/v1/runs', json: JSON.stringify(op.run) };
    case 'events':
      return { path: '/api/v1/trace-events/batch', json: eventsBody(op.events) };
    case 'finalize_run':
      return { path: `/api/v1/runs/${encodeURIComponent(op.runId)}/finalize`, json: JSON.stringify({ status: op.status }) };
  }
}

/** The HTTP edge: builds, compresses, authenticates and sends one request, and sorts the answer. */
export class Transport {
  private readonly origin: string;
  private readonly prefix: string;

  constructor(private readonly opts: TransportOptions) {
    const base = new URL(opts.url);
    this.origin = base.origin;
    // A Warden behind a path prefix (https://host/warden) keeps it on every route.
    this.prefix = base.pathname.replace(/\/+$/, '');
  }

  async prepare(op: Op): Promise<Prepared> {
    const { path, json } = route(op);
    const u = new URL(this.prefix + path, this.origin);
    const raw = Buffer.from(json, 'utf8');
    const compress = this.opts.gzipMinBytes !== null && raw.length >= this.opts.gzipMinBytes;
    return { target: u.pathname + u.search, url: u.toString(), body: compress ? await gzip(raw) : raw, gzipped: compress };
  }

  async send(p: Prepared, stop: AbortSignal): Promise<Outcome> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (p.gzipped) headers['content-encoding'] = 'gzip';
    if ('apiKey' in this.opts.auth) headers.authorization = `Bearer ${this.opts.auth.apiKey}`;
    // A fresh timestamp and nonce every attempt: a retry must not look like a replay.
    else Object.assign(headers, signRequest({ ...this.opts.auth.signing, method: 'POST', path: p.target, body: p.body }));
    let res: Response;
    let text: string;
    try {
      res = await this.opts.fetch(p.url, { method: 'POST', headers, body: p.body, signal: AbortSignal.any([stop, AbortSignal.timeout(this.opts.requestTimeoutMs)]) });
      text = await res.text();
    } catch (err) {
      if (stop.aborted) return { kind: 'aborted' };
      return { kind: 'retry', reason: (err as Error).message };
    }
    return classify(res, text);
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function classify(res: Response, text: string): Outcome {
  const body = parse(text);
  if (res.status >= 200 && res.status < 300) return { kind: 'ok', status: res.status, body };
  if (res.status === 413) return { kind: 'too_large' };
  const envelope = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const reason = envelope?.message ?? `HTTP ${res.status}`;
  // 408 and 429 are about timing, 5xx about the server: the same request may succeed later (RFC 9110 §15.5.9, §15.6; RFC 6585 §4).
  if (res.status === 408 || res.status === 429 || res.status >= 500) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    return { kind: 'retry', status: res.status, reason, ...(retryAfterMs !== undefined && { retryAfterMs }) };
  }
  return { kind: 'refused', status: res.status, message: reason, ...(envelope?.code !== undefined && { serverCode: envelope.code }) };
}
