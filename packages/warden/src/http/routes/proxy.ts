import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WardenError } from '../../errors/index.js';
import { addDetail } from '../../events/index.js';
import { keyAllowsModel } from '../../identity/index.js';
import { type AuthzDecision, denialCause } from '../../policy/index.js';
import { PROXY_ROUTES, type Provider, type ProxyRoute, type UpstreamAnswer } from '../../proxy/index.js';
import { answerGuard, inspectLlmRequest, requestRisk } from '../guard.js';
import { limitRequest } from '../limits.js';
import type { ServerDeps } from '../server.js';

/** The OpenAI- and Anthropic-shaped LLM endpoints. */
export function proxyRoutes(deps: ServerDeps) {
  return async function register(app: FastifyInstance): Promise<void> {
    // Keep the body as the exact bytes the client sent: Warden forwards them unchanged.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    for (const route of PROXY_ROUTES) {
      // A plain (not async) handler: it answers through the hijacked reply or reply.send(error), with no promise per request.
      app.post(route.path, { config: { permission: 'llm:call', audited: true, anthropic: route.family === 'anthropic', limitsInHandler: true } }, (request, reply) => {
        handle(route, request, reply, deps);
      });
    }

    app.get('/v1/models', { config: { permission: 'models:read', audited: true } }, async (request) => {
      const models = deps.router.listModels(deps.prices, request.warden.principal?.models ?? null);
      if (request.headers['anthropic-version'] !== undefined) {
        // Anthropic's SDK lists models from the same path in its own shape.
        return {
          data: models.map((m) => ({ type: 'model', id: m.id, display_name: m.id, created_at: '1970-01-01T00:00:00Z' })),
          has_more: false,
          first_id: models[0]?.id ?? null,
          last_id: models.at(-1)?.id ?? null,
        };
      }
      return { object: 'list', data: models.map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: m.provider })) };
    });
  };
}

function handle(route: ProxyRoute, request: FastifyRequest, reply: FastifyReply, deps: ServerDeps): void {
  const ctx = request.warden;
  const draft = ctx.draft;
  const raw = request.body;
  if (!Buffer.isBuffer(raw) || raw.length === 0) throw new WardenError('invalid_json', 'The request body is empty; send a JSON object.');
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new WardenError('invalid_json');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new WardenError('invalid_request', 'The request body must be a JSON object.');
  const json = body as Record<string, unknown>;
  const model = json.model;
  if (typeof model !== 'string' || model === '') throw new WardenError('missing_model');
  draft.model = model;
  if (json.stream === true) draft.detail = { stream: true };

  if (!keyAllowsModel(ctx.principal?.models ?? null, model)) {
    draft.decision = 'deny';
    throw new WardenError('model_not_allowed', `This key may not use the model "${model}".`);
  }
  const provider = deps.forwarder.route(route.family, model);
  if (!provider) throw new WardenError('unknown_model', `No configured provider serves the model "${model}" on ${route.path}.`);
  draft.provider = provider.name;
  const principal = ctx.principal!;
  // Inspect before deciding: policies see the request's risk (context.risk), findings included.
  const guarded = inspectLlmRequest(request, deps, json, model);
  const risk = Math.round(requestRisk(request, deps.limits.risk).score * 100) / 100; // 0.01 steps keep decisions cacheable
  const verdict = deps.policies.engine.decide({
    principal,
    action: 'llm:call',
    resource: { type: 'Model', id: model, provider: provider.name },
    context: { now: ctx.ts, clientIp: request.ip, route: ctx.route, stream: json.stream === true, risk },
  });
  draft.decision = verdict.decision;
  // The call's own event names the deciding policies (and any that failed to
  // evaluate and were skipped), so an allow is on record without a second event.
  draft.detail = decisionDetail(verdict, json.stream === true);
  if (guarded && guarded.findings.length) addDetail(draft, { guard: { action: guarded.action, types: [...new Set(guarded.findings.map((f) => f.type))] } });
  deps.decisionEvent(request, 'llm:call', { type: 'Model', id: model }, verdict);
  if (verdict.decision === 'deny') {
    throw new WardenError('policy_denied', `A policy does not allow this call to "${model}"${denialCause(verdict)}.`);
  }
  // A redacted body is what goes upstream.
  const upstreamBody = guarded?.redacted ? Buffer.from(JSON.stringify(json)) : raw;
  const limited = limitRequest(request, deps, model, { body: json, embeddings: route.format === 'embeddings' });
  if (limited) {
    limited.then(
      () => forward(route, request, reply, deps, provider, model, json, upstreamBody),
      (err: unknown) => void reply.send(err),
    );
  } else {
    forward(route, request, reply, deps, provider, model, json, upstreamBody);
  }
}

function forward(route: ProxyRoute, request: FastifyRequest, reply: FastifyReply, deps: ServerDeps, provider: Provider, model: string, json: Record<string, unknown>, raw: Buffer): void {
  const ctx = request.warden;
  const draft = ctx.draft;
  deps.forwarder.forward(
    {
      route,
      provider,
      model,
      body: json,
      rawBody: raw,
      headers: request.headers,
      requestId: ctx.requestId,
      traceparent: ctx.traceparent,
      startedAt: ctx.startedAt,
      onAbort: (cancel) => {
        ctx.onAbort = cancel;
      },
      answers: route.format === 'embeddings' ? null : answerGuard(request, deps, model),
    },
    draft,
    {
      answer: (answer) => send(reply, answer, ctx.requestId, ctx.limitHeaders),
      fail: (err) => void reply.send(err),
    },
  );
}

/** One frozen detail object per cached decision and stream flag: its JSON is then built once (events/json.ts). */
const details = new WeakMap<AuthzDecision, { plain: Readonly<Record<string, unknown>>; stream: Readonly<Record<string, unknown>> }>();

function decisionDetail(verdict: AuthzDecision, stream: boolean): Record<string, unknown> {
  let d = details.get(verdict);
  if (d === undefined) {
    const base = verdict.errors.length > 0 ? { policy_ids: verdict.policyIds, policy_errors: verdict.errors } : { policy_ids: verdict.policyIds };
    d = { plain: Object.freeze({ ...base }), stream: Object.freeze({ stream: true, ...base }) };
    if (Object.isFrozen(verdict)) details.set(verdict, d);
  }
  return (stream ? d.stream : d.plain) as Record<string, unknown>;
}

/** Writes the provider's answer itself: its status, its headers plus Warden's, and the body as it was sent. */
function send(reply: FastifyReply, answer: UpstreamAnswer, requestId: string, limitHeaders: string[] | null): void {
  reply.hijack();
  const res = reply.raw;
  answer.headers.push('x-request-id', requestId);
  if (limitHeaders) answer.headers.push(...limitHeaders);
  res.writeHead(answer.status, answer.headers);
  if (answer.body) res.end(answer.body);
  else answer.pipe(res);
}
