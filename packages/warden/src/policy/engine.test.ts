import { describe, expect, it } from 'vitest';
import { PolicyEngine, type AuthzDecision, type AuthzPrincipal, type AuthzRequest, type PolicyDocument } from './index.js';

const principal = (roles: string[], orgId = 'acme', type: AuthzPrincipal['type'] = 'Key'): AuthzPrincipal => ({
  type,
  id: `${type.toLowerCase()}-1`,
  orgId,
  projectId: null,
  roles,
});

const llmCall = (p: AuthzPrincipal, model = 'gpt-4o', context: AuthzRequest['context'] = {}): AuthzRequest => ({
  principal: p,
  action: 'llm:call',
  resource: { type: 'Model', id: model, provider: 'openai' },
  context,
});

const toolCall = (p: AuthzPrincipal, args?: Record<string, unknown>): AuthzRequest => ({
  principal: p,
  action: 'tools/call',
  resource: { type: 'Tool', id: 'read_file', server: 'filesystem' },
  context: args === undefined ? {} : { arguments: args },
});

const doc = (id: string, text: string, orgId: string | null = null): PolicyDocument => ({ id, text, origin: 'api', orgId });

const agent = principal(['agent']);

const FORBID_ETC = `@id("no-etc")
forbid (principal, action == Warden::Action::"tools/call", resource)
when { context has arguments && context.arguments has path && context.arguments.path like "/etc/*" };`;

function loaded(...docs: PolicyDocument[]): PolicyEngine {
  const engine = new PolicyEngine();
  const result = engine.load(docs);
  expect(result.issues).toEqual([]);
  return engine;
}

describe('default policies', () => {
  it.each(['admin', 'user', 'agent', 'system'])('permit model and tool calls for role %s', (role) => {
    const engine = new PolicyEngine();
    const p = principal([role]);
    expect(engine.decide(llmCall(p))).toMatchObject({ decision: 'allow', reason: 'permit', policyIds: ['warden.default.llm'] });
    expect(engine.decide(toolCall(p))).toMatchObject({ decision: 'allow', policyIds: ['warden.default.mcp'] });
  });

  it('deny a guest everything, reporting that no permit matched', () => {
    const engine = new PolicyEngine();
    const guest = principal(['guest'], 'acme', 'User');
    expect(engine.decide(llmCall(guest))).toMatchObject({ decision: 'deny', reason: 'no_permit', policyIds: [] });
    expect(engine.decide({ principal: guest, action: 'tools/list', resource: { type: 'McpServer', id: 'fs' } }).decision).toBe('deny');
  });

  it('are left out when includeDefaults is false, so nothing is permitted', () => {
    const engine = new PolicyEngine({ includeDefaults: false });
    expect(engine.decide(llmCall(principal(['admin'])))).toMatchObject({ decision: 'deny', reason: 'no_permit' });
  });
});

