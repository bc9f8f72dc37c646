import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  type CallToolResult,
  ErrorCode,
  type GetPromptResult,
  type Progress,
  type Prompt,
  PromptListChangedNotificationSchema,
  type ReadResourceResult,
  type Resource,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../version.js';
import { CircuitBreaker, type CircuitState, DEFAULT_CIRCUIT } from './breaker.js';
import type { McpLog } from './stderr.js';
import { StdioProcess } from './stdio.js';
import { UpstreamUnavailable } from './tools.js';

/** One upstream MCP server as configured (`mcp.servers[]`): `url` (Streamable HTTP) or `command` (stdio), exactly one. */
export interface McpServerConfig {
  name: string;
  url?: string;
  /** A stdio server Warden starts and supervises, with `args`, `env` and `cwd`. */
  command?: string;
  args?: readonly string[];
  /** The stdio server's environment (its credentials); never logged or recorded. */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** Sent on every request to the server (its own credentials); never logged or recorded. */
  headers: Readonly<Record<string, string>>;
  timeout_ms: number;
  /** Tool lists older than this are fetched again on the next listing. */
  refresh_s: number;
  /** Transport failures in a row that open the circuit, and how long it stays open; DEFAULT_CIRCUIT when not given. */
  circuit?: { failures: number; cooldown_s: number };
}

/** How McpUpstream reaches its server: a session per connection (HTTP), or a process Warden supervises (stdio). */
export interface McpConnection {
  /** Connects ahead of the first request, where that is worth it. */
  start(): void;
  /** The session for the next request, connecting if need be; fails fast when the server is known to be down. */
  client(): Promise<Client>;
  /** A request on `client` failed below MCP. */
  failed(client: Client): void;
  /** Why `client`'s connection closed under a request, in words; null when unknown. */
  closeReason(client: Client): string | null;
  close(): Promise<void>;
}

/**
 * An MCP server Warden calls on its callers' behalf, through one client
 * session of its own: Streamable HTTP, or a stdio process it supervises
 * (StdioProcess). The tool list is cached: fetched on first use, again
 * after `refresh_s`, and at once when the server announces
 * `notifications/tools/list_changed`. A circuit breaker stops asking a
 * server that keeps failing below MCP (CircuitBreaker).
 */
/** What a server lists, each cached on its own. */
export type ListKind = 'tools' | 'resources' | 'prompts';

export class McpUpstream {
  #tools: { at: number; list: Promise<Tool[]> } | null = null;
  readonly #lists = new Map<'resources' | 'prompts', { at: number; list: Promise<unknown[]> }>();
  #closed = false;
  readonly #connection: McpConnection;
  readonly #breaker: CircuitBreaker;

  constructor(
    readonly cfg: McpServerConfig,
    /** Called when the server said its tools, resources or prompts changed (after that cache is dropped). */
    private readonly onListChanged: (server: string, kind: ListKind) => void = () => {},
    /** Where a stdio server's stderr and restarts are logged. */
    log: McpLog = SILENT,
  ) {
    const circuit = cfg.circuit ?? DEFAULT_CIRCUIT;
    this.#breaker = new CircuitBreaker({ failures: circuit.failures, cooldownMs: circuit.cooldown_s * 1000 });
    const newClient = () => this.#newClient();
    if (cfg.command !== undefined) this.#connection = new StdioProcess({ ...cfg, command: cfg.command }, log, newClient);
    else if (cfg.url !== undefined) this.#connection = new HttpSession(cfg.url, cfg.headers, cfg.timeout_ms, newClient);
    else throw new Error(`MCP server "${cfg.name}" has neither a url nor a command`);
  }

  get name(): string {
    return this.cfg.name;
  }

  /** The circuit breaker's state, for metrics and health: read-only. */
  get circuit(): CircuitState {
    return this.#breaker.state;
  }

