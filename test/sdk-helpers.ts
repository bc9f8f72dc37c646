import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One request as the SDK sent it. */
export interface SentRequest {
  url: string;
  path: string;
  at: number;
  headers: Record<string, string>;
  bodyBytes: number;
}

/** A fetch that records every request before passing it to the real one. */
export function countingFetch(): { fetch: typeof fetch; sent: SentRequest[]; to(path: string): SentRequest[] } {
  const sent: SentRequest[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
    const headers = Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    const body = init?.body;
    sent.push({ url, path: new URL(url).pathname, at: Date.now(), headers, bodyBytes: body instanceof Uint8Array ? body.length : typeof body === 'string' ? Buffer.byteLength(body) : 0 });
    return fetch(input, init);
  };
  return { fetch: wrapped, sent, to: (path) => sent.filter((r) => r.path === path) };
}

/** What the fault proxy does with request number `n` (0-based). */
export type Plan = (n: number, req: IncomingMessage) => 'forward' | 'hang_up' | 'forward_lose_answer' | 'stall' | { status: number; headers?: Record<string, string>; body?: unknown };

export interface FaultProxy {
  url: string;
  /** Every request that reached the proxy, in order, with when it arrived. */
  seen: Array<{ path: string; at: number }>;
  plan: Plan;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * An HTTP server in front of Warden that answers as `plan` says: forward
 * to Warden, answer with a fault, drop the connection, forward and then
 * drop the connection instead of answering, or never answer at all.
 */
export async function startFaultProxy(target: string, plan: Plan): Promise<FaultProxy> {
  const proxy: FaultProxy = { url: '', seen: [], plan, close: async () => {} };
  const server: Server = createServer(async (req, res) => {
    const n = proxy.seen.length;
    proxy.seen.push({ path: req.url ?? '', at: Date.now() });
    const body = await readBody(req);
    const action = proxy.plan(n, req);
    if (action === 'hang_up') return req.socket.destroy();
    if (action === 'stall') return; // the connection stays open until close()
    if (action !== 'forward' && action !== 'forward_lose_answer') {
      res.writeHead(action.status, { 'content-type': 'application/json', ...action.headers });
      return res.end(JSON.stringify(action.body ?? { error: { type: 'unavailable', code: 'test_fault', message: 'A fault the test asked for.' } }));
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
    const up = await fetch(target + (req.url ?? '/'), { method: req.method, headers, ...(body.length > 0 && { body }) });
    const text = Buffer.from(await up.arrayBuffer());
    // Warden took the request, but its answer never reaches the client.
    if (action === 'forward_lose_answer') return req.socket.destroy();
    res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The spool's request files (not its `.rejected`, `.corrupt` or temporary ones), in queue order. */
export function spoolFiles(path: string): string[] {
  return readdirSync(path)
    .filter((n) => n.endsWith('.json'))
    .sort();
}

/** What `promise` came to within `ms`: 'settled', or 'pending' if it had not by then. */
export async function within(ms: number, promise: Promise<unknown>): Promise<'settled' | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  try {
    return await Promise.race([promise.then(() => 'settled' as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Every event of a run, all pages, as Warden reads them back. */
export async function traceOf(url: string, key: string, runId: string): Promise<{ run: any; events: any[] }> {
  const events: any[] = [];
  let run: any;
  let cursor: string | null = null;
  do {
    const res = await fetch(`${url}/api/v1/runs/${runId}/trace?limit=10000${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${key}` } });
    const page = (await res.json()) as any;
    if (res.status !== 200) throw new Error(`trace of ${runId}: ${res.status} ${JSON.stringify(page)}`);
    run = page.run;
    events.push(...page.events);
    cursor = page.next_cursor;
  } while (cursor);
  return { run, events };
}

/** Poll until `check` holds, or fail after `ms`. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 5000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Make a signing secret with an admin key, as `POST /api/v1/signing-secrets` does for a person. */
export async function signingSecret(url: string, adminKey: string, name: string): Promise<{ keyId: string; secret: string }> {
  const res = await fetch(`${url}/api/v1/signing-secrets`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  const body = (await res.json()) as { id: string; secret: string };
  if (res.status !== 201) throw new Error(`signing secret: ${res.status} ${JSON.stringify(body)}`);
  return { keyId: body.id, secret: body.secret };
}
