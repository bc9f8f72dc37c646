import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

describe('policy engine under the optimizer', () => {
  // bench/lib/policy-bench.mjs runs uncached and cached llm:call decisions, then tools/call
  // ones, in one process: before the workaround Node 20 aborted it every time ("Fatal error
  // ... unreachable code" in V8's deoptimizer) at the first uncached tools/call decisions.
  it('survives the decision benchmark workload in one process (Node 20 V8 JS→Wasm inlining crash worked around)', () => {
    const r = spawnSync(process.execPath, [join(root, 'bench/lib/policy-bench.mjs')], { encoding: 'utf8', timeout: 90_000 });
    expect(r.stderr).not.toContain('Fatal error');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { cached: { n: number } }>;
    expect(out['tools/call']?.cached.n).toBeGreaterThan(0);
  }, 100_000);
});
