import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PolicyEngine, PolicyFiles, type PolicyFilesSnapshot } from './index.js';

/** Polls until `check` passes or the deadline expires; file-system events have no fixed latency. */
async function eventually(check: () => void, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

let dir: string;
let files: PolicyFiles | undefined;
let snapshots: PolicyFilesSnapshot[];

const last = (): PolicyFilesSnapshot | undefined => snapshots.at(-1);
const watchDir = (onChange = (s: PolicyFilesSnapshot) => void snapshots.push(s)): PolicyFiles => {
  files = new PolicyFiles(dir, onChange, { debounceMs: 50 });
  return files;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-policy-'));
  snapshots = [];
});

afterEach(() => {
  files?.close();
  files = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('PolicyFiles', () => {
  it('reads *.cedar files sorted by name as global documents named after the file', () => {
    writeFileSync(join(dir, 'b.cedar'), 'forbid (principal, action, resource);');
    writeFileSync(join(dir, 'a.cedar'), 'permit (principal, action, resource);');
    writeFileSync(join(dir, 'notes.txt'), 'not policy');
    writeFileSync(join(dir, '.#a.cedar'), 'editor lock file');
    expect(watchDir().read()).toEqual([
      { id: 'a', text: 'permit (principal, action, resource);', origin: 'file', orgId: null },
      { id: 'b', text: 'forbid (principal, action, resource);', origin: 'file', orgId: null },
    ]);
    expect(files!.issues).toEqual([]);
  });

  it('reports a missing directory instead of throwing from read()', () => {
    rmSync(dir, { recursive: true });
    const policyFiles = watchDir();
    expect(policyFiles.read()).toEqual([]);
    expect(policyFiles.issues[0]?.message).toMatch(/cannot read policy directory .*ENOENT/);
  });

  it('announces a new file and a changed file', async () => {
    watchDir().read();
    files!.start();
    writeFileSync(join(dir, 'tools.cedar'), 'forbid (principal, action, resource);');
    await eventually(() => expect(last()?.documents.map((d) => d.id)).toEqual(['tools']));
    writeFileSync(join(dir, 'tools.cedar'), 'permit (principal, action, resource);');
    await eventually(() => expect(last()?.documents[0]?.text).toBe('permit (principal, action, resource);'));
  });

  it('announces a deleted file', async () => {
    writeFileSync(join(dir, 'old.cedar'), 'forbid (principal, action, resource);');
    watchDir().read();
    files!.start();
    rmSync(join(dir, 'old.cedar'));
    await eventually(() => expect(last()?.documents).toEqual([]));
  });

  it('keeps the previous contents of a file it cannot read, and reports it', async () => {
    writeFileSync(join(dir, 'rules.cedar'), 'forbid (principal, action, resource);');
    watchDir().read();
    files!.start();
    rmSync(join(dir, 'rules.cedar'));
    mkdirSync(join(dir, 'rules.cedar'));
    await eventually(() => expect(last()?.issues[0]?.message).toMatch(/cannot read policy file .*rules\.cedar: EISDIR.*keeping its previous contents/));
    expect(last()?.documents).toEqual([{ id: 'rules', text: 'forbid (principal, action, resource);', origin: 'file', orgId: null }]);
  });

  it('wired to an engine, a broken file leaves the previous policies active and reports the issue', async () => {
    const engine = new PolicyEngine();
    const loads: Array<{ ok: boolean; messages: string[] }> = [];
    const request = {
      principal: { type: 'Key' as const, id: 'k', orgId: 'acme', projectId: null, roles: ['agent'] },
      action: 'llm:call',
      resource: { type: 'Model' as const, id: 'gpt-4' },
    };
    writeFileSync(join(dir, 'models.cedar'), '@id("no-gpt4") forbid (principal, action, resource == Warden::Model::"gpt-4");');
    const policyFiles = watchDir(({ documents }) => {
      const result = engine.load(documents);
      loads.push({ ok: result.ok, messages: result.issues.map((i) => i.message) });
    });
    expect(engine.load(policyFiles.read()).ok).toBe(true);
    policyFiles.start();
    expect(engine.decide(request).decision).toBe('deny');

    writeFileSync(join(dir, 'models.cedar'), 'forbid (principal, action, resource) when { resource.size > 3 };');
    await eventually(() => expect(loads.at(-1)?.ok).toBe(false));
    expect(loads.at(-1)?.messages[0]).toMatch(/^models:1:.*attribute `size`/);
    expect(engine.decide(request)).toMatchObject({ decision: 'deny', policyIds: ['no-gpt4'] });
  });
});
