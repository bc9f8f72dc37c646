import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';

/** What the provider answered, ready for the client. */
export interface UpstreamAnswer {
  readonly status: number;
  /** Flat [name, value, name, value, …] for the client: the provider's fields less hop-by-hop ones. */
  readonly headers: string[];
  /** The whole body of a non-streamed answer; null when the body streams (see `pipe`). */
  readonly body: Buffer | null;
  /** Start copying a streamed body to the client, after its status and headers were written. */
  pipe(res: ServerResponse): void;
}

/** Where the exchange reports: once, with the answer or with why there is none. */
export interface UpstreamOutcome {
  answer(a: UpstreamAnswer): void;
  fail(err: Error): void;
}

/** Rewrites or watches a streamed body chunk by chunk. */
export interface BodyTransform {
  /** Whether the transform may change bytes (then content-length is dropped). */
  readonly rewrites: boolean;
  push(chunk: Buffer): Buffer;
  end(): Buffer;
  /** Set by a transform that ended the stream itself (a guardrail blocked it): the rest of the upstream body is dropped. */
  readonly closed?: boolean;
}

function abortError(): Error {
  return Object.assign(new Error('the client closed the request'), { name: 'AbortError', code: 'UND_ERR_ABORTED' });
}

/**
 * One proxied exchange, as an undici dispatch handler. It avoids the
 * Readable stream, promise chain and parsed-header object that
 * `pool.request()` builds per call: a non-streamed body is gathered into one
 * Buffer and handed over whole, and a streamed body is copied to the client
 * socket chunk by chunk with backpressure (undici's socket is paused while
 * the client is slow). Subclasses say how to read the answer as it passes.
 */
export abstract class UpstreamCall implements Dispatcher.DispatchHandler, UpstreamAnswer {
  status = 0;
  headers: string[] = [];
  body: Buffer | null = null;
  private abortFn: ((err?: Error) => void) | null = null;
  private aborted = false;
  private settled = false;
  private chunks: Buffer[] = [];
  private transform: BodyTransform | null = null;
  private sink: ServerResponse | null = null;
  private resumeFn: (() => void) | null = null;
  private ended = false;
  private error: Error | null = null;
  private firstChunk = true;
  /** The transform ended the stream early: what the upstream still sends is discarded. */
  private stopped = false;

  constructor(private readonly outcome: UpstreamOutcome) {}

  /** How the body passes: null to gather it whole, else a transform for a stream. */
  protected abstract classify(status: number, contentType: string, contentLength: number): BodyTransform | null;
  /** Headers for the client from the provider's raw [name, value, …] list. */
  protected abstract clientHeaders(raw: Buffer[], rewritten: boolean): string[];
  /** The first chunk of a streamed body arrived (time to first token). */
  protected abstract firstByte(): void;
  /**
   * The whole body arrived (gathered answers: before the client sees anything).
   * May return a replacement body, or an error to answer with instead.
   */
  protected abstract bufferedEnd(body: Buffer): Buffer | Error | undefined;
  /** A transform ended the stream before the upstream did. */
  protected abstract cutShort(): void;
  /** A streamed body ended normally. */
  protected abstract streamEnd(): void;
  /** The exchange failed, before the answer or mid-stream; returns the error to report when there is no answer yet. */
  protected abstract failed(err: Error, midStream: boolean): Error;

  /** The client went away: stop the upstream exchange. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortFn?.(abortError());
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.aborted) abort(abortError());
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    // 1xx informational answers are not the response (RFC 9110 §15.2).
    if (status < 200) return true;
    this.status = status;
    this.resumeFn = resume;
    let contentType = '';
    let contentLength = -1;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length === 12 && name.toString('latin1').toLowerCase() === 'content-type') contentType = raw[i + 1]!.toString('latin1');
      else if (name.length === 14 && name.toString('latin1').toLowerCase() === 'content-length') contentLength = Number(raw[i + 1]!.toString('latin1'));
    }
    this.transform = this.classify(status, contentType, contentLength);
    this.headers = this.clientHeaders(raw, this.transform?.rewrites === true);
    if (this.transform) this.answered();
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.stopped) return true;
    const t = this.transform;
    if (!t) {
      this.chunks.push(chunk);
      return true;
    }
    if (this.firstChunk) {
      this.firstChunk = false;
      this.firstByte();
    }
    const out = t.push(chunk);
    if (t.closed) {
      this.stop(out);
      return true;
    }
    if (out.length === 0) return true;
    if (!this.sink) {
      this.chunks.push(out);
      return true;
    }
    return this.sink.write(out);
  }

  onComplete(): void {
    if (this.stopped) return;
    const t = this.transform;
    if (!t) {
      const c = this.chunks;
      this.body = c.length === 1 ? c[0]! : Buffer.concat(c);
      this.chunks = [];
      const replaced = this.bufferedEnd(this.body);
      if (replaced instanceof Error) {
        this.settled = true;
        this.outcome.fail(replaced);
        return;
      }
      if (replaced) this.replaceBody(replaced);
      this.answered();
      return;
    }
    const rest = t.end();
    if (rest.length) this.chunks.push(rest);
    this.ended = true;
    this.streamEnd();
    if (this.sink) this.finish(this.sink);
  }

  onError(err: Error): void {
    if (this.stopped) return;
    if (!this.settled) {
      const reported = this.failed(err, false);
      this.settled = true;
      this.outcome.fail(reported);
      return;
    }
    if (!this.transform) return;
    this.failed(err, true);
    this.ended = true;
    this.error = err;
    this.chunks = [];
    // Mid-stream the status line is gone: cut the client's response so it sees an incomplete body, not a clean end.
    this.sink?.destroy(err);
  }

  pipe(res: ServerResponse): void {
    this.sink = res;
    if (this.error) {
      res.destroy(this.error);
      return;
    }
    res.on('drain', () => this.resumeFn?.());
    if (this.ended) {
      this.finish(res);
      return;
    }
    for (const c of this.chunks) res.write(c);
    this.chunks = [];
  }

  /** The transform ended the stream: send what it gave last, end the client's response, and stop the upstream. */
  private stop(last: Buffer): void {
    this.stopped = true;
    this.ended = true;
    if (last.length) this.chunks.push(last);
    this.cutShort();
    if (this.sink) this.finish(this.sink);
    this.abortFn?.(abortError());
  }

  private replaceBody(body: Buffer): void {
    this.body = body;
    const h = this.headers;
    for (let i = 0; i < h.length; i += 2) if (h[i] === 'content-length') h[i + 1] = String(body.length);
  }

  private answered(): void {
    if (this.settled) return;
    this.settled = true;
    this.outcome.answer(this);
  }

  private finish(res: ServerResponse): void {
    for (const c of this.chunks) res.write(c);
    this.chunks = [];
    res.end();
  }
}
