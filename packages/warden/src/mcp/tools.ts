import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpUpstream } from './upstream.js';

/** Between a server's name and its tool's in the names clients see at /mcp: `github__create_issue`. */
export const NAME_SEPARATOR = '__';

/** What each registered upstream was made from, to tell a changed registration from an unchanged one. */
const fingerprints = new WeakMap<McpUpstream, string>();

/** One upstream tool as a caller sees it. */
export interface ListedTool {
  server: McpUpstream;
  /** The server's own name for it. */
  tool: string;
  /** What the caller calls it: namespaced at /mcp, the server's own at /mcp/{server}. */
  name: string;
  definition: Tool;
}

/**
 * Which servers a caller reaches: the configured ones (every org) and
 * those its own org registered through the admin API. At /mcp all of them,
 * tool names namespaced; at /mcp/{server} one, under the server's own names.
 */
export class ToolDirectory {
  readonly #global: ReadonlyMap<string, McpUpstream>;
  #byOrg = new Map<string, Map<string, McpUpstream>>();

  constructor(servers: readonly McpUpstream[]) {
    this.#global = new Map(servers.map((s) => [s.name, s]));
  }

  /** Whether a name belongs to a configured server (an org may not register one by that name). */
  isConfigured(name: string): boolean {
    return this.#global.has(name);
  }

  server(orgId: string, name: string): McpUpstream | undefined {
    return this.#global.get(name) ?? this.#byOrg.get(orgId)?.get(name);
  }

  has(server: string, orgId: string): boolean {
    return this.server(orgId, server) !== undefined;
  }

  /** Every upstream of every org (to close them). */
  get servers(): McpUpstream[] {
    return [...this.#global.values(), ...[...this.#byOrg.values()].flatMap((m) => [...m.values()])];
  }

  serversFor(orgId: string): McpUpstream[] {
    return [...this.#global.values(), ...(this.#byOrg.get(orgId)?.values() ?? [])];
  }

  /**
   * Replaces the registered servers with `next` (org → name → what to run).
   * A server whose settings did not change keeps its upstream (its session
   * and cached tools); a changed or removed one is closed.
   */
  replaceRegistered(next: Map<string, Map<string, { fingerprint: string; make: () => McpUpstream }>>): void {
    const out = new Map<string, Map<string, McpUpstream>>();
    const kept = new Set<McpUpstream>();
    for (const [orgId, servers] of next) {
      const now = new Map<string, McpUpstream>();
      for (const [name, want] of servers) {
        const old = this.#byOrg.get(orgId)?.get(name);
        let u: McpUpstream;
        try {
          u = old && fingerprints.get(old) === want.fingerprint ? old : want.make();
        } catch {
          // Its sealed headers did not open (another master key?): left out, as the maker logged.
          continue;
        }
        fingerprints.set(u, want.fingerprint);
        now.set(name, u);
        kept.add(u);
      }
      out.set(orgId, now);
    }
    for (const m of this.#byOrg.values()) for (const u of m.values()) if (!kept.has(u)) void u.close();
    this.#byOrg = out;
  }

  /**
   * Every tool the endpoint reaches, each server's list fetched in
   * parallel. A server that cannot be reached is left out and named in
   * `failed`, so one server down does not hide the others' tools.
   */
  async list(scope: string | null, orgId: string): Promise<{ tools: ListedTool[]; failed: Array<{ server: string; error: string }> }> {
    const one = scope ? this.server(orgId, scope) : undefined;
    const servers = scope ? (one ? [one] : []) : this.serversFor(orgId);
    const lists = await Promise.allSettled(servers.map((s) => s.tools()));
    const tools: ListedTool[] = [];
    const failed: Array<{ server: string; error: string }> = [];
    lists.forEach((r, i) => {
      const server = servers[i]!;
      if (r.status === 'rejected') {
        failed.push({ server: server.name, error: errorText(r.reason) });
        return;
      }
      for (const definition of r.value) {
        const name = scope ? definition.name : `${server.name}${NAME_SEPARATOR}${definition.name}`;
        tools.push({ server, tool: definition.name, name, definition: { ...definition, name } });
      }
    });
    return { tools, failed };
  }

  /** The tool a caller's name means, or why there is none. */
  async resolve(scope: string | null, name: string, orgId: string): Promise<ListedTool | string> {
    let server: McpUpstream | undefined;
    let tool = name;
    if (scope) {
      server = this.server(orgId, scope);
      if (!server) return `The MCP server "${scope}" is no longer registered.`;
    } else {
      const cut = name.indexOf(NAME_SEPARATOR);
      if (cut > 0) {
        server = this.server(orgId, name.slice(0, cut));
        tool = name.slice(cut + NAME_SEPARATOR.length);
      }
      if (!server) return `There is no tool "${name}": names at /mcp are the server's name, "${NAME_SEPARATOR}", then the tool's (tools/list shows them).`;
    }
    const definition = (await server!.tools()).find((t) => t.name === tool);
    if (!definition) return `The MCP server "${server!.name}" has no tool "${tool}".`;
    return { server: server!, tool, name, definition: { ...definition, name } };
  }
}

/**
 * A failure whose message Warden wrote itself, so it is safe to show as it
 * is: the circuit is open, a stdio server's process is down. `asked` is
 * false when Warden refused before the server was asked, so the failure
 * says nothing new about the server.
 */
export class UpstreamUnavailable extends Error {
  constructor(
    message: string,
    readonly asked = true,
  ) {
    super(message);
    this.name = 'UpstreamUnavailable';
  }
}

/**
 * A server failure in words a person can act on, without echoing what the
 * server or the network library said beyond a code (an upstream's error
 * page or a URL with credentials in it must not reach clients or events).
 */
export function errorText(err: unknown): string {
  if (err instanceof UpstreamUnavailable) return err.message;
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = e?.code;
  if (code === -32001) return 'it did not answer in time';
  if (typeof code === 'number' && code >= 400 && code < 600) return `it answered HTTP ${code}`;
  const sys = systemCode(err);
  if (sys === 'ECONNREFUSED') return 'it refused the connection (is it running?)';
  if (sys) return `the connection failed (${sys})`;
  if (e?.message === 'the gateway is shutting down') return 'the gateway is shutting down';
  return 'the connection failed';
}

/** The socket error's code (ECONNREFUSED…) somewhere down the cause chain of a failed fetch. */
function systemCode(err: unknown): string | null {
  for (let e = err as { code?: unknown; cause?: unknown; errors?: unknown[] } | null | undefined, i = 0; e && i < 5; i++) {
    if (typeof e.code === 'string') return e.code;
    e = (e.cause ?? e.errors?.[0]) as typeof e;
  }
  return null;
}

/**
 * A JSON-RPC error for the client, with the message as written. (The SDK
 * server sends an error's `message` as is, and an McpError's already begins
 * "MCP error <code>:", which the client's SDK then prefixes again.)
 */
export function rpcError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** An upstream server's own JSON-RPC error passed on: its code and its words, without the client SDK's prefix. */
export function passedOn(err: { code: number; message: string; data?: unknown }): Error {
  return Object.assign(new Error(err.message.replace(/^MCP error -?\d+: /, '')), { code: err.code, ...(err.data !== undefined ? { data: err.data } : {}) });
}
