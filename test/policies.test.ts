/**
 * Cedar policies end to end: the built-in defaults, org policies managed
 * through /api/v1/policies (validated, versioned, audited, effective on the
 * very next request) and the what-if evaluator. policy-events.test.ts has
 * the decision events, the metrics and a second gateway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers.js';
import { type Answer, call, chatAs, eventOf, events, expectError, rid } from './identity-helpers.js';
import { chat, forbidModel, putPolicy, removePolicy } from './policy-helpers.js';

let s: Stack;
let ids: { admin: string; agent: string };

function evaluate(stack: Stack, body: unknown): Promise<Answer> {
  return call(stack, 'POST', '/api/v1/policies/evaluate', { auth: stack.adminKey, body });
}

async function keyIds(stack: Stack): Promise<Record<string, string>> {
  const r = await call(stack, 'GET', '/api/v1/keys', { auth: stack.adminKey });
  expect(r.status).toBe(200);
  return Object.fromEntries(r.body.data.map((k: { name: string; id: string }) => [k.name, k.id]));
}


beforeAll(async () => {
  s = await startStack();
  ids = (await keyIds(s)) as typeof ids;
});
afterAll(() => s?.close());

describe('default policies', () => {
  it('an agent key may chat out of the box; the call\'s own event records the allow by warden.default.llm, with no second event by default', async () => {
    const id = rid('default-allow');
    const r = await chat(s, s.agentKey, 'gpt-4o-mini', id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const call = await eventOf(s, 'llm.request', id);
    expect(call.decision).toBe('allow');
    expect(call.detail.policy_ids).toEqual(['warden.default.llm']);
    // policy.decision_events defaults to "deny": allowed calls are on record through their own event only.
    expect((await events(s, 'policy.decision')).filter((e) => e.request_id === id)).toEqual([]);
  });
});

describe('org policies through the API', () => {
  it('a forbid whose condition fails to evaluate is skipped as Cedar does, and the call\'s event records the error', async () => {
    // Long overflow at evaluation: the forbid cannot decide, so it does not apply (fails open), but it is on record.
    const text = '@id("overflows")\nforbid (principal, action == Warden::Action::"llm:call", resource)\nwhen { context.time.epoch * 9223372036854775807 > 0 };\n';
    expect((await putPolicy(s, 'overflows', text)).status).toBe(200);
    try {
      const id = rid('policy-error');
      expect((await chat(s, s.agentKey, 'gpt-4o-mini', id)).status).toBe(200);
      const ev = await eventOf(s, 'llm.request', id);
      expect(ev.detail.policy_errors).toEqual([expect.stringContaining('overflows')]);
    } finally {
      await removePolicy(s, 'overflows');
    }
  });
  it('a forbid on gpt-4o denies the very next gpt-4o call with 403 policy_denied naming the policy, leaves gpt-4o-mini alone, and DELETE restores it', async () => {
    // Warm the decision cache first: the PUT must invalidate it.
    expect((await chat(s, s.agentKey, 'gpt-4o')).status).toBe(200);
    expect((await chat(s, s.agentKey, 'gpt-4o')).status).toBe(200);
    try {
      const put = await putPolicy(s, 'no-gpt-4o', forbidModel('forbid-gpt-4o', 'gpt-4o'));
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      expect(put.body).toMatchObject({ name: 'no-gpt-4o', version: 1, policy_ids: ['forbid-gpt-4o'] });

      const id = rid('forbid-4o');
      const forwardedBefore = s.mock.requests.length;
      const denied = await chat(s, s.agentKey, 'gpt-4o', id);
      expect(s.mock.requests.length, 'a denied call must not reach the provider').toBe(forwardedBefore);
      expectError(denied, 403, 'policy_denied');
      expect(denied.body.error.message).toContain('forbid-gpt-4o');
      expect((await eventOf(s, 'llm.request', id)).decision).toBe('deny');
      const decision = await eventOf(s, 'policy.decision', id);
      expect(decision.detail).toMatchObject({ decision: 'deny', policy_ids: ['forbid-gpt-4o'], reason: 'forbid', resource: { type: 'Model', id: 'gpt-4o' } });

      expect((await chat(s, s.agentKey, 'gpt-4o-mini')).status).toBe(200);
      expect((await call(s, 'DELETE', '/api/v1/policies/no-gpt-4o', { auth: s.adminKey })).status).toBe(200);
      expect((await chat(s, s.agentKey, 'gpt-4o')).status).toBe(200);
    } finally {
      await removePolicy(s, 'no-gpt-4o');
    }
  });

  it('a forbid on principal.roles.contains("agent") denies agent keys and not admin keys', async () => {
    try {
      const text = '@id("no-agents")\nforbid (principal, action == Warden::Action::"llm:call", resource)\nwhen { principal.roles.contains("agent") };';
      expect((await putPolicy(s, 'no-agents', text)).status).toBe(200);
      const denied = await chatAs(s, s.agentKey);
      expectError(denied, 403, 'policy_denied');
      expect(denied.body.error.message).toContain('no-agents');
      expectError(await chatAs(s, s.limitedKey), 403, 'policy_denied');
      expect((await chatAs(s, s.adminKey)).status).toBe(200);
    } finally {
      await removePolicy(s, 'no-agents');
    }
  });

  it('context.time is usable: a forbid whose time condition holds denies, one whose condition cannot hold does not', async () => {
    const nowSec = Math.floor(Date.now() / 1000);
    const when = (cond: string) => `@id("time-forbid")\nforbid (principal, action == Warden::Action::"llm:call", resource)\nwhen { ${cond} };`;
    try {
      expect((await putPolicy(s, 'time', when(`context.time.hour < 24 && context.time.epoch > ${nowSec - 3600}`))).status).toBe(200);
      expectError(await chatAs(s, s.agentKey), 403, 'policy_denied');
      expect((await putPolicy(s, 'time', when(`context.time.hour >= 24 || context.time.epoch < ${nowSec - 3600}`))).status).toBe(200);
      expect((await chatAs(s, s.agentKey)).status).toBe(200);
    } finally {
      await removePolicy(s, 'time');
    }
  });

  it('context.risk is usable: a forbid above risk 0.5 leaves risk-0 calls allowed and denies a what-if at risk 0.9', async () => {
    try {
      const text = '@id("risky")\nforbid (principal, action == Warden::Action::"llm:call", resource)\nwhen { context.risk.greaterThan(decimal("0.5")) };';
      expect((await putPolicy(s, 'risk', text)).status).toBe(200);
      expect((await chatAs(s, s.agentKey)).status).toBe(200);
      const whatIf = await evaluate(s, { principal: { type: 'Key', id: ids.agent }, action: 'llm:call', resource: { type: 'Model', id: 'gpt-4o-mini' }, context: { risk: 0.9 } });
      expect(whatIf.body).toMatchObject({ decision: 'deny', policy_ids: ['risky'], reason: 'forbid' });
    } finally {
      await removePolicy(s, 'risk');
    }
  });

  it("another org's calls are unaffected by this org's forbid", async () => {
    expect((await call(s, 'POST', '/api/v1/orgs', { auth: s.systemKey, body: { id: 'org-b', name: 'Org B' } })).status).toBe(201);
    const b = await call(s, 'POST', '/api/v1/keys?org_id=org-b', { auth: s.systemKey, body: { name: 'b-agent', role: 'agent' } });
    expect(b.status, JSON.stringify(b.body)).toBe(201);
    try {
      expect((await putPolicy(s, 'no-mini', forbidModel('forbid-mini', 'gpt-4o-mini'))).status).toBe(200);
      expectError(await chatAs(s, s.agentKey), 403, 'policy_denied');
      expect((await chatAs(s, b.body.key)).status).toBe(200);
      const listed = await call(s, 'GET', '/api/v1/policies?org_id=org-b', { auth: s.systemKey });
      expect(listed.body.data).toEqual([]);
    } finally {
      await removePolicy(s, 'no-mini');
    }
  });
});

describe('validation', () => {
  const badAttribute = '@id("colour-check")\nforbid (principal, action == Warden::Action::"llm:call", resource)\nwhen { resource.colour == "red" };';

  it('a PUT naming an unknown attribute is refused with 400 invalid_policy saying where, and the previous version stays stored and in force', async () => {
    try {
      expect((await putPolicy(s, 'guard', forbidModel('guard-4o', 'gpt-4o'))).status).toBe(200);
      const r = await putPolicy(s, 'guard', badAttribute);
      expectError(r, 400, 'invalid_policy');
      expect(r.body.error.message).toContain('colour');
      expect(r.body.error.message).toMatch(/guard:3:\d+/);
      const stored = await call(s, 'GET', '/api/v1/policies/guard', { auth: s.adminKey });
      expect(stored.body).toMatchObject({ version: 1, text: forbidModel('guard-4o', 'gpt-4o') });
      expect(stored.body.history).toHaveLength(1);
      expectError(await chat(s, s.agentKey, 'gpt-4o'), 403, 'policy_denied');
    } finally {
      await removePolicy(s, 'guard');
    }
  });

  it('a PUT naming an unknown entity type is refused with 400 invalid_policy naming the type, and nothing is stored', async () => {
    const r = await putPolicy(s, 'bogus', 'forbid (principal, action, resource == Warden::Bogus::"x");');
    expectError(r, 400, 'invalid_policy');
    expect(r.body.error.message).toContain('Bogus');
    expectError(await call(s, 'GET', '/api/v1/policies/bogus', { auth: s.adminKey }), 404, 'policy_not_found');
    expect((await chatAs(s, s.agentKey)).status).toBe(200);
  });

  it('a syntax error is refused with 400 invalid_policy giving line and column', async () => {
    const r = await putPolicy(s, 'syntax', 'permit (\n  principal,\n  action ==,\n  resource\n);');
    expectError(r, 400, 'invalid_policy');
    expect(r.body.error.message).toMatch(/syntax:3:\d+/);
    expectError(await call(s, 'GET', '/api/v1/policies/syntax', { auth: s.adminKey }), 404, 'policy_not_found');
  });

  it('/validate reports the same issue as PUT without storing anything, and accepts valid text with its policy ids', async () => {
    const bad = await call(s, 'POST', '/api/v1/policies/validate', { auth: s.adminKey, body: { text: badAttribute } });
    expect(bad.status).toBe(200);
    expect(bad.body.valid).toBe(false);
    expect(bad.body.policy_ids).toEqual([]);
    expect(bad.body.issues).toHaveLength(1);
    expect(bad.body.issues[0]).toEqual({ policy_id: 'colour-check', message: expect.stringMatching(/^policy:3:\d+: .*colour/) });
    expect((await call(s, 'GET', '/api/v1/policies', { auth: s.adminKey })).body.data).toEqual([]);
    // PUT of the same text names the same position and problem, prefixed with the policy name instead of "policy".
    const put = await putPolicy(s, 'colour', badAttribute);
    expect(put.body.error.message).toBe(`The policy is not valid: colour${bad.body.issues[0].message.slice('policy'.length)}`);

    const good = await call(s, 'POST', '/api/v1/policies/validate', { auth: s.adminKey, body: { text: forbidModel('ok-one', 'gpt-4o') } });
    expect(good.body).toEqual({ valid: true, policy_ids: ['ok-one'], issues: [] });
    expect((await call(s, 'GET', '/api/v1/policies', { auth: s.adminKey })).body.data).toEqual([]);
  });

  it('unannotated policies get ids <name>#<index>', async () => {
    try {
      const text = 'permit (principal, action == Warden::Action::"llm:call", resource == Warden::Model::"never-a");\nforbid (principal, action == Warden::Action::"llm:call", resource == Warden::Model::"gpt-4o");';
      const r = await putPolicy(s, 'plain', text);
      expect(r.body.policy_ids).toEqual(['plain#0', 'plain#1']);
      const denied = await chat(s, s.agentKey, 'gpt-4o');
      expectError(denied, 403, 'policy_denied');
      expect(denied.body.error.message).toContain('plain#1');
    } finally {
      await removePolicy(s, 'plain');
    }
  });
});

describe('versioning and audit', () => {
  it('two PUTs give versions 1 and 2, each with the acting key as actor, in the history', async () => {
    try {
      expect((await putPolicy(s, 'versioned', forbidModel('v-one', 'never-1'))).body.version).toBe(1);
      expect((await putPolicy(s, 'versioned', forbidModel('v-two', 'never-2'), { expected: 1 })).body.version).toBe(2);
      const r = await call(s, 'GET', '/api/v1/policies/versioned', { auth: s.adminKey });
      expect(r.body).toMatchObject({ name: 'versioned', version: 2, text: forbidModel('v-two', 'never-2'), actor: ids.admin, deleted: false });
      expect(r.body.history.map((h: { version: number; actor: string }) => [h.version, h.actor])).toEqual([
        [1, ids.admin],
        [2, ids.admin],
      ]);
      expect(r.body.history[0].text).toBe(forbidModel('v-one', 'never-1'));
    } finally {
      await removePolicy(s, 'versioned');
    }
  });

  it('a PUT with a stale expected_version is refused with 409 conflict and changes nothing', async () => {
    try {
      await putPolicy(s, 'stale', forbidModel('s-one', 'never-1'));
      await putPolicy(s, 'stale', forbidModel('s-two', 'never-2'));
      expectError(await putPolicy(s, 'stale', forbidModel('s-three', 'gpt-4o'), { expected: 1 }), 409, 'conflict');
      const r = await call(s, 'GET', '/api/v1/policies/stale', { auth: s.adminKey });
      expect(r.body).toMatchObject({ version: 2, text: forbidModel('s-two', 'never-2') });
      expect((await chat(s, s.agentKey, 'gpt-4o')).status).toBe(200);
    } finally {
      await removePolicy(s, 'stale');
    }
  });

  it('each change is an audit event with the text before and after', async () => {
    const v1 = forbidModel('a-one', 'never-1');
    const v2 = forbidModel('a-two', 'never-2');
    await putPolicy(s, 'audited', v1);
    await putPolicy(s, 'audited', v2);
    expect((await call(s, 'DELETE', '/api/v1/policies/audited', { auth: s.adminKey })).status).toBe(200);
    const mine = (kind: string) => events(s, kind).then((all) => all.filter((e) => e.detail?.target?.policy === 'audited').reverse());
    const updates = await mine('admin.policy.update');
    expect(updates.map((e) => [e.detail.before?.text ?? null, e.detail.after.text])).toEqual([
      [null, v1],
      [v1, v2],
    ]);
    expect(updates[1].detail.target).toEqual({ policy: 'audited', org_id: 'default' });
    expect(updates[1].key_id).toBe(ids.admin);
    const deletes = await mine('admin.policy.delete');
    expect(deletes).toHaveLength(1);
    expect(deletes[0].detail.before).toMatchObject({ version: 2, text: v2 });
    expect(deletes[0].detail.after).toMatchObject({ version: 3, text: null, deleted: true });
  });

  it('GET /api/v1/policies lists current policies and drops deleted ones', async () => {
    try {
      await putPolicy(s, 'listed-a', forbidModel('l-a', 'never-a'));
      await putPolicy(s, 'listed-b', forbidModel('l-b', 'never-b'));
      await call(s, 'DELETE', '/api/v1/policies/listed-b', { auth: s.adminKey });
      const r = await call(s, 'GET', '/api/v1/policies', { auth: s.adminKey });
      expect(r.body.data.map((p: { name: string }) => p.name)).toEqual(['listed-a']);
      expect(r.body.files).toEqual([]);
      expectError(await call(s, 'GET', '/api/v1/policies/listed-b', { auth: s.adminKey }), 404, 'policy_not_found');
    } finally {
      await removePolicy(s, 'listed-a');
    }
  });
});

describe('concurrent changes', () => {
  it('every one of several concurrent PUTs that returned 200 is in force on the next request', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `race-${i}`);
    try {
      const puts = await Promise.all(names.map((n) => putPolicy(s, n, forbidModel(`${n}-forbid`, `gpt-${n}`))));
      expect(puts.map((r) => r.status)).toEqual(names.map(() => 200));
      const decided = await Promise.all(names.map((n) => evaluate(s, { principal: { type: 'Key', id: ids.agent }, action: 'llm:call', resource: { type: 'Model', id: `gpt-${n}` } })));
      expect(decided.map((r) => [r.body.decision, r.body.policy_ids])).toEqual(names.map((n) => ['deny', [`${n}-forbid`]]));
    } finally {
      for (const n of names) await removePolicy(s, n);
    }
  });

  it('of two concurrent PUTs defining the same policy id under different names, one is refused and not stored, and the org keeps accepting changes', async () => {
    const text = forbidModel('same-id', 'gpt-dup');
    try {
      const [a, b] = await Promise.all([putPolicy(s, 'dup-a', text), putPolicy(s, 'dup-b', text)]);
      expect([a.status, b.status].sort()).toEqual([200, 400]);
      const stored = await call(s, 'GET', '/api/v1/policies', { auth: s.adminKey });
      expect(stored.body.data.map((p: { name: string }) => p.name)).toHaveLength(1);
      // A later, unrelated change still loads.
      const later = await putPolicy(s, 'after-dup', forbidModel('after-dup', 'gpt-4o'));
      expect(later.status, JSON.stringify(later.body)).toBe(200);
      expectError(await chat(s, s.agentKey, 'gpt-4o'), 403, 'policy_denied');
    } finally {
      for (const n of ['dup-a', 'dup-b', 'after-dup']) await removePolicy(s, n);
    }
  });
});

describe('what-if evaluation', () => {
  const agentOn4o = () => ({ principal: { type: 'Key', id: ids.agent }, action: 'llm:call', resource: { type: 'Model', id: 'gpt-4o' } });

  it("evaluating the agent key on gpt-4o returns deny and the policy id while a forbid exists, and allow once it's deleted", async () => {
    try {
      await putPolicy(s, 'eval-4o', forbidModel('eval-forbid-4o', 'gpt-4o'));
      const denied = await evaluate(s, agentOn4o());
      expect(denied.status).toBe(200);
      expect(denied.body).toEqual({ decision: 'deny', reason: 'forbid', policy_ids: ['eval-forbid-4o'], errors: [] });
      await call(s, 'DELETE', '/api/v1/policies/eval-4o', { auth: s.adminKey });
      expect((await evaluate(s, agentOn4o())).body).toEqual({ decision: 'allow', reason: 'permit', policy_ids: ['warden.default.llm'], errors: [] });
    } finally {
      await removePolicy(s, 'eval-4o');
    }
  });

  it('hypothetical roles ["guest"] are denied with reason no_permit', async () => {
    const r = await evaluate(s, { ...agentOn4o(), principal: { type: 'Key', id: ids.agent, roles: ['guest'] } });
    expect(r.body).toEqual({ decision: 'deny', reason: 'no_permit', policy_ids: [], errors: [] });
  });

  it('tools/call is decided on the call arguments: a forbid on context.arguments.path like "/etc/*" denies /etc/passwd and allows /tmp/x', async () => {
    const text = [
      '@id("no-etc")',
      'forbid (principal, action == Warden::Action::"tools/call", resource)',
      'when { context has arguments && context.arguments has path && context.arguments.path like "/etc/*" };',
    ].join('\n');
    const tool = (path: string) => ({
      principal: { type: 'Key', id: ids.agent },
      action: 'tools/call',
      resource: { type: 'Tool', id: 'read_file', server: 'fs' },
      context: { arguments: { path } },
    });
    try {
      const put = await putPolicy(s, 'no-etc', text);
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      expect((await evaluate(s, tool('/etc/passwd'))).body).toMatchObject({ decision: 'deny', reason: 'forbid', policy_ids: ['no-etc'] });
      expect((await evaluate(s, tool('/tmp/x'))).body).toMatchObject({ decision: 'allow', policy_ids: ['warden.default.mcp'] });
    } finally {
      await removePolicy(s, 'no-etc');
    }
  });

  it('trace:ingest is decided on the event: a forbid on context.event.actor denies a redteam event and allows an agent one', async () => {
    const text = '@id("no-redteam") forbid (principal, action == Warden::Action::"trace:ingest", resource) when { context has event && context.event.actor == "redteam" };';
    const ingest = (actor: string) => ({ principal: { type: 'Key', id: ids.agent }, action: 'trace:ingest', resource: { type: 'Run', id: 'run-1' }, context: { event: { type: 'reasoning', actor, tool: '' } } });
    try {
      const put = await putPolicy(s, 'no-redteam', text);
      expect(put.status, JSON.stringify(put.body)).toBe(200);
      expect((await evaluate(s, ingest('redteam'))).body).toMatchObject({ decision: 'deny', reason: 'forbid', policy_ids: ['no-redteam'] });
      expect((await evaluate(s, ingest('agent'))).body).toMatchObject({ decision: 'allow', policy_ids: ['warden.default.traces'] });
    } finally {
      await removePolicy(s, 'no-redteam');
    }
  });

  it('an unknown action is refused with 400 invalid_request listing the actions', async () => {
    const r = await evaluate(s, { ...agentOn4o(), action: 'llm:fly' });
    expectError(r, 400, 'invalid_request');
    expect(r.body.error.message).toContain('llm:call');
  });

  it('a resource of the wrong type for the action is refused with 400 invalid_request', async () => {
    expectError(await evaluate(s, { ...agentOn4o(), resource: { type: 'Tool', id: 'read_file' } }), 400, 'invalid_request');
  });

  it("a key of another org cannot be evaluated: 404 key_not_found", async () => {
    await call(s, 'POST', '/api/v1/orgs', { auth: s.systemKey, body: { id: 'org-c', name: 'Org C' } });
    const c = await call(s, 'POST', '/api/v1/keys?org_id=org-c', { auth: s.systemKey, body: { name: 'c-agent', role: 'agent' } });
    expect(c.status).toBe(201);
    expectError(await evaluate(s, { ...agentOn4o(), principal: { type: 'Key', id: c.body.id } }), 404, 'key_not_found');
  });
});
