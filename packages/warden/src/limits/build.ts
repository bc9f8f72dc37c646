import type { Config } from '../config/index.js';
import { systemEvent, type WardenEvent } from '../events/index.js';
import type { GatewayMetrics } from '../telemetry/index.js';
import { FailoverLimitStore } from './failover-store.js';
import { Limiter } from './limiter.js';
import { MemoryLimitStore } from './memory-store.js';
import { RedisLimitStore } from './redis-store.js';
import { RiskLedger } from './risk.js';
import type { LimitRuleRecord } from '../storage/types.js';
import { compileOrgRule, compileRule, ROLE_DEFAULTS, roleDefaultRules, type LimitRule, type LimitRuleConfig, type OrgLimitRule } from './rules.js';
import type { LimitStore } from './store.js';

export interface LimitsDeps {
  metrics: GatewayMetrics;
  cost(model: string, tokensIn: number, tokensOut: number): number | null;
  /** Records a gateway-level security event (the store went away or came back). */
  emit(event: WardenEvent): void;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

export interface Limits {
  limiter: Limiter | null;
  risk: RiskLedger;
  /** Rules from the config file and the role defaults (every org). */
  readonly configured: readonly LimitRule[];
  /** Names of the role-default rules (what an org's own rule may replace). */
  readonly roleDefaults: ReadonlySet<string>;
  /** Puts the orgs' own rules (as stored) in force next to the configured ones. */
  reload(orgRules: readonly LimitRuleRecord[]): void;
  close(): Promise<void>;
}

/** Rules in the order they are checked: the role defaults, then the configured ones. */
export function configuredRules(config: Config): LimitRule[] {
  const perMinute: Record<string, number | null> = { ...ROLE_DEFAULTS };
  for (const [role, n] of Object.entries(config.limits.roles)) if (n !== undefined) perMinute[role] = n;
  return [...roleDefaultRules(perMinute), ...config.limits.rules.map((r) => compileRule(r as LimitRuleConfig, 'config'))];
}

/** The limits stage as configured: in-process counters, or Redis shared by every replica with a failover mode. */
export function buildLimits(config: Config, deps: LimitsDeps): Limits {
  const risk = new RiskLedger();
  const c = config.limits;
  const configured = configuredRules(config);
  const roleDefaults = new Set(configured.filter((r) => r.source === 'role-default').map((r) => r.name));
  if (!c.enabled) return { limiter: null, risk, configured, roleDefaults, reload: () => undefined, close: async () => risk.close() };
  let store: LimitStore;
  if (c.redis_url) {
    const primary = new RedisLimitStore({ url: c.redis_url, commandTimeoutMs: c.redis_timeout_ms, prefix: c.redis_prefix });
    store = new FailoverLimitStore(primary, {
      mode: c.on_redis_unavailable,
      replicas: c.replicas,
      onUnavailable: (err) => {
        deps.metrics.limitStoreDegraded.set(1);
        deps.log.warn({ err: { message: err.message }, mode: c.on_redis_unavailable }, 'rate limit store unreachable');
        deps.emit(systemEvent('ratelimit.store_unavailable', 'limits', null, { store: 'redis', mode: c.on_redis_unavailable, error: err.message, replicas: c.replicas }));
      },
      onRecovered: () => {
        deps.metrics.limitStoreDegraded.set(0);
        deps.log.info({}, 'rate limit store reachable again');
        deps.emit(systemEvent('ratelimit.store_recovered', 'limits', null, { store: 'redis' }));
      },
    });
  } else {
    store = new MemoryLimitStore();
  }
  const m = deps.metrics;
  const limiter = new Limiter({
    rules: configured,
    store,
    cost: deps.cost,
    defaultMaxTokens: c.default_max_tokens,
    // An in-flight slot outlives a replica that died holding it by the longest a call may take.
    leaseMs: config.upstream.headers_timeout_ms + config.upstream.body_timeout_ms,
    hooks: {
      decided: (outcome, rule) => m.limitDecisions.labels(outcome, rule?.name ?? '').inc(),
      remaining: (rule, subject, left) => {
        m.limitRemaining.labels(rule.name, rule.metric).set(left);
        if (rule.metric === 'spend_usd') m.budgetRemaining.labels(rule.name, subject).set(left);
      },
      storeCall: (seconds, ok) => {
        m.limitStoreDuration.observe(seconds);
        if (!ok) m.limitStoreErrors.inc();
      },
    },
  });
  return {
    limiter,
    risk,
    configured,
    roleDefaults,
    reload: (records) => {
      const own: LimitRule[] = [];
      for (const r of records) {
        try {
          own.push(compileOrgRule(r.orgId, r.name, r.rule as OrgLimitRule, roleDefaults));
        } catch (err) {
          // Stored before a config change made it invalid (a role default it replaced is gone): skip it, loudly.
          deps.log.warn({ org_id: r.orgId, limit: r.name, err: { message: (err as Error).message } }, 'ignoring an organization limit that no longer compiles');
        }
      }
      limiter.setRules([...configured, ...own]);
    },
    close: async () => {
      risk.close();
      await limiter.close();
    },
  };
}
