import { globToRegExp } from '../identity/index.js';
import type { Finding, FindingCategory } from './finding.js';
import { InjectionDetector, INJECTION_THRESHOLD } from './injection.js';
import { answerTexts, jsonTexts, payloadTexts, type AnswerFormat, type PayloadText, type TextSource } from './payload.js';
import { ContentScanner, Redactor, type RecordedFinding } from './scanner.js';

export type GuardAction = 'block' | 'redact' | 'flag' | 'off';

export interface GuardRuleConfig {
  match?: { org?: string[]; project?: string[]; route?: string[]; model?: string[]; tool?: string[]; direction?: string[] };
  actions?: Partial<Record<FindingCategory, GuardAction>>;
  types?: Record<string, GuardAction>;
}

export interface GuardConfig {
  min_confidence: number;
  actions: Record<FindingCategory, GuardAction>;
  rules: GuardRuleConfig[];
  /** Whether model answers (streamed or not) are inspected too. */
  answers: boolean;
}

/** Who and what a payload is for: what the rules match on. */
export interface GuardTarget {
  orgId: string;
  projectId: string | null;
  route: string;
  model: string | null;
  tool?: string | null;
  /** What is inspected: what the caller sends (`request`) or what the model or tool sends back (`response`). */
  direction?: 'request' | 'response';
}

/** What inspecting one payload found and decided. */
export interface GuardVerdict {
  findings: RecordedFinding[];
  /** The strongest action any finding called for ('pass' when nothing was found). */
  action: 'pass' | 'flag' | 'redact' | 'block';
  /** Finding types whose action is block (what a 403 names). */
  blocked: string[];
  /** Highest prompt-injection score over the payload's texts. */
  injection: number;
  /** Whether texts were rewritten with placeholders. */
  redacted: boolean;
  /** The placeholders handed out, so the answer to this request reuses them for the same values. */
  redactor: Redactor;
}

/** A finding in one text, with the action it calls for. */
export interface ActedFinding extends Finding {
  action: GuardAction;
}

const STRENGTH = { pass: 0, flag: 1, redact: 2, block: 3 } as const;

/** The stronger of a verdict's action so far and what one finding's action makes it (injections cannot be redacted: they are flagged). */
export function strongerAction(current: GuardVerdict['action'], action: GuardAction, category: FindingCategory): GuardVerdict['action'] {
  const a = action === 'off' ? 'pass' : action === 'redact' && category === 'injection' ? 'flag' : action;
  return STRENGTH[a] > STRENGTH[current] ? a : current;
}

interface CompiledRule {
  test(t: GuardTarget): boolean;
  actions: Partial<Record<FindingCategory, GuardAction>>;
  types: Record<string, GuardAction>;
}

/**
 * The guardrails stage: scans what a model will read for PII, secrets and
 * prompt injection, and applies the configured action per finding — block,
 * redact (typed placeholders, consistent within the request) or flag.
 * Never keeps the text it found: findings carry a keyed hash and a masked
 * preview.
 */
export class Guard {
  readonly #rules: CompiledRule[];

