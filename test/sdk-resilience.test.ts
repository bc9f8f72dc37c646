import { backoffDelay, parseRetryAfter, retryDelay, WardenClient, type WardenSdkError } from '@warden/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers.js';
import { eventually, type FaultProxy, startFaultProxy, tempDir, traceOf, within } from './sdk-helpers.js';

describe('backoff', () => {
  const policy = { baseMs: 100, maxMs: 1000 };

  it('draws each delay from [0, min(maxMs, baseMs·2^(attempt-1))): full jitter', () => {
    const ceilings = [100, 200, 400, 800, 1000, 1000];
    ceilings.forEach((ceiling, i) => {
      expect(backoffDelay(i + 1, policy, () => 0)).toBe(0);
      expect(backoffDelay(i + 1, policy, () => 0.999999)).toBe(ceiling - 1);
      expect(backoffDelay(i + 1, policy, () => 0.5)).toBe(ceiling / 2);
    });
  });

  it('waits at least what Retry-After asks, in seconds or as an HTTP-date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(retryDelay(1, policy, 2000, () => 0.9)).toBe(2000);
    expect(retryDelay(4, policy, 10, () => 0.5)).toBe(400);
  });
});

describe('retries and the circuit breaker, against Warden behind a faulty proxy', () => {
  let s: Stack;
  let proxy: FaultProxy | undefined;
  let client: WardenClient | undefined;
  beforeAll(async () => {
    s = await startStack();
  });
  afterEach(async () => {
    await client?.close({ timeoutMs: 1000 });
    await proxy?.close();
    client = proxy = undefined;
  });
  afterAll(async () => s?.close());

  it('honours a Retry-After within retry.maxMs (seconds on a 503, an HTTP-date on a 429) although its own backoff is shorter', async () => {
    const errors: WardenSdkError[] = [];
    proxy = await startFaultProxy(s.url, (n) => {
      if (n === 0) return { status: 503, headers: { 'retry-after': '1' }, body: { error: { type: 'unavailable', code: 'ingest_overloaded', message: 'full' } } };
      if (n === 2) return { status: 429, headers: { 'retry-after': new Date(Date.now() + 2000).toUTCString() } };
      return 'forward';
    });
    // Both waits are within retry.maxMs, so they are slept on, each request in turn.
    client = new WardenClient({ url: proxy.url, apiKey: s.agentKey, retry: { baseMs: 10, maxMs: 5000 }, onError: (e) => errors.push(e) });
    const run = client.startRun({ agent: 'sdk-retry-after' });
    run.reasoning('patience');
    expect(await run.finish()).toMatchObject({ events: 1 });
    const [create1, create2, batch1, batch2] = proxy.seen;
    expect([create1!.path, create2!.path, batch1!.path, batch2!.path]).toEqual(['/api/v1/runs', '/api/v1/runs', '/api/v1/trace-events/batch', '/api/v1/trace-events/batch']);
    expect(create2!.at - create1!.at).toBeGreaterThanOrEqual(990);
    // An HTTP-date has whole seconds: 2 s ahead is between 1 and 2 s away.
    expect(batch2!.at - batch1!.at).toBeGreaterThanOrEqual(990);
    expect(errors).toEqual([]);
  });

  it('opens after failureThreshold failures, sends nothing for cooldownMs, reopens when the probe fails, closes when one succeeds', async () => {
    const errors: WardenSdkError[] = [];
    let healthy = false;
    // Connections dropped (network errors) until the test makes Warden reachable.
    proxy = await startFaultProxy(s.url, () => (healthy ? 'forward' : 'hang_up'));
    client = new WardenClient({ url: proxy.url, apiKey: s.agentKey, retry: { maxAttempts: 10, baseMs: 5, maxMs: 10 }, circuit: { failureThreshold: 3, cooldownMs: 1000 }, onError: (e) => errors.push(e) });
    const run = client.startRun({ agent: 'sdk-circuit' });
    for (let i = 1; i <= 5; i++) run.reasoning(`step ${i}`);
    const finished = run.finish();

    await eventually(() => client!.stats().circuit === 'open', 2000, 'the circuit to open');
    expect(proxy.seen).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 500));
    expect(proxy.seen).toHaveLength(3); // nothing during the cooldown
    // The probe fails: open again for another cooldown, after exactly one request.
    await eventually(() => proxy!.seen.length === 4, 3000, 'the first probe');
    expect(proxy.seen[3]!.at - proxy.seen[2]!.at).toBeGreaterThanOrEqual(990);
    await new Promise((r) => setTimeout(r, 500));
    expect(proxy.seen).toHaveLength(4);
    expect(client.stats().circuit).toBe('open');

    // finish() does not wait out an outage: with no spool the finalize is held in memory for later.
    expect(await finished).toBeNull();
    healthy = true;
    await eventually(() => proxy!.seen.length === 7, 3000, 'the probe and the rest');
    await client.flush();
    expect(proxy.seen[4]!.at - proxy.seen[3]!.at).toBeGreaterThanOrEqual(990);
    expect(client.stats().circuit).toBe('closed');
    // The probe carried the create; the batch and the finalize followed: three requests, nothing lost.
    expect(proxy.seen.slice(4).map((r) => r.path)).toEqual(['/api/v1/runs', '/api/v1/trace-events/batch', `/api/v1/runs/${run.id}/finalize`]);
    const { run: stored, events } = await traceOf(s.url, s.agentKey, run.id);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(stored.status).toBe('completed');
    expect(errors).toEqual([]);
  });

  it('a Retry-After longer than retry.maxMs opens the circuit for that long (up to retry.maxRetryAfterMs) rather than sleeping on it', async () => {
    const errors: WardenSdkError[] = [];
    proxy = await startFaultProxy(s.url, (n) => (n === 0 ? { status: 503, headers: { 'retry-after': '3600' } } : 'forward'));
    client = new WardenClient({ url: proxy.url, apiKey: s.agentKey, retry: { baseMs: 10, maxMs: 100, maxRetryAfterMs: 600 }, onError: (e) => errors.push(e) });
    const run = client.startRun({ agent: 'sdk-long-retry-after' });
    run.reasoning('later');
    const started = Date.now();
    // An hour is not waited out inline: the finalize is held for later at once.
    expect(await run.finish()).toBeNull();
    expect(Date.now() - started).toBeLessThan(500);
    expect(client.stats().circuit).toBe('open');
    await eventually(() => proxy!.seen.length === 4, 3000, 'the probe and the rest');
    await client.flush();
    const gap = proxy.seen[1]!.at - proxy.seen[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(590);
    expect(gap).toBeLessThan(2000);
    expect(client.stats().circuit).toBe('closed');
    expect((await traceOf(s.url, s.agentKey, run.id)).run).toMatchObject({ status: 'completed', events: 1 });
    expect(errors).toEqual([]);
  });

  it("a Retry-After past setTimeout's range (over 24.8 days) is not taken as 1 ms: nothing more is sent for a while", async () => {
    proxy = await startFaultProxy(s.url, () => ({ status: 429, headers: { 'retry-after': '9999999999' } }));
    const errors: WardenSdkError[] = [];
    client = new WardenClient({ url: proxy.url, apiKey: s.agentKey, retry: { baseMs: 10, maxMs: 100 }, circuit: { cooldownMs: 100 }, onError: (e) => errors.push(e) });
    const run = client.startRun({ agent: 'sdk-huge-retry-after' });
    run.reasoning('much later');
    expect(await within(1000, run.finish())).toBe('settled');
    await new Promise((r) => setTimeout(r, 500));
    // Open for the default cap (5 minutes): neither an immediate retry nor a probe after cooldownMs.
    expect(proxy.seen).toHaveLength(1);
    expect(client.stats().circuit).toBe('open');
    expect(errors).toEqual([]); // a wait is not a failure: nothing is reported
  });

  it.each([
    ['without a spool', false],
    ['with a spool', true],
  ])('flush() racing close() settles when close() gives up on a Warden that never answers (%s), and so does a flush() after it', async (_how, spooled) => {
    const errors: WardenSdkError[] = [];
    const spool = tempDir('warden-sdk-race-');
    try {
      proxy = await startFaultProxy(s.url, () => 'stall');
      client = new WardenClient({ url: proxy.url, apiKey: s.agentKey, requestTimeoutMs: 60_000, ...(spooled && { spoolDir: spool.path }), onError: (e) => errors.push(e) });
      const run = client.startRun({ agent: 'sdk-flush-close' });
      run.reasoning('stuck');
      const flushed = client.flush();
      await eventually(() => proxy!.seen.length === 1, 3000, 'the create to be in flight');
      const started = Date.now();
      await client.close({ timeoutMs: 200 });
      expect(Date.now() - started).toBeLessThan(1500);
      expect(await within(1000, flushed)).toBe('settled');
      expect(await within(1000, client.flush())).toBe('settled');
      expect(errors.map((e) => e.code)).toEqual(spooled ? [] : ['lost_at_close']);
    } finally {
      spool.remove();
    }
  });

  it('retries a 502 and a dropped connection, then delivers', async () => {
    proxy = await startFaultProxy(s.url, (n) => (n === 0 ? { status: 502 } : n === 1 ? 'hang_up' : 'forward'));
    client = new WardenClient({ url: proxy.url, apiKey: s.agentKey, retry: { baseMs: 10 } });
    const run = client.startRun({ agent: 'sdk-502' });
    run.reasoning('again');
    expect(await run.finish()).toMatchObject({ events: 1 });
    expect(proxy.seen.map((r) => r.path)).toEqual(['/api/v1/runs', '/api/v1/runs', '/api/v1/runs', '/api/v1/trace-events/batch', `/api/v1/runs/${run.id}/finalize`]);
  });
});
