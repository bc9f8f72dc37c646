import { randomBytes } from 'node:crypto';
import { MAX_TIMER_MS } from './backoff.js';
import { WardenSdkError } from './errors.js';
import { DeliveryPipeline, type PipelineStats } from './pipeline.js';
import { Run } from './run.js';
import { KEY_ID, type SigningCredentials } from './signing.js';
import { Transport, type Auth } from './transport.js';
import type { CreateRunBody, EventRejection, FinalStatus, TraceEvent, WardenRun } from './types.js';

export interface WardenClientOptions {
  /** Warden's base URL, e.g. `https://warden.example.com` (a path prefix is kept). */
  url: string;
  /** A bearer API key with `runs:write`. Give this or `signing`. */
  apiKey?: string;
  /** Sign every request with HMAC (docs/hmac-signing.md) instead of sending a key. */
  signing?: SigningCredentials;
  /** Recorded as `meta.agent_id` on every event. Default: the run's `agent`. */
  agentId?: string;
  /** Events per batch request (1–1000). Default 100. */
  maxBatchEvents?: number;
  /** Uncompressed bytes per batch body; keep it under the server's `server.body_limit_bytes`. Default 262144 (256 KiB). */
  maxBatchBytes?: number;
  /** A batch is sent at the latest this long after its first event. Default 1000. */
  flushIntervalMs?: number;
  /** Gzip request bodies of at least `minBytes` (default 1024). Default true. */
  gzip?: boolean | { minBytes?: number };
  /**
   * Default { maxAttempts: 5, baseMs: 200, maxMs: 10000, maxRetryAfterMs: 300000 }.
   * A Retry-After is honoured up to maxRetryAfterMs; one longer than maxMs
   * opens the circuit for that long instead of being slept on.
   */
  retry?: { maxAttempts?: number; baseMs?: number; maxMs?: number; maxRetryAfterMs?: number };
  /** Default { failureThreshold: 5, cooldownMs: 10000 }. */
  circuit?: { failureThreshold?: number; cooldownMs?: number };
  /** One attempt's time limit. Default 10000. */
  requestTimeoutMs?: number;
  /** Keep undeliverable batches here, durably, and replay them later. Default: none (memory only). */
  spoolDir?: string;
  /** The spool's size cap in bytes. Default 104857600 (100 MiB). */
  maxSpoolBytes?: number;
  /** Events waiting in memory before new ones are dropped (or, with a spool, moved to disk). Default 10000. */
  maxQueuedEvents?: number;
  /** How long close() waits to deliver before spooling what is left. Default 10000. */
  closeTimeoutMs?: number;
  /** Told of what was not delivered and will not be retried. Default: process.emitWarning. */
  onError?: (err: WardenSdkError) => void;
  /** Told of events Warden refused one by one (207). Default: process.emitWarning. */
  onRejected?: (rejections: EventRejection[]) => void;
  /** The fetch to use. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Jitter's random source, in [0, 1). Default Math.random; for tests. */
  random?: () => number;
}

export interface StartRunOptions {
  agent: string;
  /** Default `run_` and 24 random characters, made here so a run can start while Warden is away. */
  id?: string;
  scenario?: string;
  seed?: string | number;
  metadata?: Record<string, unknown>;
}

export type ClientStats = PipelineStats;

const RUN_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
/** What an Authorization header can carry: visible ASCII, no spaces (RFC 6750 §2.1 is stricter still). */
const API_KEY = /^[\x21-\x7e]+$/;

function positive(name: string, v: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return fallback;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new TypeError(`WardenClient option ${name} must be an integer from 1 to ${max}; got ${String(v)}.`);
  return v;
}

/** A delay or time limit: setTimeout takes no more than MAX_TIMER_MS (a longer one fires after 1 ms). */
function duration(name: string, v: number | undefined, fallback: number): number {
  return positive(name, v, fallback, MAX_TIMER_MS);
}

/**
 * Checked here, so a bad credential fails at start naming the option,
 * rather than at every request as something else (a network error, a
 * spool error).
 */
function authOf(o: WardenClientOptions): Auth {
  if (o.apiKey !== undefined && o.signing !== undefined) throw new TypeError('WardenClient takes apiKey or signing, not both.');
  if (o.apiKey !== undefined) {
    if (typeof o.apiKey !== 'string' || !API_KEY.test(o.apiKey)) throw new TypeError('WardenClient option apiKey must be the key as Warden gave it: visible ASCII characters, no spaces.');
    return { apiKey: o.apiKey };
  }
  if (o.signing === undefined || o.signing === null) throw new TypeError('WardenClient needs apiKey, or signing: { keyId, secret }.');
  const { keyId, secret } = o.signing as Partial<SigningCredentials>;
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) {
    const got = typeof keyId === 'string' ? JSON.stringify(keyId.length > 40 ? `${keyId.slice(0, 40)}…` : keyId) : String(keyId);
    throw new TypeError(`WardenClient option signing.keyId must be the signing key's id (sk_…), 1–128 characters of A-Z a-z 0-9 _ -; got ${got}.`);
  }
  // Never echoed: it is the secret.
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('WardenClient option signing.secret must be the secret Warden showed when the signing key was made, a non-empty string.');
  return { signing: { keyId, secret } };
}

function gzipMinBytes(g: WardenClientOptions['gzip']): number | null {
  if (g === false) return null;
  if (g === undefined || g === true) return 1024;
  return g.minBytes === undefined ? 1024 : Math.max(0, g.minBytes);
}

