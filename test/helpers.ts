import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type MockUpstream, type MockUpstreamOptions, startMockUpstream } from '@warden/mock-upstream';
import pg from 'pg';
import { stringify } from 'yaml';
import { parseConfig } from '../packages/warden/src/config/index.js';
import { type Gateway, startGateway } from '../packages/warden/src/gateway.js';
import { newKey } from '../packages/warden/src/identity/index.js';
import type { Role } from '../packages/warden/src/storage/types.js';

export const PROVIDER_KEY = 'sk-upstream-secret-123';

export interface Stack {
  gateway: Gateway;
  mock: MockUpstream;
  url: string;
  adminKey: string;
  /** The platform operator's key (role system): sees every org, and unattributed events. */
  systemKey: string;
  agentKey: string;
  /** A key limited to gpt-4o* models. */
  limitedKey: string;
  /** Parsed JSON log lines the gateway wrote. */
  logs: Array<Record<string, unknown>>;
  /** Raw log text, to search for leaked secrets. */
  logText(): string;
  dir: string;
  storageUrl: string;
  close(): Promise<void>;
}

export interface StackOptions {
  storageUrl?: string;
  /** Extra top-level config merged over the defaults. */
  config?: Record<string, unknown>;
  mock?: MockUpstreamOptions;
  /** Extra providers placed before the mock ones. */
  providers?: Array<Record<string, unknown>>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-test-'));
  const mock = await startMockUpstream({ apiKey: PROVIDER_KEY, recordRequests: true, ...opts.mock });
  const storageUrl = opts.storageUrl ?? `sqlite:${join(dir, 'warden.db')}`;
  const yaml = stringify({
    server: { host: '127.0.0.1', port: 0, body_limit_bytes: 64 * 1024 },
    storage: { url: storageUrl },
    log: { level: 'info' },
    events: { flush_interval_ms: 5 },
    providers: [
      ...(opts.providers ?? []),
      { name: 'mock-openai', type: 'openai', base_url: `${mock.url}/v1`, api_key: PROVIDER_KEY, models: ['gpt-*', 'text-embedding-*', 'mock-*', 'o*'] },
      { name: 'mock-anthropic', type: 'anthropic', base_url: mock.url, api_key: PROVIDER_KEY, models: ['claude-*', 'mock-*'] },
    ],
    ...opts.config,
  });
  const config = parseConfig(yaml, 'test', {});
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const gateway = await startGateway(config, { logDestination: sink });
  const mk = async (name: string, role: Role, models: string[] | null = null) => {
    const k = newKey(name, role, models);
    await gateway.storage.createKey(k.record);
    return k.key;
  };
  const stack: Stack = {
    gateway,
    mock,
    url: gateway.url,
    adminKey: await mk('admin', 'admin'),
    systemKey: await mk('system', 'system'),
    agentKey: await mk('agent', 'agent'),
    limitedKey: await mk('limited', 'agent', ['gpt-4o*']),
    get logs() {
      return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    logText: () => lines.join('\n'),
    dir,
    storageUrl,
    async close() {
      await gateway.close();
      await mock.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/**
 * A second gateway on the stack's database, in front of the same mock: what
 * another replica sees. Silent logs; `config` merges over the defaults.
 */
export async function startPeerGateway(stack: Stack, config: Record<string, unknown> = {}): Promise<Gateway> {
  const yaml = stringify({
    server: { host: '127.0.0.1', port: 0 },
    storage: { url: stack.storageUrl },
    log: { level: 'silent' },
    events: { flush_interval_ms: 5 },
    providers: [{ name: 'mock-openai', type: 'openai', base_url: `${stack.mock.url}/v1`, api_key: PROVIDER_KEY, models: ['gpt-*'] }],
    ...config,
  });
  return startGateway(parseConfig(yaml, 'test', {}), { logDestination: new Writable({ write: (_c, _e, cb) => cb() }) });
}

/** Wait for the writer to put queued events in storage. */
export async function flushed(stack: Stack): Promise<void> {
  await stack.gateway.writer.flush();
}

export async function adminGet(stack: Stack, path: string, key = stack.adminKey): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(stack.url + path, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: keep text */
  }
  return { status: res.status, body, headers: res.headers };
}

export const PG_ADMIN_URL = process.env.WARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A fresh, uniquely named Postgres database for one test file. Fails (never
 * skips) when the server is unreachable: CI must notice a missing Postgres.
 */
export async function freshPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `warden_e2e_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`PostgreSQL is required for this test and is not reachable at ${PG_ADMIN_URL}: ${(err as Error).message}`);
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
