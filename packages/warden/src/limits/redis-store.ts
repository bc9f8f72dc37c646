import { Redis } from 'ioredis';
import type { ConcurrencyCheck, LimitStore, ReservationTicket, ReserveResult, WindowCheck, WindowState } from './store.js';
import { BUCKETS, resetS, retryAfterS } from './window.js';

/**
 * Counters in one Redis shared by every replica (a single server or a
 * sentinel-managed primary). Each decision is one Lua script, so it is
 * atomic across replicas, and it reads Redis's clock (TIME), so replicas
 * whose own clocks drift still agree on the buckets.
 *
 * Not for Redis Cluster as it stands: a script may only touch keys of one
 * hash slot there, and one reservation spans several rules' keys. A cluster
 * would need every key of a call tagged into one slot (`{subject}`), which
 * the rule keys do not do.
 *
 * Layout: `${prefix}w:${key}` is a HASH of bucket index → amount (a float
 * string, written by HINCRBYFLOAT); `${prefix}c:${key}` is a ZSET of
 * holder → lease expiry (ms, Redis clock).
 */

export type RedisStoreOptions = { url: string; prefix?: string; commandTimeoutMs?: number } | { client: Redis; prefix?: string };

/** What the Redis store returns: the common result plus the server clock the decision used. */
export interface RedisReserveResult extends ReserveResult {
  /** Redis TIME at the decision, ms. */
  serverNowMs: number;
}

const DEFAULT_PREFIX = 'warden:limits:';
const DEFAULT_COMMAND_TIMEOUT_MS = 250;
/** A dead host must not hold a reconnect attempt (or the first call) for long. */
const CONNECT_TIMEOUT_MS = 1000;
/** ioredis backs off 100 ms, 200 ms, … between reconnects; capped so recovery is noticed within a second. */
const MAX_RECONNECT_DELAY_MS = 1000;