describe('policies', () => {
  it('a global forbid on a model for one org denies that org only and names the policy', () => {
    const engine = loaded(
      doc('models', `@id("acme-no-gpt4") forbid (principal in Warden::Org::"acme", action == Warden::Action::"llm:call", resource == Warden::Model::"gpt-4");`),
    );
    expect(engine.decide(llmCall(agent, 'gpt-4'))).toMatchObject({ decision: 'deny', reason: 'forbid', policyIds: ['acme-no-gpt4'] });
    expect(engine.decide(llmCall(agent, 'gpt-4o')).decision).toBe('allow');
    expect(engine.decide(llmCall(principal(['agent'], 'beta'), 'gpt-4')).decision).toBe('allow');
  });

  it("an org's own document never applies to a principal of another org", () => {
    const engine = loaded(doc('acme-rules', `forbid (principal, action, resource);`, 'acme'));
    expect(engine.decide(llmCall(agent))).toMatchObject({ decision: 'deny', policyIds: ['acme-rules#0'] });
    expect(engine.decide(llmCall(principal(['agent'], 'beta')))).toMatchObject({ decision: 'allow' });
  });

  it('a forbid on tool arguments denies only matching calls', () => {
    const engine = loaded(doc('tools', FORBID_ETC));
    expect(engine.decide(toolCall(agent, { path: '/etc/passwd' }))).toMatchObject({ decision: 'deny', reason: 'forbid', policyIds: ['no-etc'] });
    expect(engine.decide(toolCall(agent, { path: '/home/me/notes.txt' })).decision).toBe('allow');
    expect(engine.decide(toolCall(agent, { query: 'weather' })).decision).toBe('allow');
    expect(engine.decide(toolCall(agent)).decision).toBe('allow');
  });

  it('tool arguments holding JSON Cedar has no type for (null, floats, deep nesting) are still evaluated', () => {
    const engine = loaded(doc('tools', FORBID_ETC));
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 40; i++) deep = { deep };
    const decision = engine.decide(toolCall(agent, { path: '/etc/shadow', size: 1.5, owner: null, nested: deep, list: [1, null, 'x'] }));
    expect(decision).toMatchObject({ decision: 'deny', policyIds: ['no-etc'], errors: [] });
  });

  it('an argument cannot smuggle in a Cedar entity reference', () => {
    const engine = loaded(
      doc('tools', `@id("exact") forbid (principal, action, resource) when { context has arguments && context.arguments has target && context.arguments.target == Warden::Role::"admin" };`),
    );
    const decision = engine.decide(toolCall(agent, { target: { __entity: { type: 'Warden::Role', id: 'admin' } } }));
    expect(decision.decision).toBe('allow');
  });

  it('context.time is usable: a forbid before 09:00 UTC applies at 08:30 and not at 10:00', () => {
    const engine = loaded(doc('hours', `@id("office-hours") forbid (principal, action == Warden::Action::"llm:call", resource) when { context.time.hour < 9 };`));
    const at = (iso: string) => ({ now: Date.parse(iso) });
    expect(engine.decide(llmCall(agent, 'gpt-4o', at('2025-03-04T08:30:00Z')))).toMatchObject({ decision: 'deny', policyIds: ['office-hours'] });
    expect(engine.decide(llmCall(agent, 'gpt-4o', at('2025-03-04T10:00:00Z'))).decision).toBe('allow');
  });

  it('context.risk is usable as a decimal', () => {
    const engine = loaded(doc('risk', `@id("risky") forbid (principal, action, resource) when { context.risk.greaterThan(decimal("0.8")) };`));
    expect(engine.decide(llmCall(agent, 'gpt-4o', { risk: 0.93 }))).toMatchObject({ decision: 'deny', policyIds: ['risky'] });
    expect(engine.decide(llmCall(agent, 'gpt-4o', { risk: 0.5 })).decision).toBe('allow');
    expect(engine.decide(llmCall(agent)).decision).toBe('allow');
  });

  it('context.ip is present for parsable client addresses, IPv4-mapped ones included', () => {
    const engine = loaded(doc('net', `@id("lan") forbid (principal, action, resource) when { context has ip && context.ip.isInRange(ip("10.0.0.0/8")) };`));
    expect(engine.decide(llmCall(agent, 'gpt-4o', { clientIp: '::ffff:10.1.2.3' })).decision).toBe('deny');
    expect(engine.decide(llmCall(agent, 'gpt-4o', { clientIp: '192.168.1.4' })).decision).toBe('allow');
    expect(engine.decide(llmCall(agent, 'gpt-4o', { clientIp: 'not-an-ip' }))).toMatchObject({ decision: 'allow', errors: [] });
  });

  it('a policy that fails at evaluation is skipped and its error reported', () => {
    const engine = loaded(doc('tools', `@id("big") forbid (principal, action, resource) when { context has arguments && context.arguments has n && context.arguments.n > 5 };`));
    const decision = engine.decide(toolCall(agent, { n: 'many' }));
    expect(decision.decision).toBe('allow');
    expect(decision.errors).toHaveLength(1);
    expect(decision.errors[0]).toMatch(/^big: .*type error/);
  });

  it('a request Cedar cannot evaluate is a deny with reason error, not an exception', () => {
    const engine = new PolicyEngine();
    const wrongResource: AuthzRequest = { principal: agent, action: 'tools/call', resource: { type: 'Model', id: 'x' } };
    expect(engine.decide({ ...wrongResource, action: 'files/delete' })).toMatchObject({ decision: 'deny', reason: 'error', errors: ['unknown action "files/delete"'] });
    expect(engine.decide(wrongResource)).toMatchObject({ decision: 'deny', reason: 'error' });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => engine.decide(toolCall(agent, circular))).not.toThrow();
  });
});

