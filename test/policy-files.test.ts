/**
 * Policy files: `policy.dir` holds *.cedar files that apply to every org,
 * watched and reloaded without a restart; an invalid file leaves the
 * previous set in force and shows up in /health/detailed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Stack, startPeerGateway, startStack } from './helpers.js';
import { type Answer, call, chatAs, expectError, settle } from './identity-helpers.js';

let s: Stack;
let dir: string;

// chatAs uses gpt-4o-mini.
const FORBID = '@id("file-no-mini")\nforbid (\n  principal,\n  action == Warden::Action::"llm:call",\n  resource == Warden::Model::"gpt-4o-mini"\n);\n';
const PERMIT_ONLY = '@id("file-permit")\npermit (principal, action == Warden::Action::"llm:call", resource == Warden::Model::"never-used");\n';
const INVALID = '@id("file-broken")\nforbid (principal, action == Warden::Action::"llm:call", resource)\nwhen { resource.colour == "red" };\n';


const chat = (): Promise<Answer> => chatAs(s, s.agentKey);
const policies = async () => (await call(s, 'GET', '/health/detailed', { auth: s.adminKey })).body.components.policies;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warden-policies-'));
  writeFileSync(join(dir, 'deny.cedar'), FORBID);
  // Not a policy file: ignored, so its nonsense must not break loading.
  writeFileSync(join(dir, 'README.txt'), 'not cedar at all {');
  s = await startStack({ config: { policy: { dir } } });
});
afterAll(async () => {
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('policy files', () => {
  beforeEach(async () => {
    // Every test starts from the forbid in force.
    writeFileSync(join(dir, 'deny.cedar'), FORBID);
    expect((await settle(chat, (r) => r.status === 403)).status).toBe(403);
  });

  it('a forbid in a policy file applies from start-up, names its policy, and is listed read-only', async () => {
    const denied = await chat();
    expectError(denied, 403, 'policy_denied');
    expect(denied.body.error.message).toContain('file-no-mini');
    const listed = await call(s, 'GET', '/api/v1/policies', { auth: s.adminKey });
    expect(listed.body).toEqual({ data: [], files: [{ name: 'deny', text: FORBID }] });
  });

  it('the file forbid applies to every org, not only the default one', async () => {
    expect((await call(s, 'POST', '/api/v1/orgs', { auth: s.systemKey, body: { id: 'org-f', name: 'Org F' } })).status).toBe(201);
    const k = await call(s, 'POST', '/api/v1/keys?org_id=org-f', { auth: s.systemKey, body: { name: 'f-agent', role: 'agent' } });
    expectError(await chatAs(s, k.body.key), 403, 'policy_denied');
  });

  it('editing the file to permit-only lifts the forbid within 3 s, without a restart', async () => {
    const started = Date.now();
    writeFileSync(join(dir, 'deny.cedar'), PERMIT_ONLY);
    const r = await settle(chat, (x) => x.status === 200);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('an invalid file keeps the previous set in force and /health/detailed reports load issues until it is fixed', async () => {
    expect((await policies()).load_issues).toBe(0);
    writeFileSync(join(dir, 'deny.cedar'), INVALID);
    const degraded = await settle(policies, (p) => p.load_issues > 0);
    expect(degraded.load_issues).toBeGreaterThan(0);
    expect(degraded.status).toBe('degraded');
    const denied = await chat();
    expectError(denied, 403, 'policy_denied');
    expect(denied.body.error.message).toContain('file-no-mini');

    writeFileSync(join(dir, 'deny.cedar'), PERMIT_ONLY);
    expect((await settle(policies, (p) => p.load_issues === 0)).load_issues).toBe(0);
    expect((await chat()).status).toBe(200);
  });

  it('a second, invalid file leaves the existing forbid in force, and removing it clears the load issue', async () => {
    try {
      writeFileSync(join(dir, 'broken.cedar'), INVALID);
      expect((await settle(policies, (p) => p.load_issues > 0)).load_issues).toBeGreaterThan(0);
      expectError(await chat(), 403, 'policy_denied');
    } finally {
      rmSync(join(dir, 'broken.cedar'), { force: true });
    }
    expect((await settle(policies, (p) => p.load_issues === 0)).load_issues).toBe(0);
    expectError(await chat(), 403, 'policy_denied');
  });

  it('a deleted policy file stops applying', async () => {
    rmSync(join(dir, 'deny.cedar'));
    expect((await settle(chat, (r) => r.status === 200)).status).toBe(200);
    expect((await call(s, 'GET', '/api/v1/policies', { auth: s.adminKey })).body.files).toEqual([]);
  });

  it('an API policy may not reuse a policy id a file already defines: 400 invalid_policy naming the clash', async () => {
    const r = await call(s, 'PUT', '/api/v1/policies/clash', { auth: s.adminKey, body: { text: FORBID } });
    expectError(r, 400, 'invalid_policy');
    expect(r.body.error.message).toContain('file-no-mini');
    expectError(await call(s, 'GET', '/api/v1/policies/clash', { auth: s.adminKey }), 404, 'policy_not_found');
  });

  describe('a file whose policy id clashes with an org\'s API policy', () => {
    const CLASH = '@id("clash-id")\nforbid (principal, action == Warden::Action::"llm:call", resource == Warden::Model::"gpt-4o");\n';
    const chat4o = (url: string, key: string) =>
      fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o', messages: [] }) });
    let orgAdmin: string;

    beforeAll(async () => {
      await call(s, 'POST', '/api/v1/orgs', { auth: s.systemKey, body: { id: 'org-g', name: 'Org G' } });
      orgAdmin = (await call(s, 'POST', '/api/v1/keys?org_id=org-g', { auth: s.systemKey, body: { name: 'g-admin', role: 'admin' } })).body.key;
    });

    beforeEach(async () => {
      // The org's policy first (accepted: no clash yet), then the operator adds a file reusing its id.
      expect((await call(s, 'PUT', '/api/v1/policies/clash-api', { auth: s.adminKey, body: { text: CLASH } })).status).toBe(200);
      writeFileSync(join(dir, 'clash.cedar'), CLASH);
      expect((await settle(policies, (p) => p.load_issues > 0)).load_issues).toBeGreaterThan(0);
    });

    afterEach(async () => {
      rmSync(join(dir, 'clash.cedar'), { force: true });
      await call(s, 'DELETE', '/api/v1/policies/clash-api', { auth: s.adminKey });
      await settle(policies, (p) => p.load_issues === 0);
    });

    it('does not stop another org from changing its own policies', async () => {
      const r = await call(s, 'PUT', '/api/v1/policies/g-own', { auth: orgAdmin, body: { text: '@id("g-own")\nforbid (principal, action == Warden::Action::"llm:call", resource == Warden::Model::"never-g");\n' } });
      await call(s, 'DELETE', '/api/v1/policies/g-own', { auth: orgAdmin });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    });

    it('a gateway starting with it still enforces the valid forbids (file and API) instead of only the built-in permits', async () => {
      const g2 = await startPeerGateway(s, { policy: { dir } });
      try {
        // The running gateway kept its previous set: both forbids hold there.
        expect((await chat4o(s.url, s.agentKey)).status).toBe(403);
        expect((await chat()).status).toBe(403);
        // deny.cedar is valid and unrelated to the clash; clash-id forbids gpt-4o either way.
        expect((await chatAs({ ...s, url: g2.url } as Stack, s.agentKey)).status, 'file forbid on gpt-4o-mini on a fresh gateway').toBe(403);
        expect((await chat4o(g2.url, s.agentKey)).status, 'clash-id forbid on gpt-4o on a fresh gateway').toBe(403);
      } finally {
        await g2.close();
      }
    });
  });
});

describe('policy files at start-up', () => {
  it('a gateway started with one invalid file next to a valid forbid does not fail open: it refuses to start or enforces the forbid', async () => {
    const d = mkdtempSync(join(tmpdir(), 'warden-policies-'));
    writeFileSync(join(d, 'deny.cedar'), FORBID);
    writeFileSync(join(d, 'broken.cedar'), INVALID);
    let started: Stack | undefined;
    try {
      started = await startStack({ config: { policy: { dir: d } } }).catch(() => undefined);
      if (started) expectError(await chatAs(started, started.agentKey), 403, 'policy_denied');
    } finally {
      await started?.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});
