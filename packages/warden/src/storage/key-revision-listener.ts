import pg from 'pg';

export const KEYS_CHANNEL = 'warden_keys';

/** pino's Logger fits this; storage has no logger of its own. */
export interface StorageLogger {
  warn(obj: object, msg: string): void;
}

export interface KeyRevisionListenerOptions {
  connectionString: string;
  /** Reads the current revision from the database. */
  read: () => Promise<number>;
  log?: StorageLogger | undefined;
  /** Safety-net poll, for a NOTIFY lost while the listener was reconnecting. */
  pollMs?: number;
}

const MAX_BACKOFF_MS = 10_000;

/**
 * Keeps the keys revision in memory so the per-request check costs nothing.
 * One dedicated connection runs LISTEN; a 1 s poll and a read on every
 * (re)connect cover notifications missed while it was down. A lost
 * connection is retried with capped exponential backoff and never surfaces
 * as an unhandled 'error' event.
 */
export class KeyRevisionListener {
  readonly #opts: KeyRevisionListenerOptions;
  #revision: number | undefined;
  #client: pg.Client | undefined;
  #attempt = 0;
  #started = false;
  #closed = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(opts: KeyRevisionListenerOptions) {
    this.#opts = opts;
  }

  /** The cached revision, or undefined before the first successful read. */
  get current(): number | undefined {
    return this.#revision;
  }

  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#pollTimer = setInterval(() => void this.refresh().catch(() => undefined), this.#opts.pollMs ?? 1000);
    this.#pollTimer.unref();
    void this.#connect();
  }

  /**
   * Revisions only grow, so keeping the maximum makes out-of-order answers
   * (a slow poll landing after a newer NOTIFY) harmless.
   */
  observe(value: number): void {
    if (this.#revision === undefined || value > this.#revision) this.#revision = value;
  }

  async refresh(): Promise<number> {
    this.observe(await this.#opts.read());
    return this.#revision as number;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#pollTimer);
    clearTimeout(this.#retryTimer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#opts.connectionString,
      application_name: 'warden-keys-listener',
    });
    this.#client = client;
    client.on('error', (err) => this.#lost(client, err));
    client.on('end', () => this.#lost(client, undefined));
    client.on('notification', (msg) => {
      const value = Number(msg.payload);
      if (msg.payload !== undefined && msg.payload !== '' && Number.isSafeInteger(value)) this.observe(value);
      else void this.refresh().catch(() => undefined);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${KEYS_CHANNEL}`);
    } catch (err) {
      this.#lost(client, err);
      return;
    }
    if (this.#client !== client) return;
    this.#attempt = 0;
    await this.refresh().catch(() => undefined);
  }

  #lost(client: pg.Client, err: unknown): void {
    // 'error' and 'end' both arrive for one failure; act once, and ignore
    // clients already replaced or closed. The 'error' listener stays attached
    // so a late error on the dead client is still handled.
    if (this.#client !== client) return;
    this.#client = undefined;
    void client.end().catch(() => undefined);
    if (this.#closed) return;
    const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.#attempt) * (0.5 + Math.random() / 2);
    this.#attempt++;
    this.#opts.log?.warn(
      { err, retryInMs: Math.round(delay) },
      'storage: keys LISTEN connection lost; key changes are picked up by polling until it reconnects',
    );
    this.#retryTimer = setTimeout(() => void this.#connect(), delay);
    this.#retryTimer.unref();
  }
}