describe('validate', () => {
  const engine = new PolicyEngine();

  it('accepts a guarded test on tool arguments', () => {
    expect(engine.validate(FORBID_ETC)).toEqual({ ok: true, issues: [], policyIds: ['no-etc'] });
  });

  it('names unannotated policies <documentId>#<position>', () => {
    const result = engine.validate(`permit (principal, action, resource);\n@id("b") permit (principal, action, resource);\nforbid (principal, action, resource);`, 'doc');
    expect(result.policyIds).toEqual(['doc#0', 'b', 'doc#2']);
  });

  it('rejects an unknown attribute with its line, column and a suggestion', () => {
    const result = engine.validate(`permit (principal, action, resource)\n  when { principal.rank == 3 };`, 'ranks');
    expect(result.ok).toBe(false);
    expect(result.issues[0]).toEqual({
      policyId: 'ranks#0',
      message: expect.stringMatching(/^ranks:2:10: .*attribute `rank` on entity type `Warden::(Key|User|Agent)` not found/),
    });
  });

  it('rejects an unknown entity type', () => {
    const result = engine.validate(`@id("x") forbid (principal is Warden::Robot, action, resource);`, 'types');
    expect(result.issues.map((i) => i.message)).toContainEqual(expect.stringMatching(/^types:1:31: .*unrecognized entity type `Warden::Robot`/));
  });

  it('rejects unguarded access to tool arguments', () => {
    const result = engine.validate(`forbid (principal, action == Warden::Action::"tools/call", resource) when { context.arguments.path like "/etc/*" };`);
    expect(result.ok).toBe(false);
    expect(result.issues.map((i) => i.message).join('\n')).toMatch(/context has arguments/);
  });

  it('reports a syntax error with its position', () => {
    const result = engine.validate(`permit (principal, action, resource);\npermit (principal action, resource);`, 'syntax');
    expect(result.issues).toEqual([{ policyId: null, message: expect.stringMatching(/^syntax:2:19: unexpected token `action`/) }]);
  });

  it('counts columns in characters when the text before an error is not ASCII', () => {
    const result = engine.validate(`// règle: pas de modèle « gpt-4 »\nforbid (principal, action, resource) when { resource.size > 1 };`, 'fr');
    expect(result.issues[0]?.message).toMatch(/^fr:2:45: .*attribute `size`/);
  });

  it('rejects policy templates with a message saying so', () => {
    const result = engine.validate(`permit (principal == ?principal, action, resource);`, 'tpl');
    expect(result.issues).toEqual([{ policyId: null, message: expect.stringMatching(/^tpl: policy templates .* not supported/) }]);
  });

  it('reads @id across whitespace, comments and escapes, ignoring ; inside strings and comments', () => {
    const text = `@id ( // the id\n "caf\\u{e9}" ) permit (principal, action, resource) when { context.route like "/a;b/*" }; // not ; a policy\n@id("b;c") forbid (principal, action, resource);`;
    expect(engine.validate(text).policyIds).toEqual(['café', 'b;c']);
  });

  it('rejects duplicate ids, including clashes with the built-ins', () => {
    const twice = engine.validate(`@id("a") permit (principal, action, resource);\n@id("a") forbid (principal, action, resource);`);
    expect(twice.issues).toEqual([{ policyId: 'a', message: expect.stringContaining('"a" is used twice') }]);
    const builtin = engine.validate(`@id("warden.default.llm") permit (principal, action, resource);`);
    expect(builtin.ok).toBe(false);
  });
});