function warn(err: WardenSdkError): void {
  process.emitWarning(err.message, { code: `WARDEN_SDK_${err.code.toUpperCase()}` });
}

/**
 * The client: start runs, record their events, and let it deliver them.
 * Delivery is at least once (retried, and spooled to disk when a spoolDir
 * is set); each event's idempotency key makes it stored exactly once.
 */
export class WardenClient {
  private readonly pipeline: DeliveryPipeline;
  private readonly agentId: string | undefined;
  private readonly closeTimeoutMs: number;
  private readonly onError: (err: WardenSdkError) => void;

  constructor(options: WardenClientOptions) {
    if (!options || typeof options.url !== 'string') throw new TypeError('WardenClient option url is required.');
    try {
      new URL(options.url);
    } catch {
      throw new TypeError(`WardenClient option url is not a URL: ${options.url}`);
    }
    const onError = options.onError ?? warn;
    // A callback that throws must not stop delivery.
    this.onError = (err) => {
      try {
        onError(err);
      } catch {
        /* the caller's handler failed; nothing better to do with it */
      }
    };
    const onRejected = options.onRejected ?? ((r) => warn(new WardenSdkError('refused', `Warden refused ${r.length} event(s): ${r.map((x) => `${x.event.meta.idempotency_key} ${x.code}`).join(', ')}`)));
    this.agentId = options.agentId;
    this.closeTimeoutMs = duration('closeTimeoutMs', options.closeTimeoutMs, 10_000);
    const transport = new Transport({ url: options.url, auth: authOf(options), gzipMinBytes: gzipMinBytes(options.gzip), requestTimeoutMs: duration('requestTimeoutMs', options.requestTimeoutMs, 10_000), fetch: options.fetch ?? fetch });
    this.pipeline = new DeliveryPipeline({
      transport,
      maxBatchEvents: positive('maxBatchEvents', options.maxBatchEvents, 100, 1000),
      maxBatchBytes: positive('maxBatchBytes', options.maxBatchBytes, 256 * 1024),
      flushIntervalMs: duration('flushIntervalMs', options.flushIntervalMs, 1000),
      retry: {
        maxAttempts: positive('retry.maxAttempts', options.retry?.maxAttempts, 5),
        baseMs: duration('retry.baseMs', options.retry?.baseMs, 200),
        maxMs: duration('retry.maxMs', options.retry?.maxMs, 10_000),
        maxRetryAfterMs: duration('retry.maxRetryAfterMs', options.retry?.maxRetryAfterMs, 300_000),
      },
      circuit: { failureThreshold: positive('circuit.failureThreshold', options.circuit?.failureThreshold, 5), cooldownMs: duration('circuit.cooldownMs', options.circuit?.cooldownMs, 10_000) },
      spoolDir: options.spoolDir,
      maxSpoolBytes: positive('maxSpoolBytes', options.maxSpoolBytes, 100 * 1024 * 1024),
      maxQueuedEvents: positive('maxQueuedEvents', options.maxQueuedEvents, 10_000),
      report: this.onError,
      onRejected: (r) => {
        try {
          onRejected(r);
        } catch {
          /* as above */
        }
      },
      ...(options.random && { random: options.random }),
    });
  }

  /**
   * Start a run. It is returned at once; its create goes through the same
   * ordered queue ahead of its events, so recording works while Warden is away.
   */
  startRun(options: StartRunOptions): Run {
    if (typeof options?.agent !== 'string' || options.agent.length === 0 || options.agent.length > 200) throw new TypeError('startRun needs agent: a name of 1–200 characters.');
    const id = options.id ?? `run_${randomBytes(18).toString('base64url')}`;
    if (!RUN_ID.test(id)) throw new TypeError(`startRun id must be 1–128 of A-Za-z0-9_.:- ; got ${JSON.stringify(id)}.`);
    const run: CreateRunBody = { id, agent: options.agent };
    if (options.scenario !== undefined) run.scenario = options.scenario;
    if (options.seed !== undefined) run.seed = options.seed;
    if (options.metadata !== undefined) run.metadata = options.metadata;
    this.pipeline.enqueue({ kind: 'create_run', run });
    return new Run({ record: (e) => this.record(e), finalize: (runId, status) => this.finalize(runId, status) }, id, options.agent, this.agentId ?? options.agent);
  }

  /** Resolves once everything recorded so far is delivered, or spooled (or held) while Warden is away; during or after close(), when close() does. */
  flush(): Promise<void> {
    return this.pipeline.flush();
  }

  /**
   * Deliver everything, waiting at most `timeoutMs` (default the
   * closeTimeoutMs option); what is left goes to the spool, or is reported
   * lost through onError when there is none. Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    return this.pipeline.close(options.timeoutMs ?? this.closeTimeoutMs);
  }

  stats(): ClientStats {
    return this.pipeline.stats();
  }

  private record(event: TraceEvent): void {
    let json: string;
    try {
      json = JSON.stringify(event);
    } catch (err) {
      this.onError(new WardenSdkError('unserializable_event', `Event ${event.meta.idempotency_key} (${event.type}) could not be serialised: ${(err as Error).message}. It was dropped.`, { operation: 'events', events: 1, cause: err }));
      return;
    }
    this.pipeline.addEvent(json);
  }

  private async finalize(runId: string, status: FinalStatus): Promise<WardenRun | null> {
    const entry = this.pipeline.enqueue({ kind: 'finalize_run', runId, status });
    await entry.settled();
    return entry.state === 'acked' ? (entry.result as WardenRun) : null;
  }
}
