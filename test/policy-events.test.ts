/**
 * Policy decisions as records and signals: policy.decision events as
 * `policy.decision_events` says, the authz metrics, and a second gateway on
 * the same database following a policy change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startPeerGateway, startStack } from './helpers.js';
import { call, chatAs, eventOf, events, expectError, rid, settle } from './identity-helpers.js';
import { chat, forbidModel, putPolicy, removePolicy } from './policy-helpers.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(() => s?.close());

describe('a second gateway on the same database', () => {
  it('picks up a policy PUT through the first within 2 s', async () => {
    const g2 = await startPeerGateway(s);
    const second = { ...s, url: g2.url } as Stack;
    try {
      expect((await chatAs(second, s.agentKey)).status).toBe(200);
      expect((await putPolicy(s, 'shared', forbidModel('shared-forbid', 'gpt-4o-mini'))).status).toBe(200);
      const started = Date.now();
      const denied = await settle(() => chatAs(second, s.agentKey), (r) => r.status === 403, 2000);
      expectError(denied, 403, 'policy_denied');
      expect(denied.body.error.message).toContain('shared-forbid');
      expect(Date.now() - started).toBeLessThan(2500);
      await call(s, 'DELETE', '/api/v1/policies/shared', { auth: s.adminKey });
      expect((await settle(() => chatAs(second, s.agentKey), (r) => r.status === 200, 2000)).status).toBe(200);
    } finally {
      await removePolicy(s, 'shared');
      await g2.close();
    }
  });
});

describe('policy.decision_events: all', () => {
  let d: Stack;
  beforeAll(async () => {
    d = await startStack({ config: { policy: { decision_events: 'all' } } });
  });
  afterAll(() => d?.close());

  it('writes a policy.decision event for an allow too, naming principal, resource and the deciding policy', async () => {
    const id = rid('all-allow');
    expect((await chat(d, d.agentKey, 'gpt-4o-mini', id)).status).toBe(200);
    const decision = await eventOf(d, 'policy.decision', id);
    expect(decision.detail).toMatchObject({
      action: 'llm:call',
      resource: { type: 'Model', id: 'gpt-4o-mini' },
      principal: { type: 'Key' },
      decision: 'allow',
      policy_ids: ['warden.default.llm'],
      reason: 'permit',
    });
  });
});

describe('policy.decision_events: deny (the default)', () => {
  let d: Stack;
  beforeAll(async () => {
    d = await startStack();
  });
  afterAll(() => d?.close());

  it('writes a policy.decision event for a deny and none for an allow', async () => {
    const allowed = rid('ev-allow');
    expect((await chat(d, d.agentKey, 'gpt-4o-mini', allowed)).status).toBe(200);
    expect((await putPolicy(d, 'deny-4o', forbidModel('ev-forbid', 'gpt-4o'))).status).toBe(200);
    const denied = rid('ev-deny');
    expectError(await chat(d, d.agentKey, 'gpt-4o', denied), 403, 'policy_denied');

    expect((await eventOf(d, 'llm.request', allowed)).decision).toBe('allow');
    const decisions = await events(d, 'policy.decision');
    expect(decisions.filter((e) => e.request_id === allowed)).toEqual([]);
    const deny = decisions.filter((e) => e.request_id === denied);
    expect(deny).toHaveLength(1);
    expect(deny[0].detail).toMatchObject({ decision: 'deny', policy_ids: ['ev-forbid'] });
    expect(decisions.every((e) => e.decision === 'deny')).toBe(true);
  });
});

describe('metrics', () => {
  const sample = (text: string, name: string, labels: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };

  it('counts llm:call allows and denies and decision-cache hits', async () => {
    const before = await (await fetch(`${s.url}/metrics`)).text();
    try {
      await putPolicy(s, 'metered', forbidModel('metered-forbid', 'gpt-4o'));
      for (let i = 0; i < 3; i++) {
        expect((await chat(s, s.agentKey, 'gpt-4o-mini')).status).toBe(200);
        expect((await chat(s, s.agentKey, 'gpt-4o')).status).toBe(403);
      }
    } finally {
      await removePolicy(s, 'metered');
    }
    const after = await (await fetch(`${s.url}/metrics`)).text();
    const delta = (name: string, labels: string) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('warden_authz_decisions_total', 'action="llm:call",decision="allow"')).toBe(3);
    expect(delta('warden_authz_decisions_total', 'action="llm:call",decision="deny"')).toBe(3);
    // Same principal, model and minute: after the first of each, the rest come from the cache.
    expect(delta('warden_policy_cache_requests_total', 'result="hit"')).toBeGreaterThanOrEqual(4);
    expect(sample(after, 'warden_authz_decision_duration_seconds_count', 'cached="true"')).toBeGreaterThan(0);
  });
});