describe('load', () => {
  it('keeps the previous set when any global document is invalid', () => {
    const engine = loaded(doc('tools', FORBID_ETC));
    const result = engine.load([doc('tools', `permit (principal, action, resource);`), doc('bad', `forbid (principal, action, resource) when { resource.color == "red" };`)]);
    expect(result.ok).toBe(false);
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]).toEqual({ policyId: 'bad#0', message: expect.stringMatching(/^bad:1:45: for policy `bad#0`, attribute `color`/) });
    expect(engine.stats().generation).toBe(1);
    expect(engine.decide(toolCall(agent, { path: '/etc/hosts' })).decision).toBe('deny');
  });

  it('rejects the same policy id in two documents', () => {
    const engine = new PolicyEngine();
    const result = engine.load([doc('a', `@id("p") permit (principal, action, resource);`), doc('b', `@id("p") forbid (principal, action, resource);`, 'acme')]);
    expect(result.issues).toEqual([{ policyId: 'p', message: expect.stringContaining('in both "a" and "b"') }]);
  });

  it('keeps the sets of two engines in one process apart', () => {
    const strict = loaded(doc('all', `forbid (principal, action, resource);`));
    const open = new PolicyEngine();
    expect(strict.decide(llmCall(agent)).decision).toBe('deny');
    expect(open.decide(llmCall(agent)).decision).toBe('allow');
    expect(strict.decide(llmCall(principal(['agent'], 'beta'))).decision).toBe('deny');
  });

  it("an org whose own documents are invalid fails closed, and the other orgs' changes still apply", () => {
    const engine = loaded(doc('tools', FORBID_ETC));
    const result = engine.load([
      doc('tools', FORBID_ETC),
      doc('bad', `forbid (principal, action, resource) when { resource.color == "red" };`, 'acme'),
      doc('beta-rule', `@id("beta-no-gpt4") forbid (principal, action, resource == Warden::Model::"gpt-4");`, 'beta'),
    ]);
    expect([result.ok, result.applied, [...result.brokenOrgs.keys()]]).toEqual([false, true, ['acme']]);
    const acme = engine.decide(llmCall(agent, 'gpt-4o-mini'));
    expect([acme.decision, acme.reason]).toEqual(['deny', 'error']);
    expect(acme.errors[0]).toContain('did not load');
    expect(engine.orgIssues('acme')[0]).toMatch(/attribute `color`/);
    const beta = principal(['agent'], 'beta');
    expect(engine.decide(llmCall(beta, 'gpt-4')).policyIds).toEqual(['beta-no-gpt4']);
    expect(engine.decide(llmCall(beta, 'gpt-4o-mini')).decision).toBe('allow');
  });

  it('allows two orgs to use the same policy id', () => {
    const engine = new PolicyEngine();
    const text = `@id("house-rule") forbid (principal, action, resource == Warden::Model::"gpt-4");`;
    expect(engine.load([doc('a', text, 'acme'), doc('b', text, 'beta')]).ok).toBe(true);
  });
});

describe('decision cache', () => {
  it('answers a repeated decision from the cache', () => {
    const engine = new PolicyEngine();
    const first = engine.decide(llmCall(agent));
    const second = engine.decide(llmCall(agent));
    expect(first.cached).toBe(false);
    expect(second).toEqual({ ...first, cached: true });
    expect(engine.stats()).toMatchObject({ hits: 1, misses: 1, size: 1 });
  });

  it('is invalidated by load(), so the next decision reflects the new policies', () => {
    const engine = new PolicyEngine();
    expect(engine.decide(llmCall(agent, 'gpt-4')).decision).toBe('allow');
    expect(engine.load([doc('m', `@id("no-gpt4") forbid (principal, action, resource == Warden::Model::"gpt-4");`)]).ok).toBe(true);
    const after = engine.decide(llmCall(agent, 'gpt-4'));
    expect(after).toMatchObject({ decision: 'deny', cached: false, policyIds: ['no-gpt4'] });
    expect(engine.stats()).toMatchObject({ misses: 2, generation: 1 });
  });

  it('keys on the minute, so a decision an hour later is not reused', () => {
    const engine = new PolicyEngine();
    engine.decide(llmCall(agent, 'gpt-4o', { now: Date.parse('2025-01-01T10:00:05Z') }));
    expect(engine.decide(llmCall(agent, 'gpt-4o', { now: Date.parse('2025-01-01T10:00:55Z') })).cached).toBe(true);
    expect(engine.decide(llmCall(agent, 'gpt-4o', { now: Date.parse('2025-01-01T11:00:05Z') })).cached).toBe(false);
  });

  it('stays within its capacity', () => {
    // A fresh principal object per call: the per-principal memo (next test) does not apply.
    const engine = new PolicyEngine({ cacheSize: 4 });
    for (const model of ['a', 'b', 'c', 'd', 'e', 'f']) engine.decide(llmCall(principal(['agent']), model));
    expect(engine.stats().size).toBeLessThanOrEqual(4);
    expect(engine.decide(llmCall(principal(['agent']), 'a')).cached).toBe(false);
    expect(engine.decide(llmCall(principal(['agent']), 'f')).cached).toBe(true);
  });

  it('does not answer from the per-principal memo for the same resource id on another server', () => {
    const engine = loaded(doc('srv', `forbid (principal, action == Warden::Action::"tools/call", resource) when { resource.server == "b" };`));
    const p = principal(['agent']);
    const call = (server: string): AuthzRequest => ({ principal: p, action: 'tools/call', resource: { type: 'Tool', id: 'read', server } });
    expect(engine.decide(call('a')).decision).toBe('allow');
    expect(engine.decide(call('b')).decision).toBe('deny');
    expect(engine.decide(call('a')).decision).toBe('allow');
  });

  it('remembers decisions per principal object, and forgets them on load() or when the minute changes', () => {
    const engine = new PolicyEngine();
    const p = principal(['agent']);
    const at = Date.UTC(2026, 0, 1, 10, 0, 30);
    expect(engine.decide(llmCall(p, 'gpt-4o', { now: at })).cached).toBe(false);
    expect(engine.decide(llmCall(p, 'gpt-4o', { now: at + 10_000 })).cached).toBe(true);
    expect(engine.decide(llmCall(p, 'gpt-4o', { now: at, clientIp: '10.0.0.1' })).cached).toBe(false);
    engine.load([doc('no-4o', `forbid (principal, action, resource == Warden::Model::"gpt-4o");`)]);
    const after = engine.decide(llmCall(p, 'gpt-4o', { now: at }));
    expect([after.cached, after.decision]).toEqual([false, 'deny']);
    expect(engine.decide(llmCall(p, 'gpt-4o', { now: at + 60_000 })).cached).toBe(false);
  });

  it('hands out cached decisions that callers cannot alter', () => {
    const engine = new PolicyEngine();
    engine.decide(llmCall(agent));
    const hit = engine.decide(llmCall(agent));
    expect(() => hit.policyIds.push('forged')).toThrow();
    expect(engine.decide(llmCall(agent)).policyIds).toEqual(['warden.default.llm']);
  });
});

