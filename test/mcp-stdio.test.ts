/**
 * Upstream supervision, driven by the official SDK client through Warden:
 * a stdio MCP server Warden starts (test/fixtures/mcp-stdio-server.mjs),
 * restarts when it crashes, whose stderr reaches Warden's logs and whose
 * environment holds only what the config gives it; and the per-server
 * circuit breaker in front of an HTTP server that is down, then back.
 */
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers.js';
import { settle } from './identity-helpers.js';
import { closedPort, startToolServer, text, type ToolServer, wardenClient } from './mcp-helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/mcp-stdio-server.mjs', import.meta.url));
const ENV_SECRET = 'stdio-env-secret-7345';
const PARENT_SECRET = 'parent-secret-9911';

let s: Stack;
let flakyPort: number;
let flaky: ToolServer | undefined;
const open: Client[] = [];

async function connect(path = '/mcp'): Promise<Client> {
  const c = await wardenClient(s.url, s.agentKey, path);
  open.push(c);
  return c;
}

const textOf = (r: unknown) => ((r as { content: Array<{ text: string }> }).content[0]!.text);

/** How long a call takes, and how it failed (null if it did not). */
async function timed(p: Promise<unknown>): Promise<{ ms: number; error: string | null }> {
  const t0 = Date.now();
  const error = await p.then(
    () => null,
    (e: unknown) => (e as Error).message,
  );
  return { ms: Date.now() - t0, error };
}

function stderrLogs(): Array<Record<string, unknown>> {
  return s.logs.filter((l) => l.mcp_server === 'local' && 'stderr' in l);
}

beforeAll(async () => {
  // Warden's own environment: the stdio server must not see it.
  process.env.WARDEN_TEST_PARENT_SECRET = PARENT_SECRET;
  flakyPort = await closedPort();
  s = await startStack({
    config: {
      mcp: {
        servers: [
          { name: 'local', command: process.execPath, args: [FIXTURE], env: { GREETING: 'hello from config', FIXTURE_TOKEN: ENV_SECRET }, timeout_ms: 10_000 },
          { name: 'broken', command: '/nonexistent/warden-e2e-mcp-server' },
          { name: 'flaky', url: `http://127.0.0.1:${flakyPort}/mcp`, timeout_ms: 2000, circuit: { failures: 3, cooldown_s: 1 } },
        ],
      },
    },
  });
}, 30_000);

afterAll(async () => {
  delete process.env.WARDEN_TEST_PARENT_SECRET;
  await Promise.allSettled(open.map((c) => c.close()));
  await s?.close();
  await flaky?.close();
});

// First: a listing of /mcp asks "flaky" too, and would count against its circuit.
describe('circuit breaker', () => {
  it('after N failures in a row fails at once, saying when it retries; after the cool-down, with the server back, calls work', async () => {
    const c = await connect('/mcp/flaky');
    for (let i = 0; i < 3; i++) {
      expect((await timed(c.callTool({ name: 'hello', arguments: {} }))).error).toMatch(/could not be asked for its tools: it refused the connection/);
    }
    const refused = await timed(c.callTool({ name: 'hello', arguments: {} }));
    expect(refused.error).toMatch(/The MCP server for "hello" could not be asked for its tools: it is unavailable \(3 failures in a row\); Warden retries it in 1 s\./);
    expect(refused.ms).toBeLessThan(200);

    flaky = await startToolServer([{ name: 'hello', description: 'Greets', inputSchema: { type: 'object', properties: {} }, run: () => text('hello back') }], {}, flakyPort);
    const t0 = Date.now();
    const answer = await settle(
      () => c.callTool({ name: 'hello', arguments: {} }).then(textOf, (e: Error) => e.message),
      (v) => v === 'hello back',
      5_000,
    );
    expect(answer).toBe('hello back');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});

describe('stdio server', () => {
  it('lists its tools beside the others under namespaced names, and leaves out a server that cannot start', async () => {
    const { tools } = await (await connect()).listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['local__echo', 'local__env', 'local__crash', 'local__shout', 'flaky__hello']));
    expect(names.some((n) => n.startsWith('broken__'))).toBe(false);
  });

  it('calls its tool through Warden', async () => {
    const c = await connect('/mcp/local');
    expect(await c.callTool({ name: 'echo', arguments: { text: 'over stdio' } })).toEqual({ content: [{ type: 'text', text: 'over stdio' }] });
  });

  it('gives the process its configured env and nothing of Warden\'s environment', async () => {
    const c = await connect();
    expect(textOf(await c.callTool({ name: 'local__env', arguments: { name: 'GREETING' } }))).toBe('hello from config');
    expect(textOf(await c.callTool({ name: 'local__env', arguments: { name: 'WARDEN_TEST_PARENT_SECRET' } }))).toBe('(unset)');
  });

  it('logs its stderr as warn lines naming the server, long lines cut, its env values redacted', async () => {
    const c = await connect('/mcp/local');
    await c.callTool({ name: 'shout', arguments: { text: 'hello on stderr' } });
    await c.callTool({ name: 'shout', arguments: { text: `my token is ${ENV_SECRET}` } });
    await c.callTool({ name: 'shout', arguments: { text: 'long', length: 5000 } });
    const lines = await settle(async () => stderrLogs(), (l) => l.some((x) => x.truncated === true), 3_000);
    expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', mcp_server: 'local', stderr: 'hello on stderr' }));
    expect(lines).toContainEqual(expect.objectContaining({ stderr: 'my token is [redacted]' }));
    const long = lines.find((l) => l.truncated === true)!;
    expect((long.stderr as string).length).toBe(2000);
    expect(s.logText()).not.toContain(ENV_SECRET);
  });

  it('restarts a crashed process: the crashing call fails in words, and calls work again after the restart', async () => {
    const c = await connect('/mcp/local');
    const before = textOf(await c.callTool({ name: 'env', arguments: { name: 'GREETING' } }));
    expect(before).toBe('hello from config');
    const crash = await timed(c.callTool({ name: 'crash', arguments: {} }));
    expect(crash.error).toMatch(/The MCP server "local" could not run "crash": its process ended during the request \(it exited with code 3\); Warden starts it again in 1 s\./);
    const t0 = Date.now();
    const answer = await settle(
      () => c.callTool({ name: 'echo', arguments: { text: 'back' } }).then(textOf, (e: Error) => e.message),
      (v) => v === 'back',
      10_000,
    );
    expect(answer).toBe('back');
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(s.logs).toContainEqual(expect.objectContaining({ level: 'warn', mcp_server: 'local', reason: 'it exited with code 3', msg: expect.stringContaining('process ended') }));
    expect(stderrLogs()).toContainEqual(expect.objectContaining({ stderr: 'crashing on purpose' }));
  });

  it('a command that cannot start does not stop the gateway; its calls fail fast, saying why', async () => {
    const c = await connect('/mcp/broken');
    const r = await timed(c.callTool({ name: 'anything', arguments: {} }));
    expect(r.error).toMatch(/could not be asked for its tools: its process (could not be started|is not running) \(the command or its directory was not found: ENOENT\); Warden starts it again in \d+ s/);
    expect(r.ms).toBeLessThan(1_000);
    expect(s.logs).toContainEqual(expect.objectContaining({ level: 'warn', mcp_server: 'broken', command: '/nonexistent/warden-e2e-mcp-server' }));
  });

  it('never logs the configured env values or Warden\'s environment', () => {
    expect(s.logText()).not.toContain(ENV_SECRET);
    expect(s.logText()).not.toContain(PARENT_SECRET);
  });
});
