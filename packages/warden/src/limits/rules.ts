import { globToRegExp, type Principal } from '../identity/index.js';

export type Metric = 'requests' | 'tokens' | 'spend_usd' | 'concurrent';
export type Period = 'second' | 'minute' | 'hour' | 'day' | 'month';
/** Whose counter a call charges: one counter per distinct value. */
export type Scope = 'caller' | 'key' | 'user' | 'agent' | 'org' | 'project' | 'role' | 'model' | 'route' | 'tool' | 'global';

export const PERIOD_MS: Record<Period, number> = {
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  // A sliding 30 days, not a calendar month: no reset at midnight on the 1st for a burst to exploit.
  month: 30 * 86_400_000,
};

/** A limit as configured (config file or admin API). Exactly one metric is set. */
export interface LimitRuleConfig {
  name: string;
  per: Scope;
  requests?: number;
  tokens?: number;
  spend_usd?: number;
  concurrent?: number;
  /** Required for every metric but `concurrent`. */
  window?: Period;
  /** Calls the rule applies to; every listed field must match (globs with * and ?). Absent: all calls. */
  match?: { role?: string[]; model?: string[]; route?: string[]; org?: string[]; key?: string[]; project?: string[]; tool?: string[] };
  /** Rules this one overrides for the calls it applies to (e.g. ["role-agent"] to raise one key's limit above its role's default). */
  replaces?: string[];
}

export interface LimitRule {
  name: string;
  /** Unique across orgs: the counters' key prefix (an org's rule is `org/<org>/<name>`). */
  id: string;
  per: Scope;
  metric: Metric;
  limit: number;
  /** 0 for concurrency. */
  windowMs: number;
  window: Period | null;
  /** Where it came from, for messages and the admin API. */
  source: 'config' | 'role-default' | 'org';
  replaces: string[];
  matches(call: LimitedCall): boolean;
}

/** What a limit decision looks at. */
export interface LimitedCall {
  principal: Principal;
  route: string;
  model: string | null;
  tool: string | null;
}

const METRICS: Metric[] = ['requests', 'tokens', 'spend_usd', 'concurrent'];

/** Checks one configured rule and compiles it; throws a message naming the rule on a mistake. */
export function compileRule(c: LimitRuleConfig, source: LimitRule['source']): LimitRule {
  const set = METRICS.filter((m) => c[m] !== undefined);
  if (set.length !== 1) throw new Error(`limit "${c.name}": set exactly one of ${METRICS.join(', ')} (found ${set.length ? set.join(', ') : 'none'})`);
  const metric = set[0]!;
  const limit = c[metric]!;
  if (!(limit >= 0) || !Number.isFinite(limit)) throw new Error(`limit "${c.name}": ${metric} must be a number >= 0`);
  if (metric !== 'spend_usd' && !Number.isInteger(limit)) throw new Error(`limit "${c.name}": ${metric} must be a whole number`);
  if (metric === 'concurrent' && c.window) throw new Error(`limit "${c.name}": a concurrent limit has no window`);
  if (metric !== 'concurrent' && !c.window) throw new Error(`limit "${c.name}": ${metric} needs a window (second, minute, hour, day or month)`);
  const tests = Object.entries(c.match ?? {}).map(([field, globs]) => {
    const res = (globs ?? []).map(globToRegExp);
    return (call: LimitedCall) => {
      const values = fieldValues(call, field);
      return values.some((v) => res.some((re) => re.test(v)));
    };
  });
  return {
    name: c.name,
    id: c.name,
    per: c.per,
    metric,
    limit,
    window: c.window ?? null,
    windowMs: c.window ? PERIOD_MS[c.window] : 0,
    source,
    replaces: c.replaces ?? [],
    matches: (call) => tests.every((t) => t(call)),
  };
}

function fieldValues(call: LimitedCall, field: string): string[] {
  const p = call.principal;
  switch (field) {
    case 'role':
      return p.roles;
    case 'model':
      return call.model ? [call.model] : [];
    case 'route':
      return [call.route];
    case 'org':
      return [p.orgId];
    case 'key':
      return p.keyId ? [p.keyId] : [];
    case 'project':
      return p.projectId ? [p.projectId] : [];
    case 'tool':
      return call.tool ? [call.tool] : [];
    default:
      return [];
  }
}

/** The calling credential: its key, or the signed-in user or signing agent. */
export function callerOf(p: Principal): string {
  return p.keyId ? `key:${p.keyId}` : `${p.type.toLowerCase()}:${p.id}`;
}

/**
 * The counter a call charges under a rule's scope, or null when the call has
 * no such subject (a per-user rule and an API-key call, say): the rule then
 * does not apply.
 */
export function subjectOf(rule: LimitRule, call: LimitedCall): string | null {
  const p = call.principal;
  switch (rule.per) {
    case 'caller':
      return callerOf(p);
    case 'key':
      return p.keyId ? `key:${p.keyId}` : null;
    case 'user':
      return p.userId ? `user:${p.userId}` : null;
    case 'agent':
      return p.agentId ? `agent:${p.agentId}` : null;
    case 'org':
      return `org:${p.orgId}`;
    case 'project':
      return p.projectId ? `project:${p.projectId}` : null;
    case 'role':
      return `role:${p.roles[0] ?? 'none'}`;
    case 'model':
      return call.model ? `model:${call.model}` : null;
    case 'route':
      return `route:${call.route}`;
    case 'tool':
      return call.tool ? `tool:${call.tool}` : null;
    case 'global':
      return 'global';
  }
}

/** The fields of a rule an org admin sets through the admin API: a rule less its name. */
export type OrgLimitRule = Omit<LimitRuleConfig, 'name'>;

/**
 * An org's own rule: it applies to that org's calls only, whatever its
 * `match.org` says, and may replace only the role defaults (the operator's
 * config rules keep applying to every org).
 */
export function compileOrgRule(orgId: string, name: string, rule: OrgLimitRule, roleDefaults: ReadonlySet<string>): LimitRule {
  const bad = (rule.replaces ?? []).filter((r) => !roleDefaults.has(r));
  if (bad.length) throw new Error(`limit "${name}": an organization's limit may replace only role defaults (${[...roleDefaults].join(', ')}), not ${bad.join(', ')}`);
  const compiled = compileRule({ ...rule, name, match: { ...rule.match, org: [orgId] } }, 'org');
  return { ...compiled, id: `org/${orgId}/${name}` };
}

/** The shipped per-role defaults (requests per minute per caller), overridable in config. */
export const ROLE_DEFAULTS: Record<string, number> = { admin: 1000, user: 600, agent: 600, guest: 60 };

export function roleDefaultRules(perMinute: Record<string, number | null>): LimitRule[] {
  const out: LimitRule[] = [];
  for (const [role, n] of Object.entries(perMinute)) {
    if (n === null) continue;
    out.push(compileRule({ name: `role-${role}`, per: 'caller', requests: n, window: 'minute', match: { role: [role] } }, 'role-default'));
  }
  return out;
}
