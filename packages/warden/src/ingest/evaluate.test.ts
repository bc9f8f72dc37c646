import { describe, expect, it } from 'vitest';
import { newRun, type RunRecord, type TraceEventRecord } from '../storage/index.js';
import { DEFAULT_EVALUATION, evaluateRun } from './evaluate.js';

const run = (over: Partial<RunRecord> = {}): RunRecord => newRun({ id: 'r1', orgId: 'o', agent: 'refund-bot', scenario: 'refund', status: 'completed', createdAt: 0, finalizedAt: 1, ...over });
const ev = (seq: number, type: string, t = seq * 1000, payload: unknown = {}): TraceEventRecord => ({
  id: seq, runId: 'r1', seq, t, actor: 'agent', type, payload, blob: null, meta: null, idempotencyKey: null, flags: [], receivedAt: t,
});
const checks = (e: ReturnType<typeof evaluateRun>) => e.findings.map((f) => [f.check, f.severity]);

describe('evaluateRun', () => {
  it('finds nothing in a clean run: INFO', () => {
    const e = evaluateRun(run(), [ev(1, 'reasoning'), ev(2, 'action_request', 2000, { tool: 'lookup' }), ev(3, 'action_response', 3000, { status: 'ok' }), ev(4, 'final_output')], DEFAULT_EVALUATION, 5);
    expect(e).toEqual({ severity: 'INFO', findings: [], evaluatedAt: 5, events: 4 });
  });

  it('reports a long quiet time, missing sequence numbers, and a completed run without a final output', () => {
    const e = evaluateRun(run(), [ev(1, 'reasoning', 0), ev(2, 'reasoning', 1000), ev(9, 'reasoning', 1000 + 600_000)], DEFAULT_EVALUATION);
    expect(checks(e)).toEqual([['time_gap', 'WARNING'], ['sequence_gap', 'ERROR'], ['final_output', 'WARNING']]);
    expect(e.findings[0]!.message).toBe('600 s passed before step 9, more than the 300 s allowed');
    expect(e.findings[1]).toMatchObject({ value: 6, message: '6 sequence numbers between 1 and 9 never arrived (66.7%)' });
    expect(e.severity).toBe('ERROR');
  });

  it('checks required steps for runs of the matching agent and scenario only', () => {
    const rules = { ...DEFAULT_EVALUATION, required: [{ agent: 'refund-*', scenario: 'refund', types: ['final_output'], tools: ['verify_identity'] }, { agent: 'other', types: ['error'] }] };
    const e = evaluateRun(run(), [ev(1, 'action_request', 1000, { tool: 'issue_refund' }), ev(2, 'final_output')], rules);
    expect(e.findings).toEqual([{ check: 'required_step', severity: 'ERROR', message: 'The tool verify_identity was never called, which runs of refund-bot in refund must call', value: 'verify_identity' }]);
    expect(evaluateRun(run({ agent: 'coder' }), [ev(1, 'reasoning')], rules).findings.filter((f) => f.check === 'required_step')).toEqual([]);
  });

  it('grades the error rate and the tool failure rate, and spots a burst', () => {
    const answers = [ev(1, 'action_response', 0, { status: 'error' }), ev(2, 'action_response', 1000, { error: 'timeout' }), ev(3, 'action_response', 2000, { status: 'ok' }), ev(4, 'error', 3000, { message: 'x' }), ev(5, 'final_output', 4000)];
    expect(checks(evaluateRun(run(), answers, DEFAULT_EVALUATION))).toEqual([['error_rate', 'WARNING'], ['tool_failure_rate', 'ERROR']]);
    // 60 events inside 0.3 s of a 100 s run: a burst.
    const burst = [...Array.from({ length: 60 }, (_, i) => ev(i + 1, 'reasoning', 50_000 + i * 5)), ev(61, 'reasoning', 0), ev(62, 'final_output', 100_000)];
    const e = evaluateRun(run(), burst, DEFAULT_EVALUATION);
    expect(checks(e)).toEqual([['frequency', 'WARNING']]);
    expect(e.findings[0]!.value).toBe(60);
  });
});
