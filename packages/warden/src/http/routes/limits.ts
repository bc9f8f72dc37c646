import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { WardenError } from '../../errors/index.js';
import type { Permission } from '../../identity/index.js';
import { compileOrgRule, type LimitRule, type OrgLimitRule } from '../../limits/index.js';
import type { ServerDeps } from '../server.js';
import { orgOf, recordChange } from './scope.js';

const Strict = { additionalProperties: false } as const;
const Globs = Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 100 });
/** An org's limit: the config's rule shape less `name` (the path names it) and less `match.org` (always the caller's org). */
const PutLimit = Type.Object(
  {
    per: Type.Union(['caller', 'key', 'user', 'agent', 'org', 'project', 'role', 'model', 'route', 'tool', 'global'].map((s) => Type.Literal(s))),
    requests: Type.Optional(Type.Integer({ minimum: 0 })),
    tokens: Type.Optional(Type.Integer({ minimum: 0 })),
    spend_usd: Type.Optional(Type.Number({ minimum: 0 })),
    concurrent: Type.Optional(Type.Integer({ minimum: 0 })),
    window: Type.Optional(Type.Union(['second', 'minute', 'hour', 'day', 'month'].map((p) => Type.Literal(p)))),
    match: Type.Optional(
      Type.Object({ role: Type.Optional(Globs), model: Type.Optional(Globs), route: Type.Optional(Globs), key: Type.Optional(Globs), project: Type.Optional(Globs), tool: Type.Optional(Globs) }, Strict),
    ),
    replaces: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 20 })),
  },
  Strict,
);
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function publicRule(r: LimitRule, stored?: OrgLimitRule): Record<string, unknown> {
  const { org: _org, ...match } = (stored?.match ?? {}) as Record<string, unknown>;
  return {
    name: r.name,
    source: r.source,
    per: r.per,
    metric: r.metric,
    limit: r.limit,
    window: r.window,
    ...(stored ? { match: Object.keys(match).length ? match : null, replaces: stored.replaces ?? [] } : { replaces: r.replaces }),
  };
}

/** Limits: what applies to the caller's org, and the org's own rules (config rules are read-only here). */
export function limitRoutes(deps: ServerDeps) {
  const dir = deps.storage.directory;
  const limits = deps.limits;
  return async function register(app: FastifyInstance): Promise<void> {
    const needs = (permission: Permission) => ({ config: { permission, audited: true } });
    const nameOf = (params: unknown): string => {
      const name = (params as { name: string }).name;
      if (!NAME.test(name)) throw new WardenError('invalid_request', 'A limit name is 1 to 64 letters, digits, "_", "." or "-".');
      return name;
    };
    const own = async (orgId: string) => new Map((await dir.listLimitRules(orgId)).map((r) => [r.name, r.rule as OrgLimitRule]));

    app.get('/api/v1/limits', needs('limits:read'), async (request) => {
      const orgId = orgOf(request);
      const stored = await own(orgId);
      const ownRules = [...stored].map(([name, rule]) => publicRule(compileOrgRule(orgId, name, rule, limits.roleDefaults), rule));
      return { enabled: limits.limiter !== null, data: [...limits.configured.map((r) => publicRule(r)), ...ownRules] };
    });

    app.put('/api/v1/limits/:name', { ...needs('limits:update'), schema: { body: PutLimit } }, async (request) => {
      const orgId = orgOf(request);
      const name = nameOf(request.params);
      if (limits.configured.some((r) => r.name === name)) {
        throw new WardenError('invalid_request', `"${name}" is a limit from the configuration; give your organization's limit another name (and list "${name}" in replaces to override a role default).`);
      }
      const rule = request.body as Static<typeof PutLimit> as OrgLimitRule;
      let compiled: LimitRule;
      try {
        compiled = compileOrgRule(orgId, name, rule, limits.roleDefaults);
      } catch (err) {
        throw new WardenError('invalid_request', (err as Error).message);
      }
      const before = (await own(orgId)).get(name);
      await dir.setLimitRule({ orgId, name, rule, updatedAt: Date.now() });
      await deps.reloadLimits();
      recordChange(request, 'admin.limit.update', { limit: name, org_id: orgId }, before ?? null, rule);
      return publicRule(compiled, rule);
    });

    app.delete('/api/v1/limits/:name', needs('limits:update'), async (request) => {
      const orgId = orgOf(request);
      const name = nameOf(request.params);
      const before = (await own(orgId)).get(name);
      if (!before || !(await dir.deleteLimitRule(orgId, name))) throw new WardenError('limit_not_found');
      await deps.reloadLimits();
      recordChange(request, 'admin.limit.delete', { limit: name, org_id: orgId }, before, null);
      return { deleted: name };
    });
  };
}
