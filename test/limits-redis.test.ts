/**
 * Limits shared through the real Redis on this machine: four Warden
 * processes on one Redis never admit more than the limit between them, and
 * an unreachable Redis fails open (each replica its share) or closed (503)
 * as configured, with a metric and a security event. Fails, never skips,
 * when Redis is not there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type MockUpstream, startMockUpstream } from '../packages/mock-upstream/src/index.js';
import { newKey } from '../packages/warden/src/identity/index.js';
import { openStorage } from '../packages/warden/src/storage/index.js';
import { startWarden, type WardenProcess } from './cli-helpers.js';
import { PROVIDER_KEY, startStack } from './helpers.js';
import { CHAT, chatAs, events, expectError } from './identity-helpers.js';

const REDIS_URL = process.env.WARDEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('four Warden processes on one Redis', () => {
  let dir = '';
  let mock: MockUpstream;
  const procs: WardenProcess[] = [];
  let key = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-limits-redis-'));
    mock = await startMockUpstream({ apiKey: PROVIDER_KEY });
    const db = `sqlite:${join(dir, 'warden.db')}`;
    const cfg = join(dir, 'warden.yaml');
    writeFileSync(
      cfg,
      stringify({
        server: { host: '127.0.0.1', port: 0 },
        storage: { url: db },
        log: { level: 'info' },
        limits: { redis_url: REDIS_URL, on_redis_unavailable: 'closed', rules: [{ name: 'shared-60', per: 'key', requests: 60, window: 'minute' }] },
        providers: [{ name: 'mock', type: 'openai', base_url: `${mock.url}/v1`, api_key: PROVIDER_KEY, models: ['*'] }],
      }),
    );
    const storage = await openStorage(db);
    await storage.migrate();
    const k = newKey('shared', 'agent', null);
    await storage.createKey(k.record);
    await storage.close();
    key = k.key;
    // Started one after another: the first applies the migrations, the rest find them done.
    for (let i = 0; i < 4; i++) procs.push(await startWarden(cfg, dir, { ...process.env, WARDEN_MASTER_KEY: '', WARDEN_REDIS_URL: '' }));
  }, 60_000);

  afterAll(async () => {
    for (const p of procs) p.proc.kill('SIGTERM');
    await Promise.all(procs.map((p) => p.exited));
    await mock?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('admit exactly the limit between them under 40 concurrent clients sending 300 calls', async () => {
    let next = 0;
    const statuses: number[] = [];
    const client = async () => {
      for (;;) {
        const i = next++;
        if (i >= 300) return;
        const url = procs[i % 4]!.url;
        const r = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify(CHAT),
        });
        await r.arrayBuffer();
        statuses.push(r.status);
      }
    };
    await Promise.all(Array.from({ length: 40 }, client));
    expect(statuses).toHaveLength(300);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(statuses.filter((s) => s === 200)).toHaveLength(60);
  }, 60_000);
});

describe('Redis unreachable', () => {
  // Nothing listens on port 1 of the loopback: every Redis call fails at once.
  const dead = 'redis://127.0.0.1:1';

  it('fail-closed: calls get 503 limits_unavailable, with a security event and the degraded gauge at 1', async () => {
    const s = await startStack({ config: { limits: { redis_url: dead, on_redis_unavailable: 'closed' } } });
    try {
      const r = await chatAs(s, s.agentKey);
      expectError(r, 503, 'limits_unavailable');
      expect(r.body.error.message).toContain('Rate limits cannot be checked');
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toMatch(/^warden_ratelimit_store_degraded 1$/m);
      const ev = await events(s, 'ratelimit.store_unavailable');
      expect(ev[0].detail).toMatchObject({ store: 'redis', mode: 'closed' });
    } finally {
      await s.close();
    }
  });

  it('fail-open: each replica enforces its share of the limit locally', async () => {
    const s = await startStack({
      config: { limits: { redis_url: dead, on_redis_unavailable: 'open', replicas: 2, rules: [{ name: 'ten', per: 'key', requests: 10, window: 'minute' }] } },
    });
    try {
      const statuses = [];
      for (let i = 0; i < 7; i++) statuses.push((await chatAs(s, s.agentKey)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
      expect((await events(s, 'ratelimit.store_unavailable'))[0].detail).toMatchObject({ mode: 'open', replicas: 2 });
    } finally {
      await s.close();
    }
  });
});
