/**
 * A stdio server supervised by McpUpstream: the fixture is a real MCP
 * server process (the official SDK over stdin/stdout).
 */
import { fileURLToPath } from 'node:url';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_RESTART_DELAY_MS, MIN_RESTART_DELAY_MS, RestartBackoff, STABLE_UPTIME_MS } from './stdio.js';
import { errorText } from './tools.js';
import { type McpServerConfig, McpUpstream } from './upstream.js';

const FIXTURE = fileURLToPath(new URL('../../../../test/fixtures/mcp-stdio-server.mjs', import.meta.url));

const open: McpUpstream[] = [];
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((u) => u.close()));
});

function upstream(over: Partial<McpServerConfig> = {}) {
  const logs: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const log = {
    info: (obj: object, msg: string) => void logs.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    warn: (obj: object, msg: string) => void logs.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
  };
  const cfg: McpServerConfig = { name: 'local', command: process.execPath, args: [FIXTURE], headers: {}, timeout_ms: 10_000, refresh_s: 300, circuit: { failures: 2, cooldown_s: 30 }, ...over };
  const u = new McpUpstream(cfg, () => {}, log);
  open.push(u);
  return { u, logs };
}

const textOf = (r: { content: unknown }) => (r.content as Array<{ text: string }>)[0]!.text;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

describe('RestartBackoff', () => {
  it('doubles from 0.5 s up to 30 s, and starts over once a process stayed up 30 s', () => {
    const b = new RestartBackoff();
    const delays = Array.from({ length: 9 }, () => b.next(100));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(delays[0]).toBe(MIN_RESTART_DELAY_MS);
    expect(Math.max(...delays)).toBe(MAX_RESTART_DELAY_MS);
    expect(b.next(STABLE_UPTIME_MS)).toBe(MIN_RESTART_DELAY_MS);
    expect(b.next(100)).toBe(1000);
  });
});

describe('stdio server', () => {
  it('starts eagerly, logs the start, lists and calls its tools', async () => {
    const { u, logs } = upstream();
    u.start();
    expect(await until(() => logs.some((l) => l.msg === 'MCP server process started'), 10_000)).toBe(true);
    expect(logs.find((l) => l.msg === 'MCP server process started')!.obj).toMatchObject({ mcp_server: 'local', command: process.execPath, pid: expect.any(Number) });
    expect((await u.tools()).map((t) => t.name)).toContain('echo');
    expect(textOf(await u.call('echo', { text: 'hi' }))).toBe('hi');
  });

  it('passes a JSON-RPC error on as the server said it, without counting it against the circuit', async () => {
    const { u } = upstream();
    for (let i = 0; i < 4; i++) {
      const err = await u.call('fail', {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(McpError);
      expect((err as McpError).message).toMatch(/this tool always fails/);
    }
    expect(u.circuit).toBe('closed');
  });

  it('says in words when its process dies under a call, fails fast while it is down, and restarts it', async () => {
    const { u, logs } = upstream();
    const pid = Number(textOf(await u.call('pid', {})));
    const err = await u.call('crash', {}).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(McpError);
    expect(errorText(err)).toMatch(/^its process ended during the request \(it exited with code 3\); Warden starts it again in 1 s$/);
    const t0 = Date.now();
    const down = await u.call('pid', {}).catch((e: unknown) => e);
    if (!(down && typeof down === 'object' && 'content' in down)) {
      expect(errorText(down)).toMatch(/^its process is not running \(it exited with code 3\); Warden (starts it again in 1 s|is starting it again)$/);
      expect(Date.now() - t0).toBeLessThan(500);
    }
    expect(logs.find((l) => l.msg.startsWith('MCP server process ended'))!.obj).toMatchObject({ mcp_server: 'local', reason: 'it exited with code 3', restart_in_ms: 500 });
    let next = 0;
    await until(async () => {
      next = Number(await u.call('pid', {}).then(textOf, () => 0));
      return next > 0;
    }, 10_000);
    expect(next).toBeGreaterThan(0);
    expect(next).not.toBe(pid);
    expect(u.circuit).toBe('closed');
  });

  it('stops its process on close', async () => {
    const { u } = upstream();
    const pid = Number(textOf(await u.call('pid', {})));
    expect(alive(pid)).toBe(true);
    await u.close();
    expect(await until(() => !alive(pid), 2_000)).toBe(true);
    await expect(u.call('pid', {})).rejects.toThrow(/the gateway is shutting down/);
  });

  it('kills a process that ignores its stdin closing and SIGTERM', async () => {
    const { u } = upstream({ args: [FIXTURE, '--ignore-sigterm'] });
    const pid = Number(textOf(await u.call('pid', {})));
    const t0 = Date.now();
    await u.close();
    expect(await until(() => !alive(pid), 3_000)).toBe(true);
    // stdin closed, 2 s, SIGTERM (ignored), 2 s, SIGKILL.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3_900);
  }, 15_000);

  it('fails calls fast, saying why, when its command cannot be started, and keeps retrying', async () => {
    const { u, logs } = upstream({ command: '/nonexistent/warden-test-mcp-server', args: [] });
    u.start();
    const t0 = Date.now();
    const err = await u.call('echo', { text: 'x' }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(errorText(err)).toMatch(/^its process (could not be started|is not running) \(the command or its directory was not found: ENOENT\); Warden starts it again in \d+ s$/);
    expect(await until(() => logs.filter((l) => l.msg.startsWith('MCP server process ended')).length >= 2, 5_000)).toBe(true);
  });

  it('gives the process its configured env on top of PATH and nothing of Warden\'s environment', async () => {
    process.env.WARDEN_UNIT_PARENT_SECRET = 'parent-secret-5512';
    try {
      const { u } = upstream({ env: { GREETING: 'hello from config' } });
      expect(textOf(await u.call('env', { name: 'GREETING' }))).toBe('hello from config');
      expect(textOf(await u.call('env', { name: 'WARDEN_UNIT_PARENT_SECRET' }))).toBe('(unset)');
      expect(textOf(await u.call('env', { name: 'PATH' }))).toBe(process.env.PATH);
    } finally {
      delete process.env.WARDEN_UNIT_PARENT_SECRET;
    }
  });
});
