import type { FastifyInstance } from 'fastify';
import type { Config } from './config/index.js';
import { EventWriter, WorkerEventStore, inlineEventStore } from './events/index.js';
import { policyDecisionEvent } from './http/context.js';
import { buildGuard } from './guard/index.js';
import { DEFAULT_EVALUATION, defaultBlobDir, FsBlobStore, GroupCommitter, TraceIngest } from './ingest/index.js';
import { buildServer } from './http/server.js';
import { buildMcp } from './mcp/index.js';
import { buildLimits } from './limits/build.js';
import { buildPolicies } from './policy/service.js';
import type { HealthState } from './http/routes/health.js';
import { buildIdentity, masterKeyRing, openProviderKeys } from './identity/services.js';
import { LlmForwarder, PriceTable, ProviderRouter } from './proxy/index.js';
import { isPrivateToOneConnection, openStorage, redactUrl, type TraceStore } from './storage/index.js';
import type { Storage } from './storage/types.js';
import { GatewayMetrics, createLoggers, type Logger } from './telemetry/index.js';
import { VERSION } from './version.js';

export interface GatewayOptions {
  /** Write logs here instead of stdout (tests). */
  logDestination?: NodeJS.WritableStream;
}

export interface Gateway {
  readonly app: FastifyInstance;
  /** e.g. http://127.0.0.1:8600 */
  readonly url: string;
  readonly storage: Storage;
  readonly writer: EventWriter;
  /** Where the ingest path's transactions go: the writer thread's connection, or storage.traces. */
  readonly traceWriter: Pick<TraceStore, 'appendTraceEvents'>;
  readonly logger: Logger;
  /** Stop accepting, finish in-flight requests, write every queued event, close storage. */
  close(): Promise<void>;
}

/** Longest a shutdown waits for in-flight requests before cutting connections. */
const DRAIN_DEADLINE_MS = 30_000;

/**
 * Stop accepting and let in-flight requests finish. Sockets that finish a
 * request after close() began would sit idle until the keep-alive timeout,
 * so they are closed as they go idle; past the deadline, all are cut.
 */
async function drain(app: FastifyInstance): Promise<void> {
  const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
  const deadline = setTimeout(() => app.server.closeAllConnections(), DRAIN_DEADLINE_MS);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
    clearTimeout(deadline);
  }
}

