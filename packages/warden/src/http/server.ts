import { gunzip } from 'node:zlib';
import Fastify, { type FastifyContextConfig, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { WardenError } from '../errors/index.js';
import type { EventWriter } from '../events/index.js';
import { AuthFailure, RevokedKeyError, type CallerAuthenticator, type Permission, type Principal, type RolePermissions, type SessionService } from '../identity/index.js';
import type { AuthzDecision } from '../policy/index.js';
import type { PolicyService } from '../policy/service.js';
import type { Guard } from '../guard/guard.js';
import type { EvaluationRules, TraceIngest } from '../ingest/index.js';
import type { Limits } from '../limits/build.js';
import type { SecretBox } from '../secrets/index.js';
import type { LlmForwarder, PriceTable, ProviderRouter } from '../proxy/index.js';
import type { Storage } from '../storage/types.js';
import type { GatewayMetrics, RequestLog } from '../telemetry/index.js';
import { finalize, requestIdFrom, startContext } from './context.js';
import { limitRequest } from './limits.js';
import { renderError } from './render-error.js';
import { adminRoutes } from './routes/admin.js';
import { directoryRoutes } from './routes/directory.js';
import { limitRoutes } from './routes/limits.js';
import { policyRoutes } from './routes/policies.js';
import { sessionRoutes } from './routes/session.js';
import { healthRoutes, type HealthState } from './routes/health.js';
import { proxyRoutes } from './routes/proxy.js';
import { otlpRoutes } from './routes/otlp.js';
import { progressRoutes } from './routes/progress.js';
import { runRoutes } from './routes/runs.js';
import { mcpRoutes } from './routes/mcp.js';
import { approvalRoutes } from './routes/approvals.js';
import { mcpServerRoutes } from './routes/mcp-servers.js';
import type { McpGateway } from '../mcp/index.js';

export interface RouteSummary {
  method: string;
  url: string;
  permission: Permission | null;
  auth: 'none' | 'required';
}

declare module 'fastify' {
  interface FastifyInstance {
    wardenRoutes: RouteSummary[];
  }
}

export interface ServerDeps {
  config: Config;
  storage: Storage;
  writer: EventWriter;
  metrics: GatewayMetrics;
  logger: Logger;
  requestLog: RequestLog;
  callers: CallerAuthenticator;
  rbac: RolePermissions;
  /** Re-reads per-org role overrides into rbac (after an admin change, and on every auth revision change). */
  reloadRoles: () => Promise<void>;
  sessions: SessionService;
  secretBox: SecretBox;
  policies: PolicyService;
  limits: Limits;
  guard: Guard | null;
  /** Agent traces: validation, guardrails, blobs, group commit. */
  ingest: TraceIngest;
  /** What post-run evaluation checks, from config.ingest.evaluation. */
  evaluation: EvaluationRules;
  /** Re-reads every org's own limits into the limiter (after an admin change, and on every auth revision change). */
  reloadLimits: () => Promise<void>;
  /** Records a policy decision as its own policy.decision event, as config.policy.decision_events says. */
  decisionEvent: (request: FastifyRequest, action: string, resource: { type: string; id: string }, d: AuthzDecision) => void;
  forwarder: LlmForwarder;
  router: ProviderRouter;
  prices: PriceTable;
  health: HealthState;
  /** The MCP gateway; null when no MCP server is configured. */
  mcp: McpGateway | null;
  /** Re-reads the MCP servers orgs registered into the gateway (after an admin change, and on every keys revision change). */
  reloadMcp: () => Promise<void>;
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
  // Every route with its access rule: the tenancy test walks this list, so a new route cannot skip it.
  const routes: RouteSummary[] = [];
  app.decorate('wardenRoutes', routes);
  app.addHook('onRoute', (r) => {
    const config = (r.config ?? {}) as FastifyContextConfig;
    for (const method of [r.method].flat()) {
      if (method === 'HEAD') continue;
      routes.push({ method, url: r.url, permission: config.permission ?? null, auth: config.permission ? 'required' : (config.auth ?? 'none') });
    }
  });
  app.decorateRequest('rawBody', null as never);
  // JSON bodies keep their exact bytes beside the parsed value: an HMAC
  // signature covers the bytes. The proxy routes replace this in their scope.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  // Clients that batch (trace ingestion, the SDK) may gzip: the signature covers the bytes as sent,
  // and the decompressed JSON is held to the same body limit as an uncompressed one.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    inflate(request, body as Buffer, config.server.body_limit_bytes, (err, out) => (err ? done(err) : json(request, out!.toString('utf8'), done)));
  });
  // OAuth-style form posts (POST /auth/token with username & password).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (request, body, done) => {
    request.rawBody = body as Buffer;
    done(null, Object.fromEntries(new URLSearchParams((body as Buffer).toString('utf8'))));
  });

  // A callback hook, not an async one: with an API key in memory,
  // authentication finishes in the same tick and no promise is made per request.
  app.addHook('onRequest', (request, reply, done) => {
    const ctx = (request.warden = startContext(request));
    reply.header('x-request-id', request.id);
    reply.raw.once('close', () => finalize(request, reply, deps));
    if (ctx.config.auth !== 'required' && ctx.config.permission === undefined) return done();
    if (deps.callers.isSigned(request.headers)) {
      ctx.signed = true; // checked in preValidation, once the body it covers is read
      return done();
    }
    let pending: Promise<void> | undefined;
    try {
      const found = deps.callers.fromHeaders(request.headers);
      if (found instanceof Promise) pending = found.then((p) => admit(request, p, deps), (err: unknown) => Promise.reject(authFailure(request, err, deps)));
      else {
        const limited = admit(request, found, deps);
        if (limited) pending = limited;
      }
    } catch (err) {
      return done(authFailure(request, err, deps) as Error);
    }
    if (pending) pending.then(() => done(), done);
    else done();
  });

  app.addHook('preValidation', (request, _reply, done) => {
    const ctx = request.warden;
    if (!ctx.signed || ctx.principal) return done();
    const body = request.rawBody ?? (Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));
    deps.callers.fromSignature(request.method, request.raw.url ?? request.url, request.headers, body).then(
      (p) => {
        let limited: void | Promise<void>;
        try {
          limited = admit(request, p, deps);
        } catch (err) {
          return done(err as Error);
        }
        if (limited) limited.then(() => done(), done);
        else done();
      },
      (err: unknown) => done(authFailure(request, err, deps) as Error),
    );
  });

  // Every limited route carries the RateLimit fields, on success and on error alike.
  app.addHook('onSend', (request, reply, _payload, done) => {
    const h = request.warden?.limitHeaders;
    if (h) for (let i = 0; i < h.length; i += 2) reply.header(h[i]!, h[i + 1]!);
    done();
  });
  app.setErrorHandler((err, request, reply) => renderError(err, request, reply, logger));
  app.setNotFoundHandler((request, reply) => renderError(new WardenError('not_found'), request, reply, logger));

  app.register(proxyRoutes(deps));
  app.register(adminRoutes(deps));
  app.register(directoryRoutes(deps));
  app.register(sessionRoutes(deps));
  app.register(policyRoutes(deps));
  app.register(limitRoutes(deps));
  app.register(runRoutes(deps));
  app.register(progressRoutes(deps));
  app.register(otlpRoutes(deps));
  app.register(mcpRoutes(deps.mcp, config.auth.oidc.map((i) => i.issuer)));
  app.register(approvalRoutes(deps.mcp?.approvals ?? null));
  app.register(mcpServerRoutes(deps));
  app.register(healthRoutes(deps));
  return app;
}

