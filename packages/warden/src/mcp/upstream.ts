import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type CallToolResult, ToolListChangedNotificationSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../version.js';

/** One upstream MCP server as configured (`mcp.servers[]`). */
export interface McpServerConfig {
  name: string;
  url: string;
  /** Sent on every request to the server (its own credentials); never logged or recorded. */
  headers: Record<string, string>;
  timeout_ms: number;
  /** Tool lists older than this are fetched again on the next listing. */
  refresh_s: number;
}

/**
 * A Streamable HTTP MCP server Warden calls on its callers' behalf, through
 * one client session of its own. The tool list is cached: fetched on first
 * use, again after `refresh_s`, and at once when the server announces
 * `notifications/tools/list_changed`. A transport failure drops the session,
 * so the next call connects afresh.
 */
export class McpUpstream {
  #client: Promise<Client> | null = null;
  #tools: { at: number; list: Promise<Tool[]> } | null = null;
  #closed = false;

  constructor(
    readonly cfg: McpServerConfig,
    /** Called when the server said its tools changed (after the cache is dropped). */
    private readonly onToolsChanged: (server: string) => void = () => {},
  ) {}

  get name(): string {
    return this.cfg.name;
  }

  /** The server's tools, from the cache when it is fresh. */
  tools(): Promise<Tool[]> {
    const cached = this.#tools;
    if (cached && Date.now() - cached.at < this.cfg.refresh_s * 1000) return cached.list;
    const list = this.#fetchTools();
    this.#tools = { at: Date.now(), list };
    // A failed fetch is not cached: the next listing tries again.
    list.catch(() => {
      if (this.#tools?.list === list) this.#tools = null;
    });
    return list;
  }

  async #fetchTools(): Promise<Tool[]> {
    const client = await this.#connect();
    const out: Tool[] = [];
    let cursor: string | undefined;
    // Pages until the server stops giving a cursor; bounded so a server that always returns one cannot loop forever.
    for (let page = 0; page < 100; page++) {
      const res = await this.#guarded(client.listTools(cursor ? { cursor } : undefined, { timeout: this.cfg.timeout_ms }));
      out.push(...res.tools);
      cursor = res.nextCursor;
      if (!cursor) break;
    }
    return out;
  }

  /** Calls one of the server's tools (its own name, not the namespaced one). */
  async call(tool: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult> {
    const client = await this.#connect();
    return (await this.#guarded(client.callTool({ name: tool, arguments: args }, undefined, { timeout: this.cfg.timeout_ms, signal }))) as CallToolResult;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const c = this.#client;
    this.#client = null;
    if (c) await c.then((client) => client.close()).catch(() => {});
  }

  #connect(): Promise<Client> {
    if (this.#closed) return Promise.reject(new Error('the gateway is shutting down'));
    if (this.#client) return this.#client;
    const client = new Client({ name: 'warden', version: VERSION });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      this.#tools = null;
      this.onToolsChanged(this.cfg.name);
    });
    client.onclose = () => {
      if (this.#client === connecting) this.#client = null;
    };
    const transport = new StreamableHTTPClientTransport(new URL(this.cfg.url), { requestInit: { headers: this.cfg.headers } });
    const connecting = client.connect(transport, { timeout: this.cfg.timeout_ms }).then(() => client);
    this.#client = connecting;
    connecting.catch(() => {
      if (this.#client === connecting) this.#client = null;
      void client.close().catch(() => {});
    });
    return connecting;
  }

  /** A request that failed below MCP (connection refused, HTTP error) drops the session: the server may have restarted. */
  async #guarded<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      if (!isProtocolError(err)) {
        const c = this.#client;
        this.#client = null;
        if (c) void c.then((client) => client.close()).catch(() => {});
      }
      throw err;
    }
  }
}

/** A JSON-RPC error the server answered with (the session is fine), as opposed to a transport failure. */
export function isProtocolError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && Number.isInteger(code) && code < 0;
}
