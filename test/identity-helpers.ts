import { expect } from 'vitest';
import { type Stack, flushed } from './helpers.js';

export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

/** Turn a fetch response into status, parsed JSON (or text) and headers. */
export async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    /* not JSON: keep text */
  }
  return { status: res.status, body, headers: res.headers };
}

/** One JSON request to the gateway; `auth` is a bearer token (key or JWT), or extra headers. */
export async function call(
  s: Stack,
  method: string,
  path: string,
  opts: { auth?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth) headers.authorization = `Bearer ${opts.auth}`;
  if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  return answer(await fetch(s.url + path, { method, headers, body }));
}

export const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

/** POST /v1/chat/completions with a bearer credential (and optional extra headers). */
export function chatAs(s: Stack, auth: string | undefined, headers: Record<string, string> = {}): Promise<Answer> {
  return call(s, 'POST', '/v1/chat/completions', { auth, body: CHAT, headers });
}

export interface CreatedUser {
  id: string;
  username: string;
  password: string;
}

let seq = 0;

/** A user created through the admin API (the admin key's org unless `as` says otherwise). */
export async function createUser(s: Stack, roles: string[], opts: { as?: string; username?: string; password?: string } = {}): Promise<CreatedUser> {
  const username = opts.username ?? `user${++seq}-${Date.now().toString(36)}@example.com`;
  const password = opts.password ?? `Pw-${Math.random().toString(36).slice(2)}-long-enough`;
  const r = await call(s, 'POST', '/api/v1/users', { auth: opts.as ?? s.adminKey, body: { username, password, roles } });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return { id: r.body.id, username, password };
}

/** POST /auth/token with JSON. */
export function signIn(s: Stack, username: string, password: string): Promise<Answer> {
  return call(s, 'POST', '/auth/token', { body: { username, password } });
}

/** Events of the given kinds (comma-separated), newest first, as `key` sees them (default: the operator, who sees all). */
export async function events(s: Stack, kind: string, key = s.systemKey, limit = 200): Promise<any[]> {
  await flushed(s);
  const r = await call(s, 'GET', `/api/v1/audit?kind=${encodeURIComponent(kind)}&limit=${limit}`, { auth: key });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data;
}

/** The event a request with this x-request-id produced (there must be exactly one of that kind). */
export async function eventOf(s: Stack, kind: string, requestId: string, key = s.systemKey): Promise<any> {
  const found = (await events(s, kind, key)).filter((e) => e.request_id === requestId);
  expect(found, `${kind} events for request ${requestId}`).toHaveLength(1);
  return found[0];
}

/** The guard.finding event of one direction of a request (a request and its answer each get their own). */
export async function findingOf(s: Stack, requestId: string, direction: 'request' | 'response' = 'request'): Promise<any> {
  const found = (await events(s, 'guard.finding')).filter((e) => e.request_id === requestId && e.detail.direction === direction);
  expect(found, `${direction} guard.finding events for request ${requestId}`).toHaveLength(1);
  return found[0];
}

/** Every stored event, as the JSONL export gives them to the operator. */
export async function auditText(s: Stack): Promise<string> {
  await flushed(s);
  const r = await fetch(`${s.url}/api/v1/audit/export?format=jsonl`, { headers: { authorization: `Bearer ${s.systemKey}` } });
  expect(r.status).toBe(200);
  return r.text();
}

/** Neither the audit log nor the gateway's log lines contain any of these strings. */
export async function expectNowhere(s: Stack, secrets: string[]): Promise<void> {
  const audit = await auditText(s);
  s.gateway.logger.flush();
  const logs = s.logText();
  for (const secret of secrets) {
    expect(secret.length).toBeGreaterThan(8); // a short string could match by accident
    expect(audit.includes(secret), `audit contains ${secret.slice(0, 6)}…`).toBe(false);
    expect(logs.includes(secret), `logs contain ${secret.slice(0, 6)}…`).toBe(false);
  }
}

/** The one error envelope: exactly { error: { type, code, message, request_id } }. */
export function expectError(r: Answer, status: number, code: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(Object.keys(r.body)).toEqual(['error']);
  expect(r.body.error).toEqual({ type: expect.any(String), code, message: expect.any(String), request_id: r.headers.get('x-request-id') });
  expect(r.body.error.message.length).toBeGreaterThan(10);
}

/** A fresh x-request-id to find one request's event later. */
export function rid(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Polls until `check` holds or `ms` pass; returns the last value either way, for the caller to assert on. */
export async function settle<T>(probe: () => Promise<T>, check: (v: T) => boolean, ms = 3000): Promise<T> {
  const until = Date.now() + ms;
  let v = await probe();
  while (!check(v) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    v = await probe();
  }
  return v;
}
