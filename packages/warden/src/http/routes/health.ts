import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../server.js';

/** What the health endpoints report beyond live probes. */
export interface HealthState {
  startedAt: number;
  version: string;
  /** Set at start after migrations run; readiness fails while false. */
  migrated: boolean;
}

const PROBE_TIMEOUT_MS = 2000;

async function timed(fn: () => Promise<unknown>): Promise<{ ok: boolean; latencyMs: number; error?: string }> {
  const t = process.hrtime.bigint();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: Number(process.hrtime.bigint() - t) / 1e6 };
  } catch (err) {
    // Only the message: driver errors can include connection strings in other fields.
    return { ok: false, latencyMs: Number(process.hrtime.bigint() - t) / 1e6, error: (err as Error).message.replace(/\/\/[^@\s]*@/g, '//***@') };
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness, readiness, a detailed component report, and Prometheus metrics. */
export function healthRoutes(deps: ServerDeps) {
  const { storage, health, writer, metrics } = deps;
  return async function register(app: FastifyInstance): Promise<void> {
    app.get('/health', async () => ({ status: 'ok' }));

    app.get('/health/ready', async (_request, reply) => {
      const db = await timed(() => storage.ping());
      const ready = db.ok && health.migrated;
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'not_ready',
        checks: { storage: db.ok ? 'ok' : 'unreachable', migrations: health.migrated ? 'applied' : 'pending' },
      });
    });

    app.get('/health/detailed', { config: { permission: 'monitoring:read' } }, async (_request, reply) => {
      const db = await timed(() => storage.ping());
      const migrations = await storage.migrationStatus().catch(() => null);
      const w = writer.stats();
      const components = {
        storage: { status: db.ok ? 'up' : 'down', kind: storage.kind, latency_ms: round(db.latencyMs), error: db.error ?? null },
        migrations: { status: migrations && migrations.pending.length === 0 ? 'up' : 'down', applied: migrations?.applied.length ?? null, pending: migrations?.pending ?? null },
        event_writer: {
          status: w.consecutiveFailures > 0 ? 'degraded' : 'up',
          queue_depth: w.depth,
          written: w.written,
          dropped: w.dropped,
          consecutive_failures: w.consecutiveFailures,
          last_error: w.lastError,
        },
        trace_ingest: (() => {
          const q = deps.ingest.queue();
          // Degraded while batches are being refused for a full queue (503), and for 10 s after.
          const refusing = q.lastRefusal > 0 && Date.now() - q.lastRefusal < 10_000;
          return { status: refusing ? 'degraded' : 'up', queue_depth: q.depth, max_queued_events: q.capacity, last_refusal: q.lastRefusal > 0 ? new Date(q.lastRefusal).toISOString() : null };
        })(),
        // Counts only: issue texts name policies, which belong to orgs.
        policies: (() => {
          const st = deps.policies.engine.stats();
          const issues = deps.policies.issues.length;
          return { status: issues > 0 ? 'degraded' : 'up', generation: st.generation, load_issues: issues, cache: { size: st.size, hits: st.hits, misses: st.misses } };
        })(),
        providers: deps.router.providers.map((p) => ({ name: p.name, type: p.type, origin: p.origin, api_key_set: p.apiKey !== '' })),
      };
      const up = components.storage.status === 'up' && components.migrations.status === 'up';
      return reply.code(up ? 200 : 503).send({
        status: up ? (components.event_writer.status === 'up' && components.policies.status === 'up' && components.trace_ingest.status === 'up' ? 'up' : 'degraded') : 'down',
        version: health.version,
        uptime_s: Math.round((Date.now() - health.startedAt) / 1000),
        components,
      });
    });

    app.get('/metrics', async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.render();
    });
  };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
