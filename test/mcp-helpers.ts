// Test helper (not a test): MCP tool servers built with the official SDK, and clients that reach them through Warden.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';

/** What a test tool gets besides its arguments: the request's cancellation signal and a way to report progress. */
export interface ToolContext {
  signal: AbortSignal;
  progress(n: number, message: string): Promise<void>;
}

export interface TestTool extends Tool {
  run(args: Record<string, unknown>, ctx: ToolContext): CallToolResult | Promise<CallToolResult>;
}

export interface ToolServer {
  url: string;
  /** Every tools/call the server received: name, arguments and the headers of the HTTP request. */
  calls: Array<{ name: string; args: Record<string, unknown>; headers: IncomingMessage['headers'] }>;
  /** Replaces the tools and tells every open session (notifications/tools/list_changed). */
  setTools(tools: TestTool[]): Promise<void>;
  close(): Promise<void>;
}

/** A resource a test server offers, and a prompt (its text made from the arguments). */
export interface TestContent {
  resources?: Array<{ uri: string; name: string; text: string }>;
  prompts?: Array<{ name: string; description: string; text(args: Record<string, string>): string }>;
}

/** A Streamable HTTP MCP server on 127.0.0.1 (on `port`, any free one by default) serving `tools`, and `content`'s resources and prompts when given. */
export async function startToolServer(initial: TestTool[], content: TestContent = {}, port = 0): Promise<ToolServer> {
  let tools = initial;
  const calls: ToolServer['calls'] = [];
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: Server }>();
  const newServer = () => {
    const caps = { tools: { listChanged: true }, ...(content.resources ? { resources: {} } : {}), ...(content.prompts ? { prompts: {} } : {}) };
    const server = new Server({ name: 'test-tools', version: '1.0.0' }, { capabilities: caps });
    if (content.resources) {
      const list = content.resources;
      server.setRequestHandler(ListResourcesRequestSchema, () => ({ resources: list.map(({ uri, name }) => ({ uri, name, mimeType: 'text/plain' })) }));
      server.setRequestHandler(ReadResourceRequestSchema, (req) => {
        const r = list.find((x) => x.uri === req.params.uri);
        if (!r) throw new McpError(ErrorCode.InvalidParams, `no resource ${req.params.uri}`);
        return { contents: [{ uri: r.uri, mimeType: 'text/plain', text: r.text }] };
      });
    }
    if (content.prompts) {
      const list = content.prompts;
      server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: list.map(({ name, description }) => ({ name, description })) }));
      server.setRequestHandler(GetPromptRequestSchema, (req) => {
        const p = list.find((x) => x.name === req.params.name)!;
        return { messages: [{ role: 'user', content: { type: 'text', text: p.text(req.params.arguments ?? {}) } }] };
      });
    }
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: tools.map(({ run: _run, ...t }) => t) }));
    server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
      const t = tools.find((x) => x.name === req.params.name);
      calls.push({ name: req.params.name, args: req.params.arguments ?? {}, headers: (extra.requestInfo?.headers ?? {}) as IncomingMessage['headers'] });
      if (!t) return { content: [{ type: 'text', text: `no tool ${req.params.name}` }], isError: true };
      const token = req.params._meta?.progressToken;
      const progress = async (n: number, message: string) => {
        if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: n, message } });
      };
      return t.run(req.params.arguments ?? {}, { signal: extra.signal, progress });
    });
    return server;
  };
  const http: HttpServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
        const id = req.headers['mcp-session-id'];
        let s = typeof id === 'string' ? sessions.get(id) : undefined;
        if (!s) {
          const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (sid) => void sessions.set(sid, s!) });
          s = { transport, server: newServer() };
          await s.server.connect(transport);
        }
        await s.transport.handleRequest(req, res, body);
      })().catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  });
  await new Promise<void>((r) => http.listen(port, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  return {
    url,
    calls,
    async setTools(next) {
      tools = next;
      await Promise.all([...sessions.values()].map((s) => s.server.sendToolListChanged().catch(() => {})));
    },
    async close() {
      await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => {})));
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    },
  };
}

/** An SDK client connected to Warden's endpoint at `path` with a Warden key. */
export async function wardenClient(gatewayUrl: string, key: string, path = '/mcp'): Promise<Client> {
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gatewayUrl + path), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

export const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });

/** A loopback port nothing listens on (yet): connecting is refused at once. */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}
