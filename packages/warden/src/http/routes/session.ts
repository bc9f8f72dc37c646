import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SessionFailure, type SessionOutcome, type SessionTokens } from '../../identity/index.js';
import type { ServerDeps } from '../server.js';
import { securityEvent } from '../context.js';

const Login = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    /** OAuth 2.0 password grant spelling (RFC 6749 §4.3.2), accepted for form clients. */
    grant_type: Type.Optional(Type.Literal('password')),
  },
  { additionalProperties: false },
);
const Refresh = Type.Object(
  { refresh_token: Type.String({ minLength: 1, maxLength: 512 }), grant_type: Type.Optional(Type.Literal('refresh_token')) },
  { additionalProperties: false },
);

/** Sign-in, token refresh and sign-out for users (people), in JSON or form encoding. */
export function sessionRoutes(deps: ServerDeps) {
  const { sessions } = deps;

  /** Failures become the request's auth.failure event, plus a security event when an account locks or a token is replayed. */
  function failed(request: FastifyRequest, err: unknown): never {
    if (!(err instanceof SessionFailure)) throw err;
    const d = request.warden.draft;
    const o: SessionOutcome = err.outcome;
    d.kind = 'auth.failure';
    d.decision = 'deny';
    d.userId = o.userId;
    d.orgId = o.orgId;
    d.detail = { reason: err.error.code };
    deps.metrics.authFailures.inc({ reason: err.error.code });
    if (o.lockedNow) securityEvent(request, deps, 'security.account_locked', { user_id: o.userId, org_id: o.orgId });
    if (o.familyRevoked) {
      securityEvent(request, deps, 'security.refresh_token_reuse', {
        user_id: o.userId,
        org_id: o.orgId,
        sessions_revoked: o.familyRevoked.tokens,
      });
    }
    throw err.error;
  }

  return async function register(app: FastifyInstance): Promise<void> {
    const open = { config: { auth: 'none', audited: true } } as const;

    /** Runs a sign-in or refresh; success becomes the request's `kind` event for that user, failure goes through failed(). */
    async function issue(request: FastifyRequest, kind: string, run: () => Promise<SessionTokens>): Promise<SessionTokens> {
      try {
        const t = await run();
        const d = request.warden.draft;
        d.kind = kind;
        d.userId = t.user.id;
        d.orgId = t.user.org_id;
        d.decision = 'allow';
        return t;
      } catch (err) {
        failed(request, err);
      }
    }

    app.post('/auth/token', { ...open, schema: { body: Login } }, async (request) => {
      const b = request.body as Static<typeof Login>;
      return issue(request, 'auth.login', () => sessions.login(b.username, b.password));
    });

    app.post('/auth/refresh', { ...open, schema: { body: Refresh } }, async (request) => {
      const b = request.body as Static<typeof Refresh>;
      return issue(request, 'auth.refresh', () => sessions.refresh(b.refresh_token));
    });

    app.post('/auth/logout', { ...open, schema: { body: Refresh } }, async (request, reply) => {
      const b = request.body as Static<typeof Refresh>;
      const r = await sessions.logout(b.refresh_token);
      const d = request.warden.draft;
      d.kind = 'auth.logout';
      d.userId = r.userId;
      d.orgId = r.orgId;
      d.detail = { ended: r.ended };
      return reply.code(204).send();
    });
  };
}