describe('hooks', () => {
  it('onDecision sees every decision, cached or not, with its duration', () => {
    const seen: Array<[string, AuthzDecision, number]> = [];
    const engine = new PolicyEngine({ hooks: { onDecision: (action, d, s) => seen.push([action, d, s]) } });
    engine.decide(llmCall(agent));
    engine.decide(llmCall(agent));
    expect(seen.map(([a, d]) => [a, d.cached])).toEqual([['llm:call', false], ['llm:call', true]]);
    expect(seen.every(([, , s]) => s >= 0 && s < 1)).toBe(true);
  });

  it('a throwing hook does not change the decision', () => {
    const engine = new PolicyEngine({ hooks: { onDecision: () => { throw new Error('metrics down'); } } });
    expect(engine.decide(llmCall(agent)).decision).toBe('allow');
  });
});

describe('@approval forbids', () => {
  const HOLD = `@id("hold-big")
@approval("required")
forbid (principal, action == Warden::Action::"tools/call", resource)
when { context has arguments && context.arguments has amount && context.arguments.amount > 100 };`;
  const loaded = () => {
    const e = new PolicyEngine();
    expect(e.load([doc('hold', HOLD)]).ok).toBe(true);
    return e;
  };

  it('can be lifted by approval when a permit allows the call otherwise', () => {
    const e = loaded();
    const req = toolCall(agent, { amount: 500 });
    const d = e.decide(req);
    expect(d).toMatchObject({ decision: 'deny', reason: 'forbid', policyIds: ['hold-big'] });
    expect(e.needsApproval(req, d)).toBe(true);
  });

  it('cannot lift a deny that no permit would allow (a guest has no MCP permit)', () => {
    const e = loaded();
    const req = toolCall(principal(['guest']), { amount: 500 });
    const d = e.decide(req);
    expect(d.decision).toBe('deny');
    expect(e.needsApproval(req, d)).toBe(false);
  });

  it('cannot lift a deny that an ordinary forbid also made', () => {
    const e = new PolicyEngine();
    expect(e.load([doc('hold', HOLD), doc('etc', FORBID_ETC)]).ok).toBe(true);
    const req = toolCall(agent, { amount: 500, path: '/etc/passwd' });
    expect(e.needsApproval(req, e.decide(req))).toBe(false);
  });

  it('reports an argument Cedar cannot compare as an error, which callers must treat as a deny', () => {
    const e = loaded();
    const d = e.decide(toolCall(agent, { amount: 1e20 }));
    expect(d.errors.length).toBeGreaterThan(0);
  });
});
