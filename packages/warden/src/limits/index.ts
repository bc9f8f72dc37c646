export { estimateCall, type CallEstimate } from './estimate.js';
export { Limiter, type Admission, type CallBody, type LimiterHooks, type Refusal } from './limiter.js';
export { MemoryLimitStore } from './memory-store.js';
export { RiskLedger } from './risk.js';
export { callerOf, compileOrgRule, compileRule, PERIOD_MS, ROLE_DEFAULTS, roleDefaultRules, subjectOf, type LimitedCall, type LimitRule, type LimitRuleConfig, type OrgLimitRule, type Metric, type Period, type Scope } from './rules.js';
export type { ConcurrencyCheck, LimitStore, ReservationTicket, ReserveResult, WindowCheck, WindowState } from './store.js';
export { BUCKETS } from './window.js';
