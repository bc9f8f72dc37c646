import { globToRegExp } from '../identity/index.js';
import type { FindingCategory } from './finding.js';
import { InjectionDetector, INJECTION_THRESHOLD } from './injection.js';
import { payloadTexts } from './payload.js';
import { ContentScanner, Redactor, type RecordedFinding } from './scanner.js';

export type GuardAction = 'block' | 'redact' | 'flag' | 'off';

export interface GuardRuleConfig {
  match?: { org?: string[]; project?: string[]; route?: string[]; model?: string[]; tool?: string[] };
  actions?: Partial<Record<FindingCategory, GuardAction>>;
  types?: Record<string, GuardAction>;
}

export interface GuardConfig {
  min_confidence: number;
  actions: Record<FindingCategory, GuardAction>;
  rules: GuardRuleConfig[];
}

/** Who and what a payload is for: what the rules match on. */
export interface GuardTarget {
  orgId: string;
  projectId: string | null;
  route: string;
  model: string | null;
  tool?: string | null;
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
}

const STRENGTH = { pass: 0, flag: 1, redact: 2, block: 3 } as const;

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
          const v = field === 'org' ? t.orgId : field === 'project' ? t.projectId : field === 'route' ? t.route : field === 'model' ? t.model : (t.tool ?? null);
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

  /** Inspects a request body in place: on `redact`, its texts are rewritten. */
  inspectRequest(body: Record<string, unknown>, target: GuardTarget): GuardVerdict {
    const verdict: GuardVerdict = { findings: [], action: 'pass', blocked: [], injection: 0, redacted: false };
    const redactor = new Redactor();
    for (const part of payloadTexts(body)) {
      const found = this.scanner.scan(part.text, this.cfg.min_confidence).filter((f) => this.actionFor(target, f.category, f.type) !== 'off');
      const inj = this.actionFor(target, 'injection', 'PROMPT_INJECTION') === 'off' ? null : this.injection.score(part.text, part.source);
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
        const a = action === 'off' ? 'pass' : action === 'redact' && f.category === 'injection' ? 'flag' : action;
        if (STRENGTH[a] > STRENGTH[verdict.action]) verdict.action = a;
      }
      if (toRedact.length) {
        part.replace(redactor.redact(part.text, toRedact));
        verdict.redacted = true;
      }
    }
    return verdict;
  }
}
