import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { WardenEvent } from '../events/event.js';
import { CounterFamily, HistogramFamily } from './families.js';

/** Seconds buckets from 0.5 ms to 60 s: gateway overhead lives at the bottom, LLM latency at the top. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Every metric Warden exports, on its own registry (no global state).
 * Names follow Prometheus conventions: warden_ prefix, base units, _total counters.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly requests = new CounterFamily({
    name: 'warden_requests_total',
    help: 'HTTP requests handled, by route template, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly requestDuration = new HistogramFamily({
    name: 'warden_request_duration_seconds',
    help: 'Time from request arrival to the last byte of the response.',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly upstreamDuration = new HistogramFamily({
    name: 'warden_upstream_duration_seconds',
    help: 'Time from sending a request upstream to the end of its response.',
    labelNames: ['provider'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly timeToFirstToken = new HistogramFamily({
    name: 'warden_time_to_first_token_seconds',
    help: 'Time from request arrival to the first streamed content chunk.',
    labelNames: ['provider'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly tokens = new CounterFamily({
    name: 'warden_tokens_total',
    help: 'Tokens reported by upstream providers, by direction (input or output).',
    labelNames: ['provider', 'model', 'direction'] as const,
    registers: [this.registry],
  });
  readonly cost = new CounterFamily({
    name: 'warden_cost_usd_total',
    help: 'Estimated spend in US dollars from the model price table.',
    labelNames: ['provider', 'model'] as const,
    registers: [this.registry],
  });
  readonly limitDecisions = new CounterFamily({
    name: 'warden_ratelimit_decisions_total',
    help: 'Rate limit and budget decisions, by outcome (allowed, limited, error) and, for refusals, the limit that refused.',
    labelNames: ['outcome', 'limit'] as const,
    registers: [this.registry],
  });
  readonly limitRemaining = new Gauge({
    name: 'warden_ratelimit_remaining',
    help: 'What the most recent admitted call left under each limit for its subject (requests, tokens or USD as the limit counts).',
    labelNames: ['limit', 'metric'] as const,
    registers: [this.registry],
  });
  readonly budgetRemaining = new Gauge({
    name: 'warden_budget_remaining_usd',
    help: 'Spend left under each spend_usd limit, per subject (org, project, key…), as of its last admitted call.',
    labelNames: ['limit', 'subject'] as const,
    registers: [this.registry],
  });
  readonly limitStoreDuration = new Histogram({
    name: 'warden_ratelimit_store_duration_seconds',
    help: 'Time for one limit decision in the shared store (Redis round trip plus script).',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });
  readonly limitStoreErrors = new Counter({
    name: 'warden_ratelimit_store_errors_total',
    help: 'Limit store calls that failed (Redis unreachable, timed out or erroring).',
    registers: [this.registry],
  });
  readonly limitStoreDegraded = new Gauge({
    name: 'warden_ratelimit_store_degraded',
    help: '1 while the shared limit store is unreachable and limits fail open (local shares) or closed (503).',
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'warden_auth_failures_total',
    help: 'Requests refused for missing, unknown, revoked, expired or forged credentials, by precise reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly authzDecisions = new CounterFamily({
    name: 'warden_authz_decisions_total',
    help: 'Policy (Cedar) decisions, by action and decision.',
    labelNames: ['action', 'decision'] as const,
    registers: [this.registry],
  });
  readonly authzDuration = new HistogramFamily({
    name: 'warden_authz_decision_duration_seconds',
    help: 'Time to reach a policy decision, by whether it came from the decision cache.',
    labelNames: ['cached'] as const,
    buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [this.registry],
  });
  readonly policyCache = new CounterFamily({
    name: 'warden_policy_cache_requests_total',
    help: 'Policy decision cache lookups, by result (hit or miss).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly permissionDenials = new CounterFamily({
    name: 'warden_permission_denials_total',
    help: 'Requests refused because the caller\'s role lacks the route\'s permission.',
    labelNames: ['permission'] as const,
    registers: [this.registry],
  });
  readonly upstreamErrors = new CounterFamily({
    name: 'warden_upstream_errors_total',
    help: 'Upstream calls that failed without a response (unreachable, timeout, reset).',
    labelNames: ['provider', 'code'] as const,
    registers: [this.registry],
  });
  readonly eventsWritten = new Counter({
    name: 'warden_events_written_total',
    help: 'Events durably written to the event log.',
    registers: [this.registry],
  });
  readonly eventsDropped = new Counter({
    name: 'warden_events_dropped_total',
    help: 'Events dropped because the in-memory queue was full.',
    registers: [this.registry],
  });
  readonly eventWriteFailures = new Counter({
    name: 'warden_event_write_failures_total',
    help: 'Failed batch writes to the event log (the batch is retried).',
    registers: [this.registry],
  });
  readonly eventBatchDuration = new Histogram({
    name: 'warden_event_batch_write_duration_seconds',
    help: 'Time to write one batch of events to storage.',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly mcpToolCalls = new CounterFamily({
    name: 'warden_mcp_tool_calls_total',
    help: 'MCP tools/call requests by server, tool and final decision (allow or deny; a call held for approval counts once decided).',
    labelNames: ['server', 'tool', 'decision'] as const,
    registers: [this.registry],
  });
  readonly mcpToolDuration = new HistogramFamily({
    name: 'warden_mcp_tool_duration_seconds',
    help: 'Time an MCP server took to answer a tools/call Warden sent it.',
    labelNames: ['server', 'tool'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly eventQueueDepth: Gauge;
  /** Read when scraped: open MCP client sessions, and tool calls held for approval (set once the MCP gateway exists). */
  mcpState: () => { sessions: number; approvalsPending: number; circuits: Array<{ server: string; state: string }> } = () => ({ sessions: 0, approvalsPending: 0, circuits: [] });
  /** Read when scraped: trace events accepted and waiting for their transaction (set once the ingest path exists). */
  ingestDepth: () => number = () => 0;

  constructor(queueDepth: () => number) {
    this.eventQueueDepth = new Gauge({
      name: 'warden_event_queue_depth',
      help: 'Events waiting in memory to be written.',
      registers: [this.registry],
      collect() {
        this.set(queueDepth());
      },
    });
    const ingestDepth = () => this.ingestDepth();
    new Gauge({
      name: 'warden_ingest_queue_depth',
      help: 'Trace events accepted and waiting for their transaction; near ingest.max_queued_events, batches are refused with 503.',
      registers: [this.registry],
      collect() {
        this.set(ingestDepth());
      },
    });
    const mcp = () => this.mcpState();
    new Gauge({
      name: 'warden_mcp_sessions_active',
      help: 'Open MCP client sessions at /mcp and /mcp/{server}.',
      registers: [this.registry],
      collect() {
        this.set(mcp().sessions);
      },
    });
    new Gauge({
      name: 'warden_mcp_circuit_state',
      help: 'Each MCP server\'s circuit breaker: 1 for its current state (closed, open or half_open), 0 for the others.',
      labelNames: ['server', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of mcp().circuits) for (const state of ['closed', 'open', 'half_open']) this.labels(c.server, state).set(c.state === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'warden_mcp_approvals_pending',
      help: 'MCP tool calls waiting for a person to approve or deny them.',
      registers: [this.registry],
      collect() {
        this.set(mcp().approvalsPending);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'warden_' });
    // prom-client also exports totals of three gauges named *_total, a suffix Prometheus
    // reserves for counters (promtool rejects them); the per-type gauges without it remain.
    for (const what of ['handles', 'requests', 'resources']) this.registry.removeSingleMetric(`warden_nodejs_active_${what}_total`);
  }

  /**
   * Count one finished request. Children are resolved per label set and
   * cached by the families (see families.ts), so this is a few map lookups
   * and additions.
   */
  observe(e: WardenEvent, route: string): void {
    this.requests.labels(route, e.method ?? '', String(e.status ?? 0)).inc();
    this.requestDuration.labels(route).observe((e.durationMs ?? 0) / 1000);
    const p = e.provider;
    if (!p) return;
    if (e.upstreamMs !== null) this.upstreamDuration.labels(p).observe(e.upstreamMs / 1000);
    if (e.ttftMs !== null) this.timeToFirstToken.labels(p).observe(e.ttftMs / 1000);
    const model = e.model ?? '';
    if (e.tokensIn) this.tokens.labels(p, model, 'input').inc(e.tokensIn);
    if (e.tokensOut) this.tokens.labels(p, model, 'output').inc(e.tokensOut);
    if (e.costUsd) this.cost.labels(p, model).inc(e.costUsd);
    if (e.errorType === 'upstream' && e.errorCode && e.errorCode !== 'client_closed') this.upstreamErrors.labels(p, e.errorCode).inc();
  }

  // Children resolved once: the decision hook runs on every proxied call.
  readonly #cacheHit = this.policyCache.labels('hit');
  readonly #cacheMiss = this.policyCache.labels('miss');
  readonly #cachedDuration = this.authzDuration.labels('true');
  readonly #evaluatedDuration = this.authzDuration.labels('false');

  /** The policy engine's hook: one call per decision. */
  authzDecision(action: string, decision: 'allow' | 'deny', cached: boolean, seconds: number): void {
    this.authzDecisions.labels(action, decision).inc();
    (cached ? this.#cachedDuration : this.#evaluatedDuration).observe(seconds);
    (cached ? this.#cacheHit : this.#cacheMiss).inc();
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }
}
