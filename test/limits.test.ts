/**
 * Rate limits, token limits, budgets and concurrency, driven through the
 * gateway as a client sees them: 429 envelopes with Retry-After and the IETF
 * RateLimit fields, ratelimit.exceeded / budget.exceeded security events,
 * reservations settled to real usage (streams and aborted streams too).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateCall } from '../packages/warden/src/limits/index.js';
import { randomUUID } from 'node:crypto';
import { flushed, type Stack, type StackOptions, startPeerGateway, startStack } from './helpers.js';
import { call, CHAT, chatAs, eventOf, expectError, rid, settle } from './identity-helpers.js';

function chatWith(s: Stack, key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return call(s, 'POST', '/v1/chat/completions', { auth: key, body, headers });
}

async function metric(s: Stack, line: RegExp): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const m = text.split('\n').find((l) => line.test(l));
  return m ? Number(m.split(' ').at(-1)) : 0;
}

/** RateLimit: "name";r=N;t=S → { name: { r, t } } */
function rateLimitState(h: string | null): Record<string, { r: number; t: number }> {
  const out: Record<string, { r: number; t: number }> = {};
  for (const item of (h ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    const [name, ...params] = item.split(';');
    const p = Object.fromEntries(params.map((x) => x.split('=') as [string, string]));
    out[JSON.parse(name!) as string] = { r: Number(p.r), t: Number(p.t) };
  }
  return out;
}

const REDIS_URL = process.env.WARDEN_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Every behaviour below, with in-process counters and with the real Redis (a fresh key prefix per gateway). */
const STORES: Array<[string, () => Record<string, unknown>]> = [
  ['in-process', () => ({})],
  ['Redis', () => ({ redis_url: REDIS_URL, redis_prefix: `warden:test:${randomUUID()}:`, on_redis_unavailable: 'closed' })],
];

describe.each(STORES)('%s counters', (_store, storeConfig) => {
  const start = (opts: StackOptions = {}) =>
    startStack({ ...opts, config: { ...opts.config, limits: { ...(opts.config?.limits as Record<string, unknown> | undefined), ...storeConfig() } } });

  describe('request limits', () => {
    let s: Stack;
    beforeAll(async () => {
      s = await start({
        config: {
          limits: {
            roles: { agent: 3 },
            rules: [{ name: 'admin-api', per: 'caller', requests: 2, window: 'minute', match: { route: ['/api/v1/keys'] } }],
          },
        },
      });
    });
    afterAll(() => s?.close());

    it('admits the role default per minute, then answers 429 with Retry-After, the RateLimit fields and a message naming the limit', async () => {
      const ok = [];
      for (let i = 0; i < 3; i++) ok.push(await chatAs(s, s.agentKey));
      expect(ok.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(ok[0]!.headers.get('ratelimit-policy')).toBe('"role-agent";q=3;w=60');
      expect(rateLimitState(ok.map((r) => r.headers.get('ratelimit'))[2]!)['role-agent']!.r).toBe(0);
      const id = rid('limited');
      const refused = await chatAs(s, s.agentKey, { 'x-request-id': id });
      expectError(refused, 429, 'rate_limited');
      expect(refused.body.error.type).toBe('rate_limit');
      expect(refused.body.error.message).toMatch(/^Limit "role-agent" reached: 3 requests per minute for this caller\. Retry in \d+ s\.$/);
      const retry = Number(refused.headers.get('retry-after'));
      expect(retry).toBeGreaterThanOrEqual(1);
      expect(retry).toBeLessThanOrEqual(63);
      expect(refused.headers.get('ratelimit-policy')).toBe('"role-agent";q=3;w=60');
      expect(rateLimitState(refused.headers.get('ratelimit'))['role-agent']!.r).toBe(0);
      // Nothing reached the provider for the refused call.
      expect(s.mock.requests.filter((r) => r.headers['x-request-id'] === id)).toHaveLength(0);

      const event = await eventOf(s, 'ratelimit.exceeded', id);
      expect(event).toMatchObject({ status: 429, decision: 'deny', error_code: 'rate_limited' });
      expect(event.detail).toMatchObject({ limit: 'role-agent', metric: 'requests', per: 'caller', limit_value: 3, window_s: 60, used: 3 });
      expect(event.detail.risk_score).toBeGreaterThan(0);
      expect(await metric(s, /^warden_ratelimit_decisions_total\{outcome="limited",limit="role-agent"\}/)).toBeGreaterThanOrEqual(1);
    });

    it('keeps counting per caller: another key with the same role is not affected', async () => {
      const r = await chatAs(s, s.limitedKey);
      expect(r.status).toBe(200);
    });

    it('repeated violations raise the risk score', async () => {
      const scores = [];
      for (let i = 0; i < 3; i++) {
        const id = rid('risk');
        expect((await chatAs(s, s.agentKey, { 'x-request-id': id })).status).toBe(429);
        scores.push((await eventOf(s, 'ratelimit.exceeded', id)).detail.risk_score);
      }
      expect(scores[1]).toBeGreaterThan(scores[0]);
      expect(scores[2]).toBeGreaterThan(scores[1]);
    });

    it('limits admin routes too, with the fields on success and refusal alike', async () => {
      const a = await call(s, 'GET', '/api/v1/keys', { auth: s.adminKey });
      expect(a.status).toBe(200);
      expect(a.headers.get('ratelimit-policy')).toContain('"admin-api";q=2;w=60');
      expect((await call(s, 'GET', '/api/v1/keys', { auth: s.adminKey })).status).toBe(200);
      const refused = await call(s, 'GET', '/api/v1/keys', { auth: s.adminKey });
      expectError(refused, 429, 'rate_limited');
      expect(refused.body.error.message).toContain('"admin-api"');
      // Other admin routes are not under that rule.
      expect((await call(s, 'GET', '/api/v1/roles', { auth: s.adminKey })).status).toBe(200);
    });
  });

  describe('overrides', () => {
    let s: Stack;
    beforeAll(async () => {
      s = await start({ config: { limits: { roles: { agent: 1 } } } });
    });
    afterAll(() => s?.close());

    it('a rule that replaces the role default raises one org above it', async () => {
      const t = await start({
        config: { limits: { roles: { agent: 1 }, rules: [{ name: 'busy-org', per: 'caller', requests: 4, window: 'minute', match: { org: ['default'] }, replaces: ['role-agent'] }] } },
      });
      try {
        const statuses = [];
        for (let i = 0; i < 5; i++) statuses.push((await chatAs(t, t.agentKey)).status);
        expect(statuses).toEqual([200, 200, 200, 200, 429]);
      } finally {
        await t.close();
      }
    });

    it('without it, the role default applies', async () => {
      expect((await chatAs(s, s.agentKey)).status).toBe(200);
      expect((await chatAs(s, s.agentKey)).status).toBe(429);
    });
  });

  describe('token limits and budgets', () => {
    let s: Stack;
    beforeAll(async () => {
      s = await start({
        config: {
          limits: {
            default_max_tokens: 50,
            rules: [
              { name: 'agent-tokens', per: 'key', tokens: 2000, window: 'minute', match: { role: ['agent'] } },
              { name: 'admin-budget', per: 'key', spend_usd: 0.00005, window: 'day', match: { role: ['admin'] } },
            ],
          },
        },
      });
    });
    afterAll(() => s?.close());

    const tokensLeft = (r: { headers: Headers }) => rateLimitState(r.headers.get('ratelimit'))['agent-tokens']!.r;

    it('reserves prompt plus max_tokens, then settles to the usage the provider reported', async () => {
      const body = { ...CHAT, max_tokens: 300 };
      const first = await chatWith(s, s.agentKey, body);
      expect(first.status).toBe(200);
      const est = estimateCall(CHAT.model, body, { defaultMaxTokens: 50, embeddings: false });
      expect(est.method).toBe('tiktoken-o200k');
      // Right after admission the window holds the estimate.
      expect(tokensLeft(first)).toBe(2000 - est.tokensIn - est.tokensOut);
      const used = first.body.usage.prompt_tokens + first.body.usage.completion_tokens;
      // The next call sees the first one settled to its real usage.
      const second = await settle(() => chatWith(s, s.agentKey, body), () => true);
      expect(tokensLeft(second)).toBe(2000 - used - est.tokensIn - est.tokensOut);
    });

    it('settles a streamed call to the usage in its final chunk', async () => {
      const id = rid('stream');
      const res = await fetch(`${s.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.limitedKey}`, 'content-type': 'application/json', 'x-request-id': id },
        body: JSON.stringify({ ...CHAT, stream: true, max_tokens: 300 }),
      });
      expect(res.status).toBe(200);
      await res.text();
      const stream = await eventOf(s, 'llm.request', id);
      expect(stream.tokens_out).toBeGreaterThan(0);
      const body = { ...CHAT, max_tokens: 10 };
      const next = await chatWith(s, s.limitedKey, body);
      const est = estimateCall(CHAT.model, body, { defaultMaxTokens: 50, embeddings: false });
      // The stream's 300-token reservation was moved to what it used.
      expect(tokensLeft(next)).toBe(2000 - stream.tokens_in - stream.tokens_out - est.tokensIn - est.tokensOut);
    });

    it('charges a stream the client aborts for what it produced', async () => {
      const ctl = new AbortController();
      const id = rid('aborted');
      const res = await fetch(`${s.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': 'application/json', 'x-request-id': id, 'x-mock-chunk-delay-ms': '40' },
        body: JSON.stringify({ ...CHAT, stream: true, max_tokens: 400 }),
        signal: ctl.signal,
      });
      const reader = res.body!.getReader();
      let seen = '';
      while ((seen.match(/"delta"/g) ?? []).length < 3) seen += new TextDecoder().decode((await reader.read()).value);
      ctl.abort();
      // The event is written when the gateway has seen the client go away.
      const event = await settle(() => eventOf(s, 'llm.request', id).catch(() => undefined), (e) => e !== undefined, 3000);
      expect(event.status).toBe(499);
      expect(event.tokens_out).toBeGreaterThanOrEqual(3);
      expect(event.tokens_out).toBeLessThan(8); // the mock streams 8 deltas; the rest was never produced
      expect(event.tokens_in).toBe(estimateCall(CHAT.model, CHAT, { defaultMaxTokens: 50, embeddings: false }).tokensIn);
      expect(event.detail.usage_estimated).toBe(true);
    });

    it('refuses a call whose reservation alone exceeds the limit, saying so', async () => {
      const r = await chatWith(s, s.agentKey, { ...CHAT, max_tokens: 5000 });
      expectError(r, 429, 'rate_limited');
      expect(r.body.error.message).toContain('larger than the limit');
    });

    it('stops calls once the budget is spent, with budget_exceeded and a budget.exceeded event', async () => {
      // gpt-4o-mini: $0.15 / $0.60 per million tokens; $0.00005 covers a few small calls.
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 20 && !statuses.includes(429); i++) {
        last = await chatWith(s, s.adminKey, { ...CHAT, max_tokens: 20 }, { 'x-request-id': rid(`budget-${i}`) });
        statuses.push(last.status);
      }
      expect(statuses[0]).toBe(200);
      expect(statuses.at(-1)).toBe(429);
      expectError(last!, 429, 'budget_exceeded');
      expect(last!.body.error.message).toMatch(/^Limit "admin-budget" reached: \$0\.00005 per day for this key\./);
      const event = await eventOf(s, 'budget.exceeded', last!.body.error.request_id);
      expect(event.detail).toMatchObject({ limit: 'admin-budget', metric: 'spend_usd' });
      expect(await metric(s, /^warden_budget_remaining_usd\{limit="admin-budget"/)).toBeGreaterThanOrEqual(0);
    });
  });

  describe('concurrency limits', () => {
    let s: Stack;
    beforeAll(async () => {
      s = await start({ config: { limits: { rules: [{ name: 'one-at-a-time', per: 'caller', concurrent: 1, match: { role: ['agent'] } }] } } });
    });
    afterAll(async () => {
      // fetch (undici) keeps its socket open when aborted before the response headers, so to the
      // gateway the call to the stalled upstream is still in flight, and its drain would rightly
      // wait for it up to the deadline (30 s). A client that closes its socket is seen at once.
      s?.gateway.app.server.closeAllConnections();
      await s?.close();
    });

    it('refuses a second call while the first is in flight, and admits it once the first is done', async () => {
      const slow = chatWith(s, s.agentKey, { ...CHAT, model: 'mock-slow-400' });
      await new Promise((r) => setTimeout(r, 100));
      const second = await chatAs(s, s.agentKey);
      expectError(second, 429, 'rate_limited');
      expect(second.body.error.message).toContain('1 requests in flight at a time');
      expect((await slow).status).toBe(200);
      expect((await chatAs(s, s.agentKey)).status).toBe(200);
    });

    it('frees the slot of a call whose client went away', async () => {
      const ctl = new AbortController();
      const pending = fetch(`${s.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...CHAT, model: 'mock-stall' }),
        signal: ctl.signal,
      }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
      expect((await chatAs(s, s.agentKey)).status).toBe(429);
      ctl.abort();
      await pending;
      const after = await settle(() => chatAs(s, s.agentKey), (r) => r.status === 200, 3000);
      expect(after.status).toBe(200);
    });
  });

  describe('limits off', () => {
    it('limits.enabled: false admits everything and sends no RateLimit fields', async () => {
      const s = await start({ config: { limits: { enabled: false, roles: { agent: 1 } } } });
      try {
        const a = await chatAs(s, s.agentKey);
        const b = await chatAs(s, s.agentKey);
        expect([a.status, b.status]).toEqual([200, 200]);
        expect(a.headers.get('ratelimit-policy')).toBeNull();
      } finally {
        await s.close();
      }
    });
  });


  describe('an org admin sets its own limits through the admin API', () => {
    // One store config for this gateway and its peer: with Redis they share the counters' prefix.
    const LIMITS = { roles: { agent: 1 }, rules: [{ name: 'operator-cap', per: 'org', requests: 1000, window: 'minute' }], ...storeConfig() };
    let s: Stack;
    beforeAll(async () => {
      s = await startStack({ config: { limits: LIMITS } });
    });
    afterAll(() => s?.close());

    it('raises its agents above the role default with a rule that replaces it, audited with before and after, and takes it back', async () => {
      expect((await chatAs(s, s.agentKey)).status).toBe(200);
      expect((await chatAs(s, s.agentKey)).status).toBe(429);
      const put = await call(s, 'PUT', '/api/v1/limits/busy-agents', {
        auth: s.adminKey,
        body: { per: 'caller', requests: 5, window: 'minute', match: { role: ['agent'] }, replaces: ['role-agent'] },
      });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ name: 'busy-agents', source: 'org', per: 'caller', metric: 'requests', limit: 5, window: 'minute', replaces: ['role-agent'] });
      // The org's rule now counts (from zero: it is a new counter), the role default no longer applies.
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await chatAs(s, s.agentKey)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);

      const list = await call(s, 'GET', '/api/v1/limits', { auth: s.adminKey });
      expect(list.body.data.map((r: { name: string; source: string }) => `${r.source}:${r.name}`)).toEqual(
        expect.arrayContaining(['role-default:role-agent', 'config:operator-cap', 'org:busy-agents']),
      );
      await flushed(s);
      const audit = await call(s, 'GET', '/api/v1/audit?kind=admin.limit.update&limit=5', { auth: s.adminKey });
      expect(audit.body.data[0].detail).toMatchObject({ target: { limit: 'busy-agents', org_id: 'default' }, before: null, after: { per: 'caller', requests: 5 } });

      expect((await call(s, 'DELETE', '/api/v1/limits/busy-agents', { auth: s.adminKey })).status).toBe(200);
      expect((await chatAs(s, s.agentKey)).status).toBe(429); // the role default again (its counter was never reset)
      expectError(await call(s, 'DELETE', '/api/v1/limits/busy-agents', { auth: s.adminKey }), 404, 'limit_not_found');
    });

    it('refuses to replace or rename the operator\'s config rules, and bad rules, with 400 naming the problem', async () => {
      const put = (name: string, body: unknown) => call(s, 'PUT', `/api/v1/limits/${name}`, { auth: s.adminKey, body });
      const replacing = await put('escape', { per: 'org', requests: 1e6, window: 'minute', replaces: ['operator-cap'] });
      expectError(replacing, 400, 'invalid_request');
      expect(replacing.body.error.message).toContain('may replace only role defaults');
      expectError(await put('operator-cap', { per: 'org', requests: 1e6, window: 'minute' }), 400, 'invalid_request');
      const twoMetrics = await put('two', { per: 'org', requests: 1, tokens: 1, window: 'minute' });
      expectError(twoMetrics, 400, 'invalid_request');
      expect(twoMetrics.body.error.message).toContain('exactly one of');
      expectError(await put('no-window', { per: 'org', requests: 1 }), 400, 'invalid_request');
      // An org's rule is always its own: a match on another org is not even part of the shape.
      const other = await put('other-org', { per: 'org', requests: 100, window: 'minute', match: { org: ['elsewhere'] } });
      expect(other.body.match).toBeNull();
      expect((await call(s, 'DELETE', '/api/v1/limits/other-org', { auth: s.adminKey })).status).toBe(200);
    });

    it('reaches another gateway on the same database within 2 s', async () => {
      const g2 = await startPeerGateway(s, { limits: LIMITS });
      const second = { ...s, url: g2.url } as Stack;
      try {
        // The role default (1 a minute) applies to the limited key on the second gateway too.
        expect((await chatAs(second, s.limitedKey)).status).toBe(200);
        expect((await chatAs(second, s.limitedKey)).status).toBe(429);
        const body = { per: 'caller', requests: 50, window: 'minute', match: { role: ['agent'] }, replaces: ['role-agent'] };
        expect((await call(s, 'PUT', '/api/v1/limits/peer-agents', { auth: s.adminKey, body })).status).toBe(200);
        const admitted = await settle(() => chatAs(second, s.limitedKey), (r) => r.status === 200, 2000);
        expect(admitted.status).toBe(200);
      } finally {
        await call(s, 'DELETE', '/api/v1/limits/peer-agents', { auth: s.adminKey });
        await g2.close();
      }
    });

    it('needs limits:update: an agent key gets 403', async () => {
      expectError(await call(s, 'PUT', '/api/v1/limits/mine', { auth: s.agentKey, body: { per: 'org', requests: 1, window: 'minute' } }), 403, 'permission_denied');
    });
  });
});
