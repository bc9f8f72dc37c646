/**
 * McpUpstream's circuit breaker against real sockets on 127.0.0.1: a server
 * that accepts connections and never answers (timeouts), and one that
 * answers every request with HTTP 503.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { errorText } from './tools.js';
import { McpUpstream } from './upstream.js';

const servers: Server[] = [];
const upstreams: McpUpstream[] = [];
afterEach(async () => {
  await Promise.allSettled(upstreams.splice(0).map((u) => u.close()));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** An HTTP server on 127.0.0.1 that either never answers or answers 503. */
async function httpServer(mode: 'silent' | '503'): Promise<string> {
  const held: Socket[] = [];
  const srv = createServer((req, res) => {
    if (mode === '503') res.writeHead(503).end('upstream maintenance page with internal details');
    else held.push(req.socket);
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}/mcp`;
}

function upstream(url: string, timeout_ms: number, failures = 3, cooldown_s = 30): McpUpstream {
  const u = new McpUpstream({ name: 'remote', url, headers: { authorization: 'Bearer remote-secret-3391' }, timeout_ms, refresh_s: 300, circuit: { failures, cooldown_s } });
  upstreams.push(u);
  return u;
}

async function elapsed(p: Promise<unknown>): Promise<{ ms: number; err: unknown }> {
  const t0 = Date.now();
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  return { ms: Date.now() - t0, err };
}

describe('McpUpstream circuit breaker', () => {
  it('counts timeouts: after N of them the circuit opens and calls and listings fail at once', async () => {
    const u = upstream(await httpServer('silent'), 300, 3);
    for (let i = 0; i < 3; i++) {
      const { ms, err } = await elapsed(u.call('anything', {}));
      expect(errorText(err)).toBe('it did not answer in time');
      expect(ms).toBeGreaterThanOrEqual(250);
    }
    expect(u.circuit).toBe('open');
    const call = await elapsed(u.call('anything', {}));
    expect(call.ms).toBeLessThan(50);
    expect(errorText(call.err)).toMatch(/^it is unavailable \(3 failures in a row\); Warden retries it in (29|30) s$/);
    const list = await elapsed(u.tools());
    expect(list.ms).toBeLessThan(50);
    expect(errorText(list.err)).toMatch(/unavailable \(3 failures in a row\)/);
  });

  it('counts HTTP 5xx, and never repeats what the server said', async () => {
    const u = upstream(await httpServer('503'), 2000, 2);
    expect(errorText(await elapsed(u.tools()).then((r) => r.err))).toBe('it answered HTTP 503');
    expect(errorText(await elapsed(u.call('x', {})).then((r) => r.err))).toBe('it answered HTTP 503');
    expect(u.circuit).toBe('open');
    const text = errorText(await elapsed(u.call('x', {})).then((r) => r.err));
    expect(text).toMatch(/unavailable \(2 failures in a row\)/);
    expect(text).not.toMatch(/maintenance|remote-secret/);
  });

  it('is half-open after the cool-down: one trial goes to the server, and its failure reopens the circuit', async () => {
    const u = upstream(await httpServer('silent'), 200, 1, 1);
    await elapsed(u.call('x', {}));
    expect(u.circuit).toBe('open');
    await new Promise((r) => setTimeout(r, 1_050));
    expect(u.circuit).toBe('half_open');
    const trial = elapsed(u.call('x', {}));
    const other = await elapsed(u.call('x', {}));
    expect(errorText(other.err)).toMatch(/Warden is trying it again now/);
    expect(errorText((await trial).err)).toBe('it did not answer in time');
    expect(u.circuit).toBe('open');
  });
});
