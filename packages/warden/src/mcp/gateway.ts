import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../identity/index.js';
import type { McpServerRecord } from '../storage/types.js';
import { VERSION } from '../version.js';
import type { ApprovalQueue } from './approvals.js';
import type { ToolCallPipeline, McpCaller } from './call.js';
import { errorText, rpcError, ToolDirectory } from './tools.js';
import type { ContentPipeline } from './content.js';
import type { ListKind, McpUpstream } from './upstream.js';

interface Session {
  transport: StreamableHTTPServerTransport;
  server: Server;
  /** Who opened it: only they may use it (a session id is not a credential). */
  owner: string;
  orgId: string;
  scope: string | null;
  lastUsed: number;
}

export interface McpGatewayOptions {
  /** Makes (and starts) the upstream of a server an org registered through the admin API. */
  makeRegistered?: (r: McpServerRecord) => McpUpstream;
  /** Sessions idle longer than this are closed. */
  idleTimeoutMs: number;
  /** Open sessions at most; an initialize beyond it is refused. */
  maxSessions: number;
  /** Open sessions of one caller (key, user or agent) at most. */
  maxSessionsPerCaller: number;
}

/** The caller of one HTTP request, handed through the SDK transport to the handlers of the messages it carries. */
interface WithCaller extends IncomingMessage {
  auth?: { token: string; clientId: string; scopes: string[]; extra: { caller: McpCaller } };
}

/**
 * Warden's MCP endpoint: `/mcp` (every server's permitted tools, names
 * namespaced) and `/mcp/{server}` (one server's), over the Streamable HTTP
 * transport of the MCP specification. Each client session gets its own
 * SDK server whose handlers filter `tools/list` by policy and send every
 * `tools/call` through the governance pipeline.
 */
export class McpGateway {
  readonly directory: ToolDirectory;
  readonly #sessions = new Map<string, Session>();
  readonly #sweep: NodeJS.Timeout;

  constructor(
    upstreams: readonly McpUpstream[],
    private readonly pipeline: ToolCallPipeline,
    private readonly opts: McpGatewayOptions,
    /** Tool calls held for a person's approval (the approvals API reads and decides them). */
    readonly approvals: ApprovalQueue,
    /** Resources and prompts, governed like tools. */
    private readonly content: ContentPipeline,
  ) {
    this.directory = new ToolDirectory(upstreams);
    this.#sweep = setInterval(() => this.#closeIdle(), Math.min(60_000, opts.idleTimeoutMs)).unref();
  }

