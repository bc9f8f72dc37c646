import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type McpLog, StderrLog } from './stderr.js';
import { UpstreamUnavailable } from './tools.js';
import type { McpConnection } from './upstream.js';

/** A stdio server as configured: `command` instead of `url`. */
export interface StdioServerConfig {
  name: string;
  command: string;
  args?: readonly string[];
  /** Given to the process on top of the few variables the SDK passes (PATH, HOME…); never logged. */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** Also how long the process has to answer `initialize`. */
  timeout_ms: number;
}

export const MIN_RESTART_DELAY_MS = 500;
export const MAX_RESTART_DELAY_MS = 30_000;
/** A process that stayed up this long is restarted after the shortest delay again. */
export const STABLE_UPTIME_MS = 30_000;

/** Delays between restarts: doubling from MIN_RESTART_DELAY_MS to MAX_RESTART_DELAY_MS, back to the start once a process stayed up. */
export class RestartBackoff {
  #next = MIN_RESTART_DELAY_MS;

  /** The delay before the next start, given how long the process that ended had been up. */
  next(uptimeMs: number): number {
    if (uptimeMs >= STABLE_UPTIME_MS) this.#next = MIN_RESTART_DELAY_MS;
    const delay = this.#next;
    this.#next = Math.min(this.#next * 2, MAX_RESTART_DELAY_MS);
    return delay;
  }
}

interface Run {
  client: Client;
  transport: StdioClientTransport;
  ready: Promise<Client>;
  startedAt: number;
  /** How it ended, in words (set by the child's exit, before the transport reports the close). */
  exit: string | null;
  ended: boolean;
}

/**
 * A stdio MCP server Warden starts and supervises: one process, one client
 * session over its stdin/stdout (the stdio transport of the MCP
 * specification). When the process ends or its transport closes without
 * Warden asking, it is started again after a RestartBackoff delay; calls
 * made meanwhile fail at once, saying why and when it comes back. Its
 * stderr goes to Warden's logs (StderrLog). It gets only its configured
 * env on top of the SDK's short list of inherited variables, so Warden's
 * own environment (WARDEN_* secrets included) never reaches it.
 */
export class StdioProcess implements McpConnection {
  #run: Run | null = null;
  #restart: NodeJS.Timeout | null = null;
  #restartAt = 0;
  #lastEnd = 'it has not started yet';
  #closed = false;
  readonly #backoff = new RestartBackoff();
  readonly #stderr: StderrLog;

  constructor(
    private readonly cfg: StdioServerConfig,
    private readonly log: McpLog,
    private readonly newClient: () => Client,
  ) {
    this.#stderr = new StderrLog(cfg.name, log, Object.values(cfg.env ?? {}));
  }

  /** Starts the process now, without waiting for it (a broken command shows in the logs at once, and never holds the gateway's start). */
  start(): void {
    if (!this.#run && !this.#restart && !this.#closed) this.#spawn();
  }

  /** The process's session: at once when it is up, after `initialize` while it starts; a fast failure while it is down. */
  client(): Promise<Client> {
    if (this.#closed) return Promise.reject(new UpstreamUnavailable('the gateway is shutting down', false));
    if (this.#run) return this.#run.ready;
    if (this.#restart) return Promise.reject(new UpstreamUnavailable(`its process is not running (${this.#lastEnd}); ${this.#comesBack()}`, false));
    return this.#spawn().ready;
  }

  /** A request failed below MCP. The process's exit, not a failed or slow request, decides a restart: a timeout does not mean it died. */
  failed(): void {}

  closeReason(client: Client): string | null {
    if (this.#run?.client === client) return null;
    return `its process ended during the request (${this.#lastEnd}); ${this.#comesBack()}`;
  }

  /** Stops the process: its stdin is closed, then SIGTERM, then SIGKILL, each after a grace of 2 s (the SDK's shutdown, per the MCP specification's stdio lifecycle). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#restart) clearTimeout(this.#restart);
    this.#restart = null;
    const run = this.#run;
    this.#run = null;
    if (run) await run.client.close().catch(() => {});
  }

  #spawn(): Run {
    const { name, command, args = [], env = {}, cwd } = this.cfg;
    const transport = new StdioClientTransport({ command, args: [...args], env: { ...env }, ...(cwd ? { cwd } : {}), stderr: 'pipe' });
    const client = this.newClient();
    // With `stderr: 'pipe'` the SDK hands out a PassThrough before the process starts, so no early line is lost.
    this.#stderr.attach(transport.stderr as Readable);
    const run: Run = { client, transport, ready: Promise.resolve(client), startedAt: Date.now(), exit: null, ended: false };
    client.onclose = () => this.#ended(run, run.exit ?? 'it closed its output');
    // connect() spawns the process synchronously, before its first await.
    const connecting = client.connect(transport, { timeout: this.cfg.timeout_ms });
    childOf(transport)?.once('exit', (code, signal) => {
      run.exit = code !== null ? `it exited with code ${code}` : `it was stopped by ${signal ?? 'a signal'}`;
    });
    run.ready = connecting.then(
      () => {
        this.log.info({ mcp_server: name, command, pid: transport.pid }, 'MCP server process started');
        return client;
      },
      (err: unknown) => {
        const why = startFailure(err, run);
        this.#ended(run, why);
        void client.close().catch(() => {});
        throw new UpstreamUnavailable(`its process could not be started (${why}); ${this.#comesBack()}`);
      },
    );
    run.ready.catch(() => {});
    this.#run = run;
    return run;
  }

  /** The process ended, or never came up: it is started again after the backoff delay, unless Warden is closing. */
  #ended(run: Run, why: string): void {
    if (run.ended) return;
    run.ended = true;
    if (this.#run === run) this.#run = null;
    this.#lastEnd = why;
    if (this.#closed) return;
    const delay = this.#backoff.next(Date.now() - run.startedAt);
    this.#restartAt = Date.now() + delay;
    this.#restart = setTimeout(() => {
      this.#restart = null;
      if (!this.#closed) this.#spawn();
    }, delay).unref();
    this.log.warn({ mcp_server: this.cfg.name, command: this.cfg.command, reason: why, restart_in_ms: delay }, 'MCP server process ended; Warden starts it again');
  }

  #comesBack(): string {
    if (this.#closed) return 'the gateway is shutting down';
    if (this.#run) return 'Warden is starting it again';
    return `Warden starts it again in ${Math.max(1, Math.ceil((this.#restartAt - Date.now()) / 1000))} s`;
  }
}

/**
 * The transport's child process, for its exit code. The SDK keeps it
 * private (and reports a close without the code); if a later SDK renames
 * the field, exits are just described less precisely.
 */
function childOf(transport: StdioClientTransport): ChildProcess | null {
  const child = (transport as unknown as { _process?: unknown })._process;
  return child && typeof (child as ChildProcess).once === 'function' ? (child as ChildProcess) : null;
}

/** Why a start failed, in words: the spawn error's code, the exit, or a silent process. */
function startFailure(err: unknown, run: Run): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return `${code === 'ENOENT' ? 'the command or its directory was not found' : 'it could not be run'}: ${code}`;
  if (code === -32001) return 'it did not answer initialize in time';
  return run.exit ?? 'it closed its output before answering initialize';
}