  /** Starts a stdio server's process now rather than on first use (HTTP servers connect on first use). */
  start(): void {
    if (!this.#closed) this.#connection.start();
  }

  /** The server's tools, from the cache when it is fresh (and the circuit closed). */
  tools(): Promise<Tool[]> {
    const cached = this.#tools;
    if (cached && this.#breaker.state === 'closed' && Date.now() - cached.at < this.cfg.refresh_s * 1000) return cached.list;
    const list = this.#request((client) => fetchTools(client, this.cfg.timeout_ms));
    this.#tools = { at: Date.now(), list };
    // A failed fetch is not cached: the next listing tries again.
    list.catch(() => {
      if (this.#tools?.list === list) this.#tools = null;
    });
    return list;
  }

  /** The server's resources (none when it does not offer resources), cached like its tools. */
  resources(): Promise<Resource[]> {
    return this.#cached('resources', (client) => fetchResources(client, this.cfg.timeout_ms)) as Promise<Resource[]>;
  }

  /** The server's prompts (none when it does not offer prompts), cached like its tools. */
  prompts(): Promise<Prompt[]> {
    return this.#cached('prompts', (client) => fetchPrompts(client, this.cfg.timeout_ms)) as Promise<Prompt[]>;
  }

  async readResource(uri: string, signal?: AbortSignal): Promise<ReadResourceResult> {
    return this.#request((client) => client.readResource({ uri }, { timeout: this.cfg.timeout_ms, signal }), signal);
  }

  async getPrompt(name: string, args: Record<string, string>, signal?: AbortSignal): Promise<GetPromptResult> {
    return this.#request((client) => client.getPrompt({ name, arguments: args }, { timeout: this.cfg.timeout_ms, signal }), signal);
  }

  #cached(kind: 'resources' | 'prompts', fetch: (client: Client) => Promise<unknown[]>): Promise<unknown[]> {
    const cached = this.#lists.get(kind);
    if (cached && this.#breaker.state === 'closed' && Date.now() - cached.at < this.cfg.refresh_s * 1000) return cached.list;
    const list = this.#request(fetch);
    this.#lists.set(kind, { at: Date.now(), list });
    list.catch(() => {
      if (this.#lists.get(kind)?.list === list) this.#lists.delete(kind);
    });
    return list;
  }

  /** Calls one of the server's tools (its own name, not the namespaced one). */
  async call(tool: string, args: Record<string, unknown>, signal?: AbortSignal, onprogress?: (p: Progress) => void): Promise<CallToolResult> {
    const timeout = this.cfg.timeout_ms;
    // With onprogress the SDK sends a progress token; the server's progress notifications then reach the caller.
    const options = onprogress ? { timeout, signal, onprogress } : { timeout, signal };
    return (await this.#request((client) => client.callTool({ name: tool, arguments: args }, undefined, options), signal)) as CallToolResult;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#connection.close();
  }

  /** One request through the breaker: what its outcome says about the server opens or closes the circuit. */
  async #request<T>(send: (client: Client) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.#closed) throw new UpstreamUnavailable('the gateway is shutting down', false);
    const trial = this.#breaker.admit();
    let client: Client | null = null;
    try {
      client = await this.#connection.client();
      const out = await send(client);
      this.#breaker.succeeded();
      return out;
    } catch (err) {
      const outcome = signal?.aborted ? 'not_asked' : outcomeOf(err, client);
      if (outcome === 'answered' || outcome === 'refused') this.#breaker.succeeded();
      else if (outcome === 'not_asked') this.#breaker.released(trial);
      else this.#breaker.failed(trial);
      if ((outcome === 'broken' || outcome === 'refused') && client) this.#connection.failed(client);
      // The SDK's "Connection closed" is Warden's side of the story, not the server's answer: said in words instead.
      if (outcome === 'broken' && client && isConnectionClosed(err)) {
        throw new UpstreamUnavailable(this.#connection.closeReason(client) ?? 'it closed the connection during the request');
      }
      throw err;
    }
  }

  #newClient(): Client {
    const client = new Client({ name: 'warden', version: VERSION });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      this.#tools = null;
      this.onListChanged(this.cfg.name, 'tools');
    });
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
      this.#lists.delete('resources');
      this.onListChanged(this.cfg.name, 'resources');
    });
    client.setNotificationHandler(PromptListChangedNotificationSchema, () => {
      this.#lists.delete('prompts');
      this.onListChanged(this.cfg.name, 'prompts');
    });
    return client;
  }
}

/**
 * What a failed request says about the server. `answered`: a JSON-RPC error
 * it sent (it is up). `refused`: an HTTP 4xx (it is up, but the session may
 * be gone, e.g. a restarted server's 404). `timed_out`: no answer in time
 * (the session may be fine). `broken`: the transport failed (refused
 * connection, HTTP 5xx, a process that died). `not_asked`: Warden did not
 * reach it (its process is down and restarting, or the caller cancelled).
 * Timeouts and broken transports are what open the circuit.
 */
function outcomeOf(err: unknown, client: Client | null): 'answered' | 'refused' | 'timed_out' | 'broken' | 'not_asked' {
  if (err instanceof UpstreamUnavailable) return err.asked ? 'broken' : 'not_asked';
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && code >= 400 && code < 500) return 'refused';
  if (code === ErrorCode.RequestTimeout) return 'timed_out';
  // Connecting failed (refused, 5xx, a bad initialize).
  if (!client) return 'broken';
  if (isConnectionClosed(err) && !client.transport) return 'broken';
  return isProtocolError(err) ? 'answered' : 'broken';
}