/**
 * A request body as the route reads it: the bytes as sent are kept on the
 * request (a signature covers them), and a gzipped body is inflated, held to
 * the same limit as an uncompressed one.
 */
export function inflate(request: FastifyRequest, body: Buffer, limit: number, done: (err: Error | null, out?: Buffer) => void): void {
  request.rawBody = body;
  const encoding = request.headers['content-encoding'];
  if (encoding === undefined || encoding === 'identity') return done(null, body);
  if (encoding !== 'gzip') return done(new WardenError('unsupported_media_type', 'The body may be sent with "Content-Encoding: gzip", or uncompressed.'));
  gunzip(body, { maxOutputLength: limit }, (err, out) => {
    if (err) return done((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? new WardenError('body_too_large') : new WardenError('invalid_request', 'The body is not valid gzip.'));
    done(null, out);
  });
}

const ATTRIBUTION = /^[\x21-\x7e]{1,128}$/;

function attribution(v: string | string[] | undefined): string | null {
  return typeof v === 'string' && ATTRIBUTION.test(v) ? v : null;
}

/**
 * Records who is calling on the request and its event, checks the route's
 * permission, then its rate limits (the LLM routes apply theirs in the
 * handler, once the model and body are known).
 */
function admit(request: FastifyRequest, p: Principal, deps: ServerDeps): void | Promise<void> {
  const ctx = request.warden;
  const d = ctx.draft;
  ctx.principal = p;
  d.keyId = p.keyId;
  d.orgId = p.orgId;
  d.role = p.roles[0] ?? null;
  // Caller-declared attribution on API keys (like OpenAI's `user` field): recorded, not trusted for access decisions.
  d.userId = p.userId ?? attribution(request.headers['x-warden-user-id']);
  d.agentId = p.agentId ?? attribution(request.headers['x-warden-agent-id']);
  // ?org_id= of another org is for the operator (orgs:manage) only, on every route alike.
  const asked = (request.query as Record<string, unknown> | undefined)?.org_id;
  if (typeof asked === 'string' && asked !== '' && asked !== p.orgId && !deps.rbac.allows(p.orgId, p.roles, 'orgs:manage')) {
    d.decision = 'deny';
    throw new WardenError('permission_denied', 'Acting on another organization needs the "orgs:manage" permission.');
  }
  const permission = ctx.config.permission;
  if (permission !== undefined && !deps.rbac.allows(p.orgId, p.roles, permission)) {
    d.decision = 'deny';
    deps.metrics.permissionDenials.labels(permission).inc();
    throw new WardenError('permission_denied', `This needs the "${permission}" permission, which your role does not have.`);
  }
  if (ctx.config.limitsInHandler !== true) return limitRequest(request, deps, null, null);
}

/** A refused credential becomes the request's auth.failure security event, with its precise reason. */
function authFailure(request: FastifyRequest, err: unknown, deps: ServerDeps): unknown {
  if (err instanceof WardenError && (err.type === 'authentication' || err.code === 'identity_provider_unavailable')) {
    const d = request.warden.draft;
    const reason = err instanceof AuthFailure ? err.reason : err.code;
    d.kind = 'auth.failure';
    d.decision = 'deny';
    d.detail = { reason, via: request.warden.signed ? 'hmac' : 'bearer' };
    if (err instanceof RevokedKeyError) {
      d.keyId = err.key.id;
      d.orgId = err.key.orgId;
    } else if (err instanceof AuthFailure && err.attribution) {
      d.orgId = err.attribution.orgId;
      d.keyId = err.attribution.keyId ?? null;
      d.agentId = err.attribution.agentId ?? null;
    }
    deps.metrics.authFailures.inc({ reason });
    // Part of this client's recent behaviour, which its risk score counts.
    deps.limits.risk.raise(`ip:${request.ip}`);
  }
  return err;
}
