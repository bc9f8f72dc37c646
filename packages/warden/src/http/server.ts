import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { WardenError } from '../errors/index.js';
import type { EventWriter } from '../events/index.js';
import { type KeyAuthenticator, extractToken } from '../identity/index.js';
import type { LlmForwarder, PriceTable, ProviderRouter } from '../proxy/index.js';
import type { KeyRecord, Storage } from '../storage/types.js';
import type { GatewayMetrics, RequestLog } from '../telemetry/index.js';
import { finalize, requestIdFrom, startContext } from './context.js';
import { renderError } from './render-error.js';
import { adminRoutes } from './routes/admin.js';
import { healthRoutes, type HealthState } from './routes/health.js';
import { proxyRoutes } from './routes/proxy.js';

export interface ServerDeps {
  config: Config;
  storage: Storage;
  writer: EventWriter;
  metrics: GatewayMetrics;
  logger: Logger;
  requestLog: RequestLog;
  auth: KeyAuthenticator;
  forwarder: LlmForwarder;
  router: ProviderRouter;
  prices: PriceTable;
  health: HealthState;
}

/** The HTTP edge: translates requests into calls on the pipeline modules, and nothing more. */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const { config, logger } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: config.server.body_limit_bytes,
    trustProxy: config.server.trust_proxy,
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    keepAliveTimeout: 72_000,
  });

  app.decorateRequest('warden', null as never);

  // A callback hook, not an async one: with the key in memory, authentication
  // finishes in the same tick and no promise is made per request.
  app.addHook('onRequest', (request, reply, done) => {
    request.warden = startContext(request);
    reply.header('x-request-id', request.id);
    reply.raw.once('close', () => finalize(request, reply, deps));
    const auth = request.warden.config.auth ?? 'none';
    if (auth === 'none') return done();
    let pending: Promise<void> | undefined;
    try {
      pending = authenticate(request, auth === 'admin', deps);
    } catch (err) {
      return done(err as Error);
    }
    if (pending) pending.then(() => done(), done);
    else done();
  });

  app.setErrorHandler((err, request, reply) => renderError(err, request, reply, logger));
  app.setNotFoundHandler((request, reply) => renderError(new WardenError('not_found'), request, reply, logger));

  app.register(proxyRoutes(deps));
  app.register(adminRoutes(deps));
  app.register(healthRoutes(deps));
  return app;
}

const ATTRIBUTION = /^[\x21-\x7e]{1,128}$/;

function attribution(v: string | string[] | undefined): string | null {
  return typeof v === 'string' && ATTRIBUTION.test(v) ? v : null;
}

/** Authenticates the request's key; returns a promise only when the key had to be looked up. */
function authenticate(request: FastifyRequest, needAdmin: boolean, deps: ServerDeps): Promise<void> | undefined {
  let found: KeyRecord | Promise<KeyRecord>;
  try {
    found = deps.auth.authenticate(extractToken(request.headers));
  } catch (err) {
    throw authFailure(request, err, deps);
  }
  if (found instanceof Promise) {
    return found.then(
      (key) => admit(request, key, needAdmin),
      (err: unknown) => {
        throw authFailure(request, err, deps);
      },
    );
  }
  admit(request, found, needAdmin);
  return undefined;
}

function admit(request: FastifyRequest, key: KeyRecord, needAdmin: boolean): void {
  const d = request.warden.draft;
  request.warden.key = key;
  d.keyId = key.id;
  d.orgId = key.orgId;
  d.role = key.role;
  // Caller-declared attribution (like OpenAI's `user` field): recorded, not trusted for access decisions.
  d.userId = attribution(request.headers['x-warden-user-id']);
  d.agentId = attribution(request.headers['x-warden-agent-id']);
  if (needAdmin && key.role !== 'admin') {
    d.decision = 'deny';
    throw new WardenError('admin_required');
  }
}

function authFailure(request: FastifyRequest, err: unknown, deps: ServerDeps): unknown {
  if (err instanceof WardenError && err.type === 'authentication') {
    const d = request.warden.draft;
    d.kind = 'auth.failure';
    d.decision = 'deny';
    d.detail = { reason: err.code };
    deps.metrics.authFailures.inc({ reason: err.code });
  }
  return err;
}
