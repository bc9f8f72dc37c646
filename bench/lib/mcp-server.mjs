#!/usr/bin/env node
// The MCP benchmark's tool server: one cheap tool, `echo` ({text: string} → the same text),
// served over the Streamable HTTP transport with the official SDK's low-level Server, one
// SDK server and transport per session, as a real server would. Its own process, started
// by bench/lib/mcp-bench.mjs (procs.mjs startMcpServer); both the direct and the through
// target reach this same process.
//
//   node bench/lib/mcp-server.mjs            (prints "listening on http://127.0.0.1:PORT/mcp")
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';

const TOOLS = [
  {
    name: 'echo',
    description: 'Returns its text argument unchanged.',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false },
  },
];

const sessions = new Map();

function newServer() {
  const server = new Server({ name: 'bench-tools', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, (req) => {
    if (req.params.name !== 'echo') throw new McpError(ErrorCode.InvalidParams, `no tool ${req.params.name}`);
    const text = req.params.arguments?.text;
    if (typeof text !== 'string') throw new McpError(ErrorCode.InvalidParams, 'arguments.text must be a string');
    return { content: [{ type: 'text', text }] };
  });
  return server;
}

async function serve(req, res, body) {
  const id = req.headers['mcp-session-id'];
  if (typeof id === 'string') {
    const s = sessions.get(id);
    if (!s) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
      return;
    }
    await s.transport.handleRequest(req, res, body);
    return;
  }
  // No session yet: the transport answers an initialize (and refuses anything else itself).
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    onsessioninitialized: (sid) => void sessions.set(sid, { transport }),
  });
  transport.onclose = () => {
    if (transport.sessionId) sessions.delete(transport.sessionId);
  };
  await newServer().connect(transport);
  await transport.handleRequest(req, res, body);
}

const http = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body;
    try {
      body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }));
      return;
    }
    serve(req, res, body).catch((err) => {
      process.stderr.write(`mcp-server: ${err?.stack ?? err}\n`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
});

http.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on http://127.0.0.1:${http.address().port}/mcp\n`);
});