  constructor(
    private readonly cfg: GuardConfig,
    private readonly scanner: ContentScanner,
    private readonly injection: InjectionDetector,
  ) {
    this.#rules = cfg.rules.map((r) => {
      const tests = Object.entries(r.match ?? {}).map(([field, globs]) => {
        const res = (globs ?? []).map(globToRegExp);
        return (t: GuardTarget) => {
          const v = field === 'org' ? t.orgId : field === 'project' ? t.projectId : field === 'route' ? t.route : field === 'model' ? t.model : field === 'direction' ? (t.direction ?? 'request') : (t.tool ?? null);
          return v !== null && res.some((re) => re.test(v));
        };
      });
      return { test: (t) => tests.every((x) => x(t)), actions: r.actions ?? {}, types: r.types ?? {} };
    });
  }

  /** The action for a finding of `type` in `category` on this target. */
  actionFor(target: GuardTarget, category: FindingCategory, type: string): GuardAction {
    const rule = this.#rules.find((r) => r.test(target));
    return rule?.types[type] ?? rule?.actions[category] ?? this.cfg.actions[category];
  }

  /** Whether any finding on this target could change what passes (block or redact): when not, a stream need not be held back. */
  alters(target: GuardTarget): boolean {
    const rule = this.#rules.find((r) => r.test(target));
    const acts = [...Object.values(this.cfg.actions), ...Object.values(rule?.actions ?? {}), ...Object.values(rule?.types ?? {})];
    return acts.some((a) => a === 'block' || a === 'redact');
  }

  get answers(): boolean {
    return this.cfg.answers;
  }

  /** Inspects a request body in place: on `redact`, its texts are rewritten. */
  inspectRequest(body: Record<string, unknown>, target: GuardTarget): GuardVerdict {
    return this.inspectTexts(payloadTexts(body), { ...target, direction: 'request' }, new Redactor(), true);
  }

  /** Inspects a non-streamed model answer (parsed JSON) in place, reusing the request's placeholders. */
  inspectAnswer(format: AnswerFormat, body: unknown, target: GuardTarget, redactor: Redactor): GuardVerdict {
    return this.inspectTexts(answerTexts(format, body), { ...target, direction: 'response' }, redactor, false);
  }

  /**
   * Inspects any JSON payload in place — an ingested trace event's payload,
   * a tool call's arguments or result: every string in it, scored for
   * injection as text of `source` (`tool_result` and `document` weigh
   * planted instructions higher).
   */
  inspectPayload(value: unknown, target: GuardTarget, source: TextSource, redactor = new Redactor()): GuardVerdict {
    return this.inspectTexts(jsonTexts(value, source), target, redactor, true);
  }

  /** PII and secret findings in one text with their actions (`off` ones left out): what a stream inspector acts on. */
  findings(text: string, target: GuardTarget): ActedFinding[] {
    const out: ActedFinding[] = [];
    for (const f of this.scanner.scan(text, this.cfg.min_confidence)) {
      const action = this.actionFor(target, f.category, f.type);
      if (action !== 'off') out.push({ ...f, action });
    }
    return out;
  }

  record(text: string, where: string, f: Finding): RecordedFinding {
    return this.scanner.record(text, where, f);
  }

  /**
   * The texts' findings and the strongest action: rewrites texts whose
   * findings say redact, and scores prompt injection when `injection` (what
   * a model reads; a model's own answer is not scored).
   */
  inspectTexts(parts: PayloadText[], target: GuardTarget, redactor: Redactor, injection: boolean): GuardVerdict {
    const verdict: GuardVerdict = { findings: [], action: 'pass', blocked: [], injection: 0, redacted: false, redactor };
    const scoreInjection = injection && this.actionFor(target, 'injection', 'PROMPT_INJECTION') !== 'off';
    for (const part of parts) {
      const found: Finding[] = this.findings(part.text, target);
      const inj = scoreInjection ? this.injection.score(part.text, part.source) : null;
      if (inj && inj.score > verdict.injection) verdict.injection = inj.score;
      if (inj && inj.score >= INJECTION_THRESHOLD) {
        const top = [...inj.signals].sort((a, b) => b.weight - a.weight)[0];
        found.push({ type: 'PROMPT_INJECTION', category: 'injection', start: top?.start ?? 0, end: top?.end ?? 0, confidence: inj.score });
      }
      const toRedact = [];
      for (const f of found) {
        verdict.findings.push(this.scanner.record(part.text, part.where, f));
        const action = this.actionFor(target, f.category, f.type);
        if (action === 'block' && !verdict.blocked.includes(f.type)) verdict.blocked.push(f.type);
        if (action === 'redact' && f.category !== 'injection') toRedact.push(f);
        verdict.action = strongerAction(verdict.action, action, f.category);
      }
      if (toRedact.length) {
        part.replace(redactor.redact(part.text, toRedact));
        verdict.redacted = true;
      }
    }
    return verdict;
  }
}