/** The one composition root: every implementation is chosen here, once. */
export async function startGateway(config: Config, opts: GatewayOptions = {}): Promise<Gateway> {
  const { logger, requestLog } = createLoggers({ level: config.log.level, destination: opts.logDestination });
  for (const w of config.warnings) logger.warn({ config: config.source }, w);

  // Before storage: a missing or unreadable master key fails the start, naming the source.
  const { ring } = masterKeyRing(config);
  if (ring.source.kind === 'generated') {
    logger.warn({ file: ring.source.path, key_id: ring.current.id }, 'created a new master key for secrets at rest: back this file up');
  }
  const storage = await openStorage(config.storage.url, { log: logger, backgroundCheckpoints: true });
  const health: HealthState = { startedAt: Date.now(), version: VERSION, migrated: false };
  const applied = await storage.migrate();
  health.migrated = true;
  if (applied.length) logger.info({ migrations: applied }, 'applied migrations');

  // The gauge reads the writer's depth at scrape time, after both exist.
  const metrics = new GatewayMetrics(() => writer.depth);
  // Identity, policies and sealed provider keys before anything else starts:
  // invalid policy files or an unopenable key stop the start here.
  const identity = buildIdentity(config, storage, ring);
  const policies = buildPolicies(config, storage, logger, metrics);
  let providers: Config['providers'];
  try {
    await identity.checkMasterKey();
    await identity.reloadRoles();
    await policies.start();
    providers = openProviderKeys(config.providers, identity.secretBox);
  } catch (err) {
    policies.close();
    await storage.close();
    throw err;
  }
  // Role overrides and org limits changed by another process move the keys revision: re-read them within a second.
  let rolesRevision = await storage.keysRevision();
  const rolesPoll = setInterval(() => {
    void Promise.resolve(storage.keysRevision())
      .then(async (rev) => {
        if (rev === rolesRevision) return;
        await identity.reloadRoles();
        await reloadLimits();
        await reloadMcp();
        rolesRevision = rev;
      })
      .catch(() => undefined); // storage trouble: keep the current sets, retry next tick
  }, 1000);
  rolesPoll.unref();
  // Batches are hashed and written on a worker thread with its own connection,
  // unless the store cannot be opened twice (in-memory SQLite): then inline.
  const writerThread = isPrivateToOneConnection(config.storage.url) ? undefined : new WorkerEventStore(config.storage.url);
  const writer: EventWriter = new EventWriter(
    writerThread ?? inlineEventStore(storage),
    { batchSize: config.events.batch_size, flushIntervalMs: config.events.flush_interval_ms, queueLimit: config.events.queue_limit },
    {
      written: (n, s) => {
        metrics.eventsWritten.inc(n);
        metrics.eventBatchDuration.observe(s);
      },
      dropped: (n) => metrics.eventsDropped.inc(n),
      failed: (err) => {
        metrics.eventWriteFailures.inc();
        logger.error({ err: { message: (err as Error)?.message } }, 'event batch write failed; will retry');
      },
    },
  );
  const decisionEvents = config.policy.decision_events;
  const prices = new PriceTable(config.pricing);
  const limits = buildLimits(config, {
    metrics,
    cost: (model, tokensIn, tokensOut) => prices.cost(model, tokensIn, tokensOut),
    emit: (e) => writer.emit(e),
    log: logger,
  });
  const reloadLimits = async () => limits.reload(await storage.directory.listLimitRules());
  await reloadLimits();
  const router = new ProviderRouter(providers, config.upstream);
  const guard = buildGuard(config, ring);
  // Trace transactions run on the writer thread too, when there is one.
  const traceWriter: Pick<TraceStore, 'appendTraceEvents'> = writerThread ? { appendTraceEvents: (events) => writerThread.appendTraceEvents(events) } : { appendTraceEvents: (events) => storage.traces.appendTraceEvents(events) };
  const ingest = new TraceIngest(new GroupCommitter(traceWriter, 5000, config.ingest.max_queued_events), guard, new FsBlobStore(config.ingest.blob_dir ?? defaultBlobDir(config.storage.url)), {
    blobThresholdBytes: config.ingest.blob_threshold_bytes,
    maxPayloadBytes: config.ingest.max_payload_bytes,
  });
  metrics.ingestDepth = () => ingest.queue().depth;
  const mcp = buildMcp(config, {
    logger,
    secretBox: identity.secretBox,
    policies,
    rbac: identity.rbac,
    guard,
    writer,
    observe: (server, tool, decision, seconds) => {
      metrics.mcpToolCalls.labels(server, tool, decision).inc();
      if (seconds !== null) metrics.mcpToolDuration.labels(server, tool).observe(seconds);
    },
  });
  metrics.mcpState = () => ({ sessions: mcp.sessionCount, approvalsPending: mcp.approvals.pendingCount, circuits: mcp.directory.servers.map((u) => ({ server: u.name, state: u.circuit })) });
  const reloadMcp = async () => mcp.reloadRegistered(await storage.directory.listMcpServers());
  await reloadMcp();
  const app = buildServer({
    config,
    storage,
    writer,
    metrics,
    logger,
    requestLog,
    ...identity,
    policies,
    limits,
    guard,
    ingest,
    evaluation: {
      ...DEFAULT_EVALUATION,
      maxStepGapMs: config.ingest.evaluation.max_step_gap_ms,
      required: config.ingest.evaluation.required,
      errorRate: config.ingest.evaluation.error_rate,
      toolFailureRate: config.ingest.evaluation.tool_failure_rate,
    },
    reloadLimits,
    decisionEvent: (request, action, resource, d) => {
      if (decisionEvents === 'all' || (decisionEvents === 'deny' && d.decision === 'deny')) policyDecisionEvent(request, { writer, limits }, action, resource, d);
    },
    forwarder: new LlmForwarder(router, prices),
    router,
    prices,
    health,
    mcp,
    reloadMcp,
  });

  try {
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (err) {
    policies.close();
    clearInterval(rolesPoll);
    await Promise.allSettled([router.close(), storage.close(), writerThread?.close(), limits.close(), mcp.close()]);
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.server.port;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const url = `http://${host}:${port}`;
  logger.info({ url, storage: redactUrl(config.storage.url), providers: config.providers.map((p) => p.name), version: VERSION }, 'warden listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await drain(app);
      await mcp.close();
      // Batches still queued for a commit (a handler past the drain's deadline) are written before the writer thread goes.
      await Promise.race([ingest.idle(), new Promise((r) => setTimeout(r, 10_000).unref())]);
      requestLog.flush();
      const lost = await writer.close();
      if (lost > 0) logger.error({ events: lost }, 'could not write queued events before shutdown');
      await writerThread?.close();
      policies.close();
      clearInterval(rolesPoll);
      await router.close();
      await limits.close();
      await storage.close();
      logger.info({ written: writer.stats().written }, 'warden stopped');
      logger.flush();
    })());

  return { app, url, storage, writer, traceWriter, logger, close };
}
