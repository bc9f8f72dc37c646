import { randomUUID } from 'node:crypto';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FailoverLimitStore, LimitStoreUnavailableError, type FailoverOptions } from './failover-store.js';
import { RedisLimitStore } from './redis-store.js';
import type { LimitStore, WindowCheck } from './store.js';

// Real Redis behind a proxy the test can cut: an unreachable server fails these tests rather than skipping them.
const REDIS_URL = process.env.WARDEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const upstream = new URL(REDIS_URL);
const prefix = `warden:test:${randomUUID()}:`;
let admin: Redis;

/** A TCP relay to Redis on 127.0.0.1 that can drop every connection, refuse new ones, stall, and come back on the same port. */
class CuttableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  constructor() {
    this.#server = createServer((client) => {
      const server = createConnection({ host: upstream.hostname, port: Number(upstream.port || 6379) });
      for (const s of [client, server]) {
        this.#sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.#sockets.delete(s));
      }
      client.pipe(server).pipe(client);
      client.on('close', () => server.destroy());
      server.on('close', () => client.destroy());
    });
  }

  get url(): string {
    return `redis://127.0.0.1:${this.#port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  /** Redis goes away: open connections die and new ones are refused. */
  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    await closed;
  }

  /** Redis hangs: connections stay open but nothing passes (TCP buffers the bytes). */
  stall(): void {
    for (const s of this.#sockets) s.pause();
  }

  /** The hang ends: what was buffered is delivered. */
  unstall(): void {
    for (const s of this.#sockets) s.resume();
  }

  async close(): Promise<void> {
    if (this.#server.listening) await this.cut();
  }
}

const win = (key: string, limit: number, amount = 1): WindowCheck => ({ key, windowMs: 60_000, limit, amount });

/** Polls `f` until it returns a value, for at most `ms`. */
async function within<T>(ms: number, f: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await sleep(50);
  }
}

interface Harness {
  proxy: CuttableProxy;
  store: FailoverLimitStore;
  unavailable: Error[];
  recovered: number;
  primaryCalls: number;
}

const open: Harness[] = [];

async function harness(opts: Omit<FailoverOptions, 'onUnavailable' | 'onRecovered'>, commandTimeoutMs = 250): Promise<Harness> {
  const proxy = new CuttableProxy();
  await proxy.listen();
  const redis = new RedisLimitStore({ url: proxy.url, prefix, commandTimeoutMs });
  await redis.ready(2000);
  const h: Harness = { proxy, store: undefined as unknown as FailoverLimitStore, unavailable: [], recovered: 0, primaryCalls: 0 };
  // Counts the reserves that reach the primary, to see probing at work.
  const counted: LimitStore = {
    kind: 'redis',
    reserve: (...a) => (h.primaryCalls++, redis.reserve(...a)),
    settle: (...a) => redis.settle(...a),
    release: (...a) => redis.release(...a),
    close: () => redis.close(),
  };
  h.store = new FailoverLimitStore(counted, { ...opts, onUnavailable: (err) => h.unavailable.push(err), onRecovered: () => h.recovered++ });
  open.push(h);
  return h;
}

beforeAll(() => {
  admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 1000 });
  admin.on('error', () => undefined);
});

afterEach(async () => {
  for (const h of open.splice(0)) {
    await h.store.close();
    await h.proxy.close();
  }
});

afterAll(async () => {
  const keys = await admin.keys(`${prefix}*`).catch(() => []);
  if (keys.length) await admin.del(...keys);
  admin.disconnect();
});

describe('FailoverLimitStore', () => {
  it('sends every call to Redis while it answers', async () => {
    const { store } = await harness({ mode: 'closed', replicas: 1 });
    const k = randomUUID();
    expect((await store.reserve([win(k, 5)], [], '', 1000)).admitted).toBe(true);
    expect(store.degraded).toBe(false);
    expect(await admin.hlen(`${prefix}w:${k}`)).toBe(1);
  });

  it('closed: refuses with LimitStoreUnavailableError while Redis is cut and goes back to Redis after it returns', async () => {
    const h = await harness({ mode: 'closed', replicas: 1, probeIntervalMs: 200 });
    const k = randomUUID();
    await h.store.reserve([win(k, 100)], [], '', 1000);
    await h.proxy.cut();
    for (let i = 0; i < 3; i++) await expect(h.store.reserve([win(k, 100)], [], '', 1000)).rejects.toBeInstanceOf(LimitStoreUnavailableError);
    expect(h.store.degraded).toBe(true);
    expect(h.unavailable).toHaveLength(1);
    expect(h.recovered).toBe(0);

    await h.proxy.listen();
    const back = await within(5000, () => h.store.reserve([win(k, 100)], [], '', 1000).catch(() => undefined));
    expect(back.windows[0]!.used).toBe(2);
    expect(h.store.degraded).toBe(false);
    expect(h.recovered).toBe(1);
    expect(h.unavailable).toHaveLength(1);
    expect(Number(await admin.hget(`${prefix}w:${k}`, String(back.ticket.buckets[0])))).toBeGreaterThanOrEqual(1);
  });

  it('closed: the refusal carries the catalogue code and a message for a person', async () => {
    const h = await harness({ mode: 'closed', replicas: 1 });
    await h.proxy.cut();
    const err = await h.store.reserve([win(randomUUID(), 5)], [], '', 1000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitStoreUnavailableError);
    expect(err).toMatchObject({ code: 'limits_unavailable', status: 503 });
    expect((err as Error).message).toMatch(/Rate limits cannot be checked right now/);
  });

  it('open with 2 replicas: a limit of 10 admits 5 locally while Redis is cut', async () => {
    const h = await harness({ mode: 'open', replicas: 2, probeIntervalMs: 60_000 });
    await h.proxy.cut();
    const k = randomUUID();
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await h.store.reserve([win(k, 10)], [], '', 1000));
    expect(results.filter((r) => r.admitted)).toHaveLength(5);
    expect(h.store.degraded).toBe(true);
    expect(h.unavailable).toHaveLength(1);
  });

  it('open: shares concurrency and USD limits among replicas', async () => {
    const h = await harness({ mode: 'open', replicas: 3, probeIntervalMs: 60_000 });
    await h.proxy.cut();
    const c = [{ key: randomUUID(), limit: 7 }];
    const slots = [];
    for (let i = 0; i < 3; i++) slots.push(await h.store.reserve([], c, `h${i}`, 60_000));
    expect(slots.map((r) => r.admitted)).toEqual([true, true, false]);
    await h.store.release(c, slots[0]!.ticket);
    expect((await h.store.reserve([], c, 'h9', 60_000)).admitted).toBe(true);

    const usd = randomUUID();
    expect((await h.store.reserve([win(usd, 1.5, 0.5)], [], '', 1000)).admitted).toBe(true);
    expect((await h.store.reserve([win(usd, 1.5, 0.25)], [], '', 1000)).admitted).toBe(false);
  });

  it('open: a local reservation settles locally and a Redis one settles in Redis', async () => {
    const h = await harness({ mode: 'open', replicas: 1, probeIntervalMs: 200 });
    const k = randomUUID();
    const shared = await h.store.reserve([win(k, 1000, 100)], [], '', 1000);
    await h.proxy.cut();
    const local = await h.store.reserve([win(k, 1000, 100)], [], '', 1000);
    await h.store.settle([win(k, 1000, 100)], local.ticket, [-60]);
    expect((await h.store.reserve([win(k, 1000, 0)], [], '', 1000)).windows[0]!.used).toBe(40);

    await h.proxy.listen();
    await within(5000, async () => ((await h.store.reserve([win(k, 1000, 0)], [], '', 1000)) && !h.store.degraded ? true : undefined));
    await h.store.settle([win(k, 1000, 100)], shared.ticket, [-70]);
    expect((await h.store.reserve([win(k, 1000, 0)], [], '', 1000)).windows[0]!.used).toBe(30);
  });

  it('settle and release resolve at once without throwing while Redis is cut, and count the loss', async () => {
    const h = await harness({ mode: 'open', replicas: 1 });
    const c = [{ key: randomUUID(), limit: 5 }];
    const w = [win(randomUUID(), 100, 10)];
    const r = await h.store.reserve(w, c, 'h', 60_000);
    await h.proxy.cut();
    const started = Date.now();
    await expect(h.store.settle(w, r.ticket, [5])).resolves.toBeUndefined();
    await expect(h.store.release(c, r.ticket)).resolves.toBeUndefined();
    // No offline queue: a dead connection fails the call now instead of holding it.
    expect(Date.now() - started).toBeLessThan(200);
    expect(h.store.updateErrors).toBe(2);
  });

  it('tries Redis at most once per probe interval while degraded', async () => {
    const h = await harness({ mode: 'open', replicas: 1, probeIntervalMs: 300 });
    await h.proxy.cut();
    const start = Date.now();
    await h.store.reserve([win(randomUUID(), 10)], [], '', 1000);
    const before = h.primaryCalls;
    while (Date.now() - start < 1000) {
      await h.store.reserve([win(randomUUID(), 10)], [], '', 1000);
      await sleep(10);
    }
    // 1000 ms at one probe per 300 ms: at most 3 probes after the call that failed.
    expect(before).toBe(1);
    expect(h.primaryCalls - before).toBeGreaterThanOrEqual(2);
    expect(h.primaryCalls - before).toBeLessThanOrEqual(3);
  });

  it('counts a Redis that stops answering as unavailable after the command timeout', async () => {
    const h = await harness({ mode: 'closed', replicas: 1, probeIntervalMs: 60_000 });
    h.proxy.stall();
    const started = Date.now();
    await expect(h.store.reserve([win(randomUUID(), 5)], [], '', 1000)).rejects.toBeInstanceOf(LimitStoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(h.unavailable).toHaveLength(1);
    expect(h.unavailable[0]!.message).toMatch(/timed out/i);
  });

  it('gives back a reservation that reached Redis after the call had already timed out', async () => {
    const h = await harness({ mode: 'closed', replicas: 1, probeIntervalMs: 60_000, callTimeoutMs: 300 }, 5000);
    const k = randomUUID();
    const c = [{ key: randomUUID(), limit: 5 }];
    h.proxy.stall();
    const started = Date.now();
    await expect(h.store.reserve([win(k, 10, 3)], c, 'late', 60_000)).rejects.toBeInstanceOf(LimitStoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(1000);
    h.proxy.unstall();
    // The late reserve lands (its bucket field appears) and is then undone: charge back to 0, slot freed.
    await within(3000, async () => {
      const fields = await admin.hgetall(`${prefix}w:${k}`);
      const values = Object.values(fields);
      return values.length === 1 && Number(values[0]) === 0 && (await admin.zcard(`${prefix}c:${c[0]!.key}`)) === 0 ? true : undefined;
    });
  });
});