/** Shared by both scripts: the Redis clock in whole ms, the unit the JS side uses too. */
const LUA_PRELUDE = `
local BUCKETS = ${BUCKETS}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS: the window hashes, then the concurrency zsets.
 * ARGV: nWindows, holder, leaseMs, (windowMs, limit, amount) per window, limit per concurrency key.
 * Reply: admitted, refusedBy, now, (bucket, used, newest|'', fits, held) per window, inFlight per concurrency key;
 * `held` lists [index, amount, …] of a window that did not fit (retryAfterS is computed from it in JS by window.ts).
 * Floats go back as %.17g strings: a Lua number in a reply is truncated to an integer.
 */
const RESERVE_LUA = `${LUA_PRELUDE}
local function live_buckets(key, oldest)
  local flat = redis.call('HGETALL', key)
  local live, dead = {}, {}
  for j = 1, #flat, 2 do
    local k = tonumber(flat[j])
    if k < oldest then dead[#dead + 1] = flat[j] else live[#live + 1] = { k, tonumber(flat[j + 1]), flat[j], flat[j + 1] } end
  end
  if #dead > 0 then redis.call('HDEL', key, unpack(dead)) end
  -- Summed in index order, as the memory store does, so float sums agree to the last bit.
  table.sort(live, function(x, y) return x[1] < y[1] end)
  local used = 0
  for j = 1, #live do used = used + live[j][2] end
  return live, used
end

local nW = tonumber(ARGV[1])
local holder = ARGV[2]
local lease = tonumber(ARGV[3])
local nC = #KEYS - nW
local refused = -1
local s = {}
for i = 1, nW do
  local a = 3 + (i - 1) * 3
  local windowMs, limit, amount = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local w = windowMs / BUCKETS
  local current = math.floor(now / w)
  local live, used = live_buckets(KEYS[i], current - BUCKETS)
  local fits = used + amount <= limit
  if not fits and refused < 0 then refused = i - 1 end
  s[i] = { windowMs = windowMs, w = w, current = current, live = live, used = used, amount = amount, amountArg = ARGV[a + 3], fits = fits }
end
local inflight = {}
for i = 1, nC do
  local key = KEYS[nW + i]
  -- Leases of replicas that died holding a slot run out here.
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  inflight[i] = redis.call('ZCARD', key)
  if refused < 0 and inflight[i] + 1 > tonumber(ARGV[3 + nW * 3 + i]) then refused = nW + i - 1 end
end

if refused < 0 then
  for i = 1, nW do
    local x = s[i]
    if x.amount ~= 0 then
      redis.call('HINCRBYFLOAT', KEYS[i], string.format('%d', x.current), x.amountArg)
      -- The newest bucket stays counted until one bucket past a whole window.
      redis.call('PEXPIRE', KEYS[i], string.format('%d', math.ceil(x.windowMs + x.w)))
      x.used = x.used + x.amount
      x.live[#x.live + 1] = { x.current }
    end
  end
  for i = 1, nC do
    local key = KEYS[nW + i]
    redis.call('ZADD', key, string.format('%d', now + lease), holder)
    if redis.call('PTTL', key) < lease then redis.call('PEXPIRE', key, string.format('%d', lease)) end
    inflight[i] = inflight[i] + 1
  end
end

local reply = { refused < 0 and 1 or 0, refused, now }
for i = 1, nW do
  local x = s[i]
  local held = {}
  if not x.fits then
    for j = 1, #x.live do held[#held + 1] = x.live[j][3]; held[#held + 1] = x.live[j][4] end
  end
  local newest = ''
  for j = 1, #x.live do if newest == '' or x.live[j][1] > newest then newest = x.live[j][1] end end
  reply[#reply + 1] = x.current
  reply[#reply + 1] = string.format('%.17g', x.used)
  reply[#reply + 1] = newest
  reply[#reply + 1] = x.fits and 1 or 0
  reply[#reply + 1] = held
end
for i = 1, nC do reply[#reply + 1] = inflight[i] end
return reply
`;

/**
 * KEYS: window hashes. ARGV: (windowMs, bucket, delta) per key.
 * A bucket that has left its window is not touched: it no longer counts.
 */
const SETTLE_LUA = `${LUA_PRELUDE}
for i = 1, #KEYS do
  local a = (i - 1) * 3
  local windowMs, bucket, deltaArg = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3]
  local delta = tonumber(deltaArg)
  local w = windowMs / BUCKETS
  if bucket >= math.floor(now / w) - BUCKETS then
    local key, field = KEYS[i], ARGV[a + 2]
    local held = redis.call('HGET', key, field)
    if held then
      if tonumber(held) + delta < 0 then redis.call('HSET', key, field, '0') else redis.call('HINCRBYFLOAT', key, field, deltaArg) end
    elseif delta > 0 then
      -- Expired meanwhile (a long stream): what was produced still counts while its bucket is live.
      redis.call('HINCRBYFLOAT', key, field, deltaArg)
      local ttl = math.ceil((bucket + BUCKETS + 1) * w - now)
      if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, string.format('%d', ttl)) end
    end
  end
end
return 0
`;

/** The commands defineCommand adds (ioredis types them only at run time). */
interface LimitScripts {
  wardenLimitReserve(numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
  wardenLimitSettle(numKeys: number, ...keysAndArgs: string[]): Promise<unknown>;
}

export class RedisLimitStore implements LimitStore {
  readonly kind = 'redis' as const;
  readonly #client: Redis;
  readonly #scripts: LimitScripts;
  readonly #prefix: string;
  readonly #ownsClient: boolean;
  /** The first connection, awaited once: once connected (or after that wait), calls fail fast while Redis is away. */
  #startup: Promise<void> | undefined;

  constructor(opts: RedisStoreOptions | Redis) {
    if (opts instanceof Redis || !('url' in opts)) {
      this.#client = opts instanceof Redis ? opts : opts.client;
      this.#ownsClient = false;
    } else {
      this.#client = new Redis(opts.url, {
        // A dead Redis must fail the call now (the failover store answers it), not queue it.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        connectTimeout: CONNECT_TIMEOUT_MS,
        commandTimeout: opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
        retryStrategy: (times) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
      });
      this.#ownsClient = true;
      // Failures reach callers as rejected calls; an 'error' event without a listener would crash the process.
      this.#client.on('error', () => undefined);
    }
    this.#prefix = (opts instanceof Redis ? undefined : opts.prefix) ?? DEFAULT_PREFIX;
    this.#client.defineCommand('wardenLimitReserve', { lua: RESERVE_LUA });
    this.#client.defineCommand('wardenLimitSettle', { lua: SETTLE_LUA });
    this.#scripts = this.#client as unknown as LimitScripts;
    if (this.#client.status !== 'ready') this.#client.once('ready', () => (this.#startup ??= Promise.resolve()));
    else this.#startup = Promise.resolve();
  }

  /** Resolves once the client is connected; rejects after `timeoutMs` (for a start-up check). */
  ready(timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
    const c = this.#client;
    if (c.status === 'ready') return Promise.resolve();
    if (c.status === 'wait') c.connect().catch(() => undefined);
    return new Promise<void>((resolve, reject) => {
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        c.off('ready', onReady);
        reject(new Error(`Redis did not become ready within ${timeoutMs} ms (status ${c.status})`));
      }, timeoutMs);
      c.once('ready', onReady);
    });
  }

  async reserve(windows: WindowCheck[], concurrency: ConcurrencyCheck[], holder: string, leaseMs: number): Promise<RedisReserveResult> {
    const keys = [...windows.map((c) => this.#windowKey(c.key)), ...concurrency.map((c) => `${this.#prefix}c:${c.key}`)];
    const args = [String(windows.length), holder, String(Math.max(1, Math.ceil(leaseMs)))];
    for (const c of windows) args.push(String(c.windowMs), String(c.limit), String(c.amount));
    for (const c of concurrency) args.push(String(c.limit));
    await this.#usable();
    const reply = await this.#scripts.wardenLimitReserve(keys.length, ...keys, ...args);
    return toReserveResult(reply, windows, holder);
  }

  async settle(windows: WindowCheck[], ticket: ReservationTicket, deltas: number[]): Promise<void> {
    const keys: string[] = [];
    const args: string[] = [];
    for (let i = 0; i < windows.length; i++) {
      const d = deltas[i] ?? 0;
      const bucket = ticket.buckets[i];
      if (d === 0 || !Number.isFinite(d) || bucket === undefined) continue;
      keys.push(this.#windowKey(windows[i]!.key));
      args.push(String(windows[i]!.windowMs), String(bucket), String(d));
    }
    if (keys.length === 0) return;
    await this.#usable();
    await this.#scripts.wardenLimitSettle(keys.length, ...keys, ...args);
  }

  async release(concurrency: ConcurrencyCheck[], ticket: ReservationTicket): Promise<void> {
    if (concurrency.length === 0) return;
    await this.#usable();
    await Promise.all(concurrency.map((c) => this.#client.zrem(`${this.#prefix}c:${c.key}`, ticket.holder)));
  }

  async close(): Promise<void> {
    if (!this.#ownsClient) return;
    const c = this.#client;
    // QUIT needs a live connection (there is no offline queue); otherwise just stop reconnecting.
    if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
    else c.disconnect();
  }

  #windowKey(key: string): string {
    return `${this.#prefix}w:${key}`;
  }

  #usable(): Promise<void> | undefined {
    if (this.#client.status === 'ready') return undefined;
    // Only the start-up connection is waited for; a lost one must fail the call at once.
    this.#startup ??= this.ready().catch(() => undefined);
    return this.#startup;
  }
}

function toReserveResult(reply: unknown, windows: WindowCheck[], holder: string): RedisReserveResult {
  if (!Array.isArray(reply) || reply.length < 3 + windows.length * 5) throw new Error('Redis answered the reserve script with an unexpected reply');
  const nowMs = Number(reply[2]);
  const states: WindowState[] = [];
  const buckets: number[] = [];
  let at = 3;
  for (const c of windows) {
    const used = Number(reply[at + 1]);
    const newest = reply[at + 2] === '' ? undefined : Number(reply[at + 2]);
    const fits = reply[at + 3] === 1;
    const held = pairsOf(reply[at + 4] as string[]);
    buckets.push(Number(reply[at]));
    states.push({
      used,
      remaining: Math.max(0, c.limit - used),
      retryAfterS: fits ? 0 : retryAfterS(held, used, c.amount, c.limit, nowMs, c.windowMs),
      resetS: resetS(newest, nowMs, c.windowMs),
    });
    at += 5;
  }
  return {
    admitted: reply[0] === 1,
    windows: states,
    inFlight: reply.slice(at).map(Number),
    refusedBy: Number(reply[1]),
    ticket: { buckets, holder },
    serverNowMs: nowMs,
  };
}

function pairsOf(flat: string[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([Number(flat[i]), Number(flat[i + 1])]);
  return out;
}
