import type { RunRecord, TraceEventRecord } from '../storage/index.js';

export type Severity = 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
const RANK: Record<Severity, number> = { INFO: 0, WARNING: 1, ERROR: 2, CRITICAL: 3 };

/** One check's verdict on a finished run. */
export interface EvaluationFinding {
  check: 'time_gap' | 'sequence_gap' | 'required_step' | 'frequency' | 'error_rate' | 'tool_failure_rate' | 'final_output';
  severity: Severity;
  message: string;
  /** The measured value the verdict rests on. */
  value: number | string;
}

export interface RunEvaluation {
  /** The worst finding's severity; INFO when nothing was found. */
  severity: Severity;
  findings: EvaluationFinding[];
  evaluatedAt: number;
  events: number;
}

/** Steps a run must contain, for runs whose agent and scenario match (`*` globs). */
export interface RequiredSteps {
  agent?: string;
  scenario?: string;
  /** Event types that must occur at least once. */
  types?: string[];
  /** Tools that must be called (an action_request with payload.tool). */
  tools?: string[];
}

export interface EvaluationRules {
  /** Longest quiet time between two consecutive steps (ms) before it is a WARNING. */
  maxStepGapMs: number;
  required: readonly RequiredSteps[];
  /** Error events / all events: WARNING from the first, ERROR from the second. */
  errorRate: readonly [number, number];
  /** Failed tool answers / tool answers: WARNING from the first, ERROR from the second. */
  toolFailureRate: readonly [number, number];
  /** Events in one second, at least this many and this many times the run's mean rate: a burst. */
  burstMin: number;
  burstFactor: number;
}

export const DEFAULT_EVALUATION: EvaluationRules = {
  maxStepGapMs: 300_000,
  required: [],
  errorRate: [0.1, 0.5],
  toolFailureRate: [0.2, 0.5],
  burstMin: 50,
  burstFactor: 10,
};

const glob = (pattern: string | undefined, value: string | null): boolean =>
  pattern === undefined || (value !== null && new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`).test(value));

const pct = (x: number): string => `${Math.round(x * 1000) / 10}%`;

/**
 * Post-run evaluation: reads a finished run's events and reports, each with a
 * severity, long quiet times between steps, missing sequence numbers,
 * required steps that never happened, bursts of events, the error rate and
 * the tool failure rate. Pure: the caller stores and emits the result.
 */
export function evaluateRun(run: RunRecord, events: readonly TraceEventRecord[], rules: EvaluationRules, now = Date.now()): RunEvaluation {
  const findings: EvaluationFinding[] = [];
  const add = (f: EvaluationFinding) => findings.push(f);
  const bySeq = [...events].sort((a, b) => a.seq - b.seq || a.t - b.t);

  let widest = 0, widestAt = -1;
  for (let i = 1; i < bySeq.length; i++) {
    const gap = bySeq[i]!.t - bySeq[i - 1]!.t;
    if (gap > widest) [widest, widestAt] = [gap, bySeq[i]!.seq];
  }
  if (widest > rules.maxStepGapMs) add({ check: 'time_gap', severity: 'WARNING', message: `${Math.round(widest / 1000)} s passed before step ${widestAt}, more than the ${Math.round(rules.maxStepGapMs / 1000)} s allowed`, value: widest });

  const seqs = new Set(bySeq.map((e) => e.seq));
  if (seqs.size > 0) {
    const lo = Math.min(...seqs), hi = Math.max(...seqs);
    const missing = hi - lo + 1 - seqs.size;
    if (missing > 0) {
      const share = missing / (hi - lo + 1);
      add({ check: 'sequence_gap', severity: share > 0.1 ? 'ERROR' : 'WARNING', message: `${missing} sequence numbers between ${lo} and ${hi} never arrived (${pct(share)})`, value: missing });
    }
  }

  const types = new Set(bySeq.map((e) => e.type));
  const tools = new Set(bySeq.flatMap((e) => (e.type === 'action_request' && typeof (e.payload as { tool?: unknown })?.tool === 'string' ? [(e.payload as { tool: string }).tool] : [])));
  for (const req of rules.required) {
    if (!glob(req.agent, run.agent) || !glob(req.scenario, run.scenario)) continue;
    for (const t of req.types ?? []) if (!types.has(t)) add({ check: 'required_step', severity: 'ERROR', message: `No ${t} event, which runs of ${run.agent}${run.scenario ? ` in ${run.scenario}` : ''} must have`, value: t });
    for (const t of req.tools ?? []) if (!tools.has(t)) add({ check: 'required_step', severity: 'ERROR', message: `The tool ${t} was never called, which runs of ${run.agent}${run.scenario ? ` in ${run.scenario}` : ''} must call`, value: t });
  }
  if (run.status === 'completed' && !types.has('final_output')) add({ check: 'final_output', severity: 'WARNING', message: 'The run completed without a final_output event', value: 0 });

  if (bySeq.length > 0) {
    const byTime = bySeq.map((e) => e.t).sort((a, b) => a - b);
    const span = Math.max(1, (byTime.at(-1)! - byTime[0]!) / 1000);
    const mean = byTime.length / span;
    let most = 0;
    for (let i = 0, j = 0; i < byTime.length; i++) {
      while (byTime[i]! - byTime[j]! >= 1000) j++;
      most = Math.max(most, i - j + 1);
    }
    if (most >= rules.burstMin && most >= rules.burstFactor * mean) add({ check: 'frequency', severity: 'WARNING', message: `${most} events within one second, against ${Math.round(mean * 10) / 10} a second on average`, value: most });
  }

  const rate = (x: number, [warn, err]: readonly [number, number]): Severity | null => (x >= err ? 'ERROR' : x >= warn ? 'WARNING' : null);
  if (bySeq.length > 0) {
    const errors = bySeq.filter((e) => e.type === 'error').length / bySeq.length;
    const s = rate(errors, rules.errorRate);
    if (s) add({ check: 'error_rate', severity: s, message: `${pct(errors)} of the run's events are errors`, value: errors });
  }
  const answers = bySeq.filter((e) => e.type === 'action_response');
  if (answers.length > 0) {
    const failed = answers.filter((e) => {
      const p = e.payload as { status?: unknown; error?: unknown } | null;
      return p?.status === 'error' || (typeof p?.error === 'string' && p.error !== '');
    }).length / answers.length;
    const s = rate(failed, rules.toolFailureRate);
    if (s) add({ check: 'tool_failure_rate', severity: s, message: `${pct(failed)} of the tool calls failed`, value: failed });
  }

  const severity = findings.reduce<Severity>((w, f) => (RANK[f.severity] > RANK[w] ? f.severity : w), 'INFO');
  return { severity, findings, evaluatedAt: now, events: bySeq.length };
}