/** The SDK's own error for a request whose connection closed before the answer (a server may use -32000 too, hence the transport check). */
function isConnectionClosed(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === ErrorCode.ConnectionClosed;
}

async function fetchTools(client: Client, timeout: number): Promise<Tool[]> {
  return paged(async (cursor) => {
    const r = await client.listTools(cursor ? { cursor } : undefined, { timeout });
    return { items: r.tools, nextCursor: r.nextCursor };
  });
}

/** Pages of a list until the server stops giving a cursor; bounded so a server that always returns one cannot loop forever. */
async function paged<T>(page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string }>): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 100; n++) {
    const res = await page(cursor);
    out.push(...res.items);
    cursor = res.nextCursor;
    if (!cursor) break;
  }
  return out;
}

async function fetchResources(client: Client, timeout: number): Promise<Resource[]> {
  if (!client.getServerCapabilities()?.resources) return [];
  return paged(async (cursor) => {
    const r = await client.listResources(cursor ? { cursor } : undefined, { timeout });
    return { items: r.resources, nextCursor: r.nextCursor };
  });
}

async function fetchPrompts(client: Client, timeout: number): Promise<Prompt[]> {
  if (!client.getServerCapabilities()?.prompts) return [];
  return paged(async (cursor) => {
    const r = await client.listPrompts(cursor ? { cursor } : undefined, { timeout });
    return { items: r.prompts, nextCursor: r.nextCursor };
  });
}

/** A Streamable HTTP server: one session, opened on first use and dropped after a transport failure, so the next request connects afresh. */
class HttpSession implements McpConnection {
  #client: Promise<Client> | null = null;

  constructor(
    private readonly url: string,
    private readonly headers: Readonly<Record<string, string>>,
    private readonly timeoutMs: number,
    private readonly newClient: () => Client,
  ) {}

  start(): void {}

  client(): Promise<Client> {
    if (this.#client) return this.#client;
    const client = this.newClient();
    client.onclose = () => {
      if (this.#client === connecting) this.#client = null;
    };
    const transport = new StreamableHTTPClientTransport(new URL(this.url), { requestInit: { headers: { ...this.headers } }, fetch: ownSignals() });
    const connecting = client.connect(transport, { timeout: this.timeoutMs }).then(() => client);
    this.#client = connecting;
    connecting.catch(() => {
      if (this.#client === connecting) this.#client = null;
      void client.close().catch(() => {});
    });
    return connecting;
  }

  /** The server may have restarted (its sessions gone): the next request opens a new one. */
  failed(client: Client): void {
    const c = this.#client;
    if (!c) return;
    void c.then((current) => {
      if (current !== client) return;
      if (this.#client === c) this.#client = null;
      return client.close();
    }).catch(() => {});
  }

  closeReason(): string | null {
    return null;
  }

  async close(): Promise<void> {
    const c = this.#client;
    this.#client = null;
    if (c) await c.then((client) => client.close()).catch(() => {});
  }
}

/**
 * fetch for the SDK's transport, which hands its one session-wide
 * AbortSignal to every request: undici keeps a listener on it per request
 * until GC, so under load thousands pile up (and Node prints a leak warning
 * with a stack trace for each one past 1,500). Each request gets its own
 * signal instead, and the session's signal, listened to once, aborts the
 * requests still in flight.
 */
function ownSignals(): typeof fetch {
  const inflight = new Set<AbortController>();
  const hooked = new WeakSet<AbortSignal>();
  return async (url, init) => {
    const shared = init?.signal;
    if (!shared) return fetch(url, init);
    if (shared.aborted) throw shared.reason;
    if (!hooked.has(shared)) {
      hooked.add(shared);
      shared.addEventListener('abort', () => {
        for (const c of inflight) c.abort(shared.reason);
      }, { once: true });
    }
    const own = new AbortController();
    inflight.add(own);
    // The GET is the server's stream for the whole session: it stays abortable until the session closes
    // (a few per session at most, one per reconnect). A POST's answer is read at once.
    const stream = (init.method ?? 'GET').toUpperCase() === 'GET';
    try {
      return await fetch(url, { ...init, signal: own.signal });
    } finally {
      if (!stream) inflight.delete(own);
    }
  };
}

const SILENT: McpLog = { info: () => {}, warn: () => {} };

/** A JSON-RPC error the server answered with (the session is fine), as opposed to a transport failure. */
export function isProtocolError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && Number.isInteger(code) && code < 0;
}