  /**
   * Replaces the servers orgs registered through the admin API (after an
   * admin change, and whenever the keys revision moves: another replica
   * changed them). A registration whose name a configured server has is
   * left out: the config wins.
   */
  reloadRegistered(records: readonly McpServerRecord[]): void {
    const make = this.opts.makeRegistered;
    if (!make) return;
    const next = new Map<string, Map<string, { fingerprint: string; make: () => McpUpstream }>>();
    for (const r of records) {
      if (this.directory.isConfigured(r.name)) continue;
      const servers = next.get(r.orgId) ?? new Map<string, { fingerprint: string; make: () => McpUpstream }>();
      next.set(r.orgId, servers);
      servers.set(r.name, { fingerprint: JSON.stringify([r.url, r.sealedHeaders, r.settings, r.updatedAt]), make: () => make(r) });
    }
    this.directory.replaceRegistered(next);
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /**
   * Serves one HTTP request of the transport (POST a message, GET the
   * server's stream, DELETE the session). `scope` is the server of
   * /mcp/{server}, null for /mcp. Returns false when the session header
   * names no session of this caller (the route answers 404).
   */
  async handle(req: IncomingMessage, res: ServerResponse, body: unknown, caller: McpCaller, scope: string | null): Promise<'handled' | 'unknown_session' | 'full' | 'no_session'> {
    (req as WithCaller).auth = { token: '', clientId: caller.principal.id, scopes: [], extra: { caller } };
    const id = req.headers['mcp-session-id'];
    if (typeof id === 'string') {
      const s = this.#sessions.get(id);
      if (!s || s.owner !== ownerOf(caller.principal) || s.scope !== scope) return 'unknown_session';
      s.lastUsed = Date.now();
      await s.transport.handleRequest(req, res, body);
      return 'handled';
    }
    if (req.method !== 'POST' || !isInitialize(body)) return 'no_session';
    if (this.#sessions.size >= this.opts.maxSessions) return 'full';
    // One caller cannot take every session: its own are capped too.
    const owner = ownerOf(caller.principal);
    let own = 0;
    for (const x of this.#sessions.values()) if (x.owner === owner) own++;
    if (own >= this.opts.maxSessionsPerCaller) return 'full';
    const server = this.#serverFor(scope);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => {
        this.#sessions.set(sid, { transport, server, owner: ownerOf(caller.principal), orgId: caller.principal.orgId, scope, lastUsed: Date.now() });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.#sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
    return 'handled';
  }

  /** An upstream server's tools, resources or prompts changed: every session that reaches it is told (notifications/…/list_changed). */
  listChanged(serverName: string, kind: ListKind = 'tools', orgId?: string): void {
    for (const s of this.#sessions.values()) {
      if (s.scope !== null && s.scope !== serverName) continue;
      // A server an org registered is news to that org's sessions only.
      if (orgId !== undefined && s.orgId !== orgId) continue;
      const sent = kind === 'tools' ? s.server.sendToolListChanged() : kind === 'resources' ? s.server.sendResourceListChanged() : s.server.sendPromptListChanged();
      void sent.catch(() => {});
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.approvals.close();
    const open = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled([...open.map((s) => s.transport.close()), ...this.directory.servers.map((u) => u.close())]);
  }

  #serverFor(scope: string | null): Server {
    const server = new Server(
      { name: scope ? `warden/${scope}` : 'warden', version: VERSION },
      { capabilities: { tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true } } },
    );
    const content = this.content;
    server.setRequestHandler(ListResourcesRequestSchema, async (_req, extra) => ({ resources: await content.listResources(callerOf(extra.authInfo), scope, this.directory) }));
    // Templates are not passed on yet: an empty list, so clients that ask are not refused.
    server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: [] }));
    server.setRequestHandler(ReadResourceRequestSchema, async (req, extra) => content.readResource(callerOf(extra.authInfo), scope, this.directory, req.params.uri, extra.signal));
    server.setRequestHandler(ListPromptsRequestSchema, async (_req, extra) => ({ prompts: await content.listPrompts(callerOf(extra.authInfo), scope, this.directory) }));
    server.setRequestHandler(GetPromptRequestSchema, async (req, extra) => content.getPrompt(callerOf(extra.authInfo), scope, this.directory, req.params.name, req.params.arguments ?? {}, extra.signal));
    server.setRequestHandler(ListToolsRequestSchema, async (_req, extra) => {
      const listed = await this.pipeline.list(callerOf(extra.authInfo), scope, this.directory);
      return { tools: listed.map((t) => t.definition) };
    });
    server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
      const caller = callerOf(extra.authInfo);
      const tool = await this.directory.resolve(scope, req.params.name, caller.principal.orgId).catch((err: unknown) => {
        const message = `The MCP server for "${req.params.name}" could not be asked for its tools: ${errorText(err)}.`;
        this.pipeline.unresolved(caller, req.params.name, message, 'upstream_unavailable');
        throw rpcError(ErrorCode.InternalError, message);
      });
      if (typeof tool === 'string') {
        this.pipeline.unresolved(caller, req.params.name, tool, 'unknown_tool');
        throw rpcError(ErrorCode.InvalidParams, tool);
      }
      const token = req.params._meta?.progressToken;
      let step = 0;
      const progress = token === undefined ? undefined : (message: string) => {
        void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: ++step, message } }).catch(() => {});
      };
      return this.pipeline.call(caller, tool, req.params.arguments ?? {}, extra.signal, progress);
    });
    return server;
  }

  #closeIdle(): void {
    const cutoff = Date.now() - this.opts.idleTimeoutMs;
    for (const [id, s] of this.#sessions) {
      if (s.lastUsed >= cutoff) continue;
      this.#sessions.delete(id);
      void s.transport.close().catch(() => {});
    }
  }
}

function ownerOf(p: Principal): string {
  return `${p.type}:${p.id}`;
}

function callerOf(auth: unknown): McpCaller {
  const caller = (auth as WithCaller['auth'])?.extra?.caller;
  // The route sets it on every request before the transport reads it.
  if (!caller) throw rpcError(ErrorCode.InternalError, 'The request reached the MCP handlers without a caller.');
  return caller;
}

function isInitialize(body: unknown): boolean {
  const msgs = Array.isArray(body) ? body : [body];
  return msgs.some((m) => m && typeof m === 'object' && (m as { method?: unknown }).method === 'initialize');
}
