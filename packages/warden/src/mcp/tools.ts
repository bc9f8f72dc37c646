import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpUpstream } from './upstream.js';

/** Between a server's name and its tool's in the names clients see at /mcp: `github__create_issue`. */
export const NAME_SEPARATOR = '__';

/** One upstream tool as a caller sees it. */
export interface ListedTool {
  server: McpUpstream;
  /** The server's own name for it. */
  tool: string;
  /** What the caller calls it: namespaced at /mcp, the server's own at /mcp/{server}. */
  name: string;
  definition: Tool;
}

/** Which servers an endpoint reaches: all of them (/mcp, names namespaced) or one (/mcp/{server}, names as the server gives them). */
export class ToolDirectory {
  readonly #servers: ReadonlyMap<string, McpUpstream>;

  constructor(servers: readonly McpUpstream[]) {
    this.#servers = new Map(servers.map((s) => [s.name, s]));
  }

  has(server: string): boolean {
    return this.#servers.has(server);
  }

  get servers(): McpUpstream[] {
    return [...this.#servers.values()];
  }

  /**
   * Every tool the endpoint reaches, each server's list fetched in
   * parallel. A server that cannot be reached is left out and named in
   * `failed`, so one server down does not hide the others' tools.
   */
  async list(scope: string | null): Promise<{ tools: ListedTool[]; failed: Array<{ server: string; error: string }> }> {
    const servers = scope ? [this.#servers.get(scope)!] : this.servers;
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
  async resolve(scope: string | null, name: string): Promise<ListedTool | string> {
    let server: McpUpstream | undefined;
    let tool = name;
    if (scope) server = this.#servers.get(scope);
    else {
      const cut = name.indexOf(NAME_SEPARATOR);
      if (cut > 0) {
        server = this.#servers.get(name.slice(0, cut));
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
 * A server failure in words a person can act on, without echoing what the
 * server or the network library said beyond a code (an upstream's error
 * page or a URL with credentials in it must not reach clients or events).
 */
export function errorText(err: unknown): string {
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
