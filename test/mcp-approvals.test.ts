/**
 * Human approval of MCP tool calls: a call an `@approval` policy holds waits
 * until someone with approvals:decide approves or denies it through
 * /api/v1/approvals, or fails when the wait expires; every step is audited.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from './helpers.js';
import { call, events, settle } from './identity-helpers.js';
import { startToolServer, text, type ToolServer, wardenClient } from './mcp-helpers.js';
import { putPolicy } from './policy-helpers.js';

let s: Stack;
let bank: ToolServer;
let agent: Client;
let admin: Client;

const POLICY = [
  '@id("approve-big-transfers")',
  '@approval("required")',
  'forbid (principal, action == Warden::Action::"tools/call", resource == Warden::Tool::"transfer")',
  'when { context has arguments && context.arguments has amount && context.arguments.amount > 100 };',
].join('\n');

beforeAll(async () => {
  bank = await startToolServer([
    {
      name: 'transfer',
      description: 'Moves money',
      inputSchema: { type: 'object', properties: { amount: { type: 'integer' }, to: { type: 'string' } }, required: ['amount', 'to'] },
      run: (a) => text(`sent ${String(a.amount)} to ${String(a.to)}`),
    },
  ]);
  s = await startStack({ config: { mcp: { servers: [{ name: 'bank', url: bank.url }], approval_timeout_s: 2 } } });
  expect((await putPolicy(s, 'approvals', POLICY)).status).toBe(200);
  agent = await wardenClient(s.url, s.agentKey);
  admin = await wardenClient(s.url, s.adminKey);
}, 30_000);

afterAll(async () => {
  await Promise.allSettled([agent?.close(), admin?.close()]);
  await s?.close();
  await bank?.close();
});

/** The pending approval of a transfer to `to`, once it shows up. */
async function pendingFor(to: string): Promise<any> {
  const found = await settle(
    async () => (await call(s, 'GET', '/api/v1/approvals?status=pending', { auth: s.adminKey })).body.data as any[],
    (list) => list.some((a) => a.arguments?.to === to),
  );
  const a = found.find((x) => x.arguments?.to === to);
  expect(a, `a pending approval for ${to}`).toBeTruthy();
  return a;
}

const decide = (id: string, decision: 'approve' | 'deny', key = s.adminKey, note?: string) =>
  call(s, 'POST', `/api/v1/approvals/${id}`, { auth: key, body: note ? { decision, note } : { decision } });

describe('approval', () => {
  it('lets a call the policy does not hold through at once', async () => {
    expect(await agent.callTool({ name: 'bank__transfer', arguments: { amount: 5, to: 'alice' } })).toMatchObject({ content: [{ text: 'sent 5 to alice' }] });
  });

  it('holds a call until an approver approves it, then runs it', async () => {
    const before = bank.calls.length;
    const pending = agent.callTool({ name: 'bank__transfer', arguments: { amount: 500, to: 'bob' } });
    const a = await pendingFor('bob');
    expect(a).toMatchObject({ status: 'pending', server: 'bank', tool: 'transfer', policy_ids: ['approve-big-transfers'], requester: { type: 'Key' } });
    expect(bank.calls.length).toBe(before); // not run while held
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    expect(metrics).toMatch(/^warden_mcp_approvals_pending 1$/m);
    const r = await decide(a.id, 'approve', s.adminKey, 'checked with finance');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ status: 'approved', decided_by: { type: 'Key' }, note: 'checked with finance' });
    expect(await pending).toMatchObject({ content: [{ text: 'sent 500 to bob' }] });
    // On record: held (pending), the approver's decision, then the call itself.
    const invokes = (await events(s, 'mcp.tool_invoke')).filter((e) => e.detail.approval_id === a.id || e.detail.approval?.id === a.id);
    expect(invokes.map((e) => e.decision).sort()).toEqual(['allow', 'pending']);
    expect(invokes.find((e) => e.decision === 'allow').detail.approval).toMatchObject({ status: 'approved', note: 'checked with finance' });
    const [decided] = (await events(s, 'mcp.approval')).filter((e) => e.detail.approval_id === a.id);
    expect(decided).toMatchObject({ decision: 'allow', detail: { status: 'approved', tool: 'transfer' } });
  });

  it('fails a denied call with an error that says who denied it; the server never sees it', async () => {
    const before = bank.calls.length;
    const pending = agent.callTool({ name: 'bank__transfer', arguments: { amount: 900, to: 'mallory' } });
    const a = await pendingFor('mallory');
    expect((await decide(a.id, 'deny', s.adminKey, 'not a known payee')).status).toBe(200);
    await expect(pending).rejects.toThrow(/needed approval .* and was denied by Key .*: not a known payee/);
    expect(bank.calls.length).toBe(before);
    expect((await decide(a.id, 'approve')).status).toBe(409); // decided once
  });

  it('fails a call nobody decides once the wait expires', async () => {
    const t0 = Date.now();
    await expect(agent.callTool({ name: 'bank__transfer', arguments: { amount: 300, to: 'carol' } })).rejects.toThrow(/expired before anyone approved it/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    const list = (await call(s, 'GET', '/api/v1/approvals?status=expired', { auth: s.adminKey })).body.data as any[];
    expect(list.some((a) => a.arguments.to === 'carol')).toBe(true);
  });

  it('lets nobody decide their own call, and nobody without approvals:decide', async () => {
    const pending = admin.callTool({ name: 'bank__transfer', arguments: { amount: 200, to: 'dave' } });
    const a = await pendingFor('dave');
    const self = await decide(a.id, 'approve', s.adminKey);
    expect(self.status).toBe(403);
    expect(self.body.error.message).toMatch(/call you made yourself/);
    expect((await decide(a.id, 'approve', s.agentKey)).status).toBe(403);
    expect((await call(s, 'GET', '/api/v1/approvals', { auth: s.agentKey })).status).toBe(403);
    await expect(pending).rejects.toThrow(/expired/);
  });

  it('refuses, without holding, a call whose arguments a policy cannot evaluate (fails closed)', async () => {
    const before = bank.calls.length;
    await expect(agent.callTool({ name: 'bank__transfer', arguments: { amount: 1e20, to: 'eve' } })).rejects.toThrow(/a policy could not be evaluated on its arguments/);
    expect(bank.calls.length).toBe(before);
    const list = (await call(s, 'GET', '/api/v1/approvals', { auth: s.adminKey })).body.data as any[];
    expect(list.some((a) => a.arguments?.to === 'eve')).toBe(false);
  });

  it('answers an approval id that does not exist with 404', async () => {
    expect((await decide('0190b7a0-0000-7000-8000-000000000000', 'approve')).status).toBe(404);
  });
});
