import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';

/** What the provider answered, ready for the client. */
export interface UpstreamAnswer {
  status: number;
  /** Flat [name, value, name, value, …] for the client: the provider's fields less hop-by-hop ones. */
  headers: string[];
  /** The whole body of a non-streamed answer; null when the body streams (see `pipe`). */
  body: Buffer | null;
  /** Start copying a streamed body to the client, after its status and headers were written. */
  pipe(res: ServerResponse): void;
}

/** Per-exchange callbacks: how to read the answer as it passes, and what to do when it ends. */
export interface UpstreamObserver {
  /** Called with the provider's status and content type; returns how the body passes through. */
  classify(status: number, contentType: string, contentLength: number): BodyTransform | null;
  /** Headers for the client from the provider's raw header list. */
  clientHeaders(raw: Buffer[], rewritten: boolean): string[];
  /** The whole body arrived (buffered answers: before the client sees anything). */
  bufferedEnd(body: Buffer): void;
  /** A streamed body ended normally. */
  streamEnd(): void;
  /** The exchange failed: before the answer (reject) or while streaming (`streaming` true). */
  failed(err: Error, streaming: boolean): void;
}

/** Rewrites or watches a streamed body chunk by chunk. */
export interface BodyTransform {
  /** Whether the transform may change bytes (then content-length is dropped). */
  readonly rewrites: boolean;
  push(chunk: Buffer): Buffer;
  end(): Buffer;
  /** First chunk seen (time to first token). */
  onFirstChunk?(): void;
}

const CONTENT_TYPE = 'content-type';
const CONTENT_LENGTH = 'content-length';

/**
 * One proxied exchange, as an undici dispatch handler. It avoids the
 * Readable stream, promise chain and parsed-header object that
 * `pool.request()` builds per call: a non-streamed body is gathered into one
 * Buffer and written to the client in one go, and a streamed body is copied
 * to the client socket chunk by chunk with backpressure (undici's socket is
 * paused while the client is slow).
 */
export class UpstreamCall implements Dispatcher.DispatchHandler {
  readonly answer: Promise<UpstreamAnswer>;
  private resolveAnswer!: (a: UpstreamAnswer) => void;
  private rejectAnswer!: (e: Error) => void;
  private abortFn: ((err?: Error) => void) | null = null;
  private aborted = false;
  private settled = false;
  private status = 0;
  private headers: string[] = [];
  private chunks: Buffer[] = [];
  private transform: BodyTransform | null = null;
  private streaming = false;
  private sink: ServerResponse | null = null;
  private resumeFn: (() => void) | null = null;
  private ended = false;
  private error: Error | null = null;
  private firstChunk = true;

  constructor(private readonly observer: UpstreamObserver) {
    this.answer = new Promise<UpstreamAnswer>((resolve, reject) => {
      this.resolveAnswer = resolve;
      this.rejectAnswer = reject;
    });
  }

  /** The client went away: stop the upstream exchange. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const err = Object.assign(new Error('the client closed the request'), { name: 'AbortError', code: 'UND_ERR_ABORTED' });
    if (this.abortFn) this.abortFn(err);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.aborted) abort(Object.assign(new Error('the client closed the request'), { name: 'AbortError', code: 'UND_ERR_ABORTED' }));
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void): boolean {
    // 1xx informational answers are not the response (RFC 9110 §15.2); undici passes them on.
    if (status < 200) return true;
    this.status = status;
    this.resumeFn = resume;
    let contentType = '';
    let contentLength = -1;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.length === 12 && name.toString('latin1').toLowerCase() === CONTENT_TYPE) contentType = raw[i + 1]!.toString('latin1');
      else if (name.length === 14 && name.toString('latin1').toLowerCase() === CONTENT_LENGTH) contentLength = Number(raw[i + 1]!.toString('latin1'));
    }
    const transform = this.observer.classify(status, contentType, contentLength);
    this.transform = transform;
    this.headers = this.observer.clientHeaders(raw, transform?.rewrites === true);
    if (transform) {
      this.streaming = true;
      this.settle(() => this.resolveAnswer({ status, headers: this.headers, body: null, pipe: (res) => this.attach(res) }));
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (!this.streaming) {
      this.chunks.push(chunk);
      return true;
    }
    const t = this.transform!;
    if (this.firstChunk) {
      this.firstChunk = false;
      t.onFirstChunk?.();
    }
    const out = t.push(chunk);
    if (out.length === 0) return true;
    if (!this.sink) {
      this.chunks.push(out);
      return true;
    }
    return this.sink.write(out);
  }

  onComplete(): void {
    if (!this.streaming) {
      const c = this.chunks;
      const body = c.length === 1 ? c[0]! : Buffer.concat(c);
      this.chunks = [];
      this.observer.bufferedEnd(body);
      const headers = this.headers;
      const status = this.status;
      this.settle(() => this.resolveAnswer({ status, headers, body, pipe: () => undefined }));
      return;
    }
    const rest = this.transform!.end();
    if (rest.length) this.chunks.push(rest);
    this.ended = true;
    this.observer.streamEnd();
    if (this.sink) this.finish(this.sink);
  }

  onError(err: Error): void {
    if (!this.settled) {
      this.observer.failed(err, false);
      this.settle(() => this.rejectAnswer(err));
      return;
    }
    if (!this.streaming) return;
    this.observer.failed(err, true);
    this.ended = true;
    this.error = err;
    // Mid-stream the status line is gone: cut the client's response so it sees an incomplete body, not a clean end.
    this.sink?.destroy(err);
    this.chunks = [];
  }

  private settle(f: () => void): void {
    if (this.settled) return;
    this.settled = true;
    f();
  }

  private attach(res: ServerResponse): void {
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

  private finish(res: ServerResponse): void {
    for (const c of this.chunks) res.write(c);
    this.chunks = [];
    res.end();
  }
}
