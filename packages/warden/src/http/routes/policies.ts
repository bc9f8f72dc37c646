import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { WardenError } from '../../errors/index.js';
import type { Permission } from '../../identity/index.js';
import { ACTION_RESOURCE, type AuthzPrincipal, type ValidationIssue } from '../../policy/index.js';
import type { PolicyVersionRecord, Role } from '../../storage/types.js';
import type { ServerDeps } from '../server.js';
import { orgOf, principalOf, recordChange } from './scope.js';

const NAME = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$';
const PutPolicy = Type.Object(
  {
    text: Type.String({ minLength: 1, maxLength: 256 * 1024 }),
    /** Optimistic concurrency: the version you edited; a newer stored version gets 409. */
    expected_version: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
const Validate = Type.Object({ text: Type.String({ minLength: 1, maxLength: 256 * 1024 }) }, { additionalProperties: false });
const Evaluate = Type.Object(
  {
    /** Whom to ask about: default the caller; else a key or user of the same org, or a hypothetical principal. */
    principal: Type.Optional(
      Type.Object(
        {
          type: Type.Union([Type.Literal('Key'), Type.Literal('User'), Type.Literal('Agent')]),
          id: Type.String({ minLength: 1, maxLength: 200 }),
          roles: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
          project_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        },
        { additionalProperties: false },
      ),
    ),
    action: Type.String({ minLength: 1 }),
    resource: Type.Object(
      {
        type: Type.Union([Type.Literal('Model'), Type.Literal('McpServer'), Type.Literal('Tool'), Type.Literal('Run')]),
        id: Type.String({ minLength: 1 }),
        provider: Type.Optional(Type.String()),
        server: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
    context: Type.Optional(
      Type.Object(
        {
          time: Type.Optional(Type.String({ description: 'ISO-8601; default now' })),
          client_ip: Type.Optional(Type.String()),
          risk: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
          route: Type.Optional(Type.String()),
          stream: Type.Optional(Type.Boolean()),
          arguments: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
          event: Type.Optional(Type.Object({ type: Type.String({ maxLength: 200 }), actor: Type.String({ maxLength: 200 }), tool: Type.String({ maxLength: 200 }) }, { additionalProperties: false })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const publicVersion = (p: PolicyVersionRecord) => ({ name: p.name, version: p.version, text: p.text, actor: p.actor, created_at: p.createdAt, deleted: p.text === null });

function invalid(issues: ValidationIssue[]): WardenError {
  const detail = issues.slice(0, 10).map((i) => i.message).join('; ');
  return new WardenError('invalid_policy', `The policy is not valid: ${detail}`);
}

/** Cedar policies per org: versioned, validated before they are stored, reloaded everywhere without restart. */
export function policyRoutes(deps: ServerDeps) {
  const { storage, policies } = deps;
  const dir = storage.directory;
  const needs = (permission: Permission) => ({ config: { permission, audited: true } });
  const nameOf = (params: unknown) => {
    const { name } = params as { name: string };
    if (!new RegExp(NAME).test(name)) throw new WardenError('invalid_request', 'A policy name is 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit.');
    return name;
  };

  async function write(orgId: string, name: string, text: string | null, actor: string, expected: number | undefined) {
    const history = await dir.policyHistory(orgId, name);
    const current = history.at(-1);
    if (expected !== undefined && (current?.version ?? 0) !== expected) {
      throw new WardenError('conflict', `The policy is at version ${current?.version ?? 0}, not ${expected}: re-read it and apply your change again.`);
    }
    const check = await policies.check(orgId, name, text);
    if (!check.ok) throw invalid(check.issues);
    const next: PolicyVersionRecord = { orgId, name, version: (current?.version ?? 0) + 1, text, actor, createdAt: Date.now() };
    if (!(await dir.addPolicyVersion(next))) throw new WardenError('conflict', 'Someone changed this policy at the same moment; re-read it and try again.');
    await policies.reload();
    const mine = policies.engine.orgIssues(orgId);
    if (mine.length > 0) {
      // A concurrent change made the combination invalid (each passed its check alone):
      // undo this one with a new version rather than leave the org failing closed.
      await dir.addPolicyVersion({ ...next, version: next.version + 1, text: current?.text ?? null, createdAt: Date.now() });
      await policies.reload();
      throw new WardenError('conflict', `Another change to this organization's policies conflicts with this one (${mine.join('; ')}); it was not applied.`);
    }
    return { before: current && current.text !== null ? publicVersion(current) : null, after: next, policyIds: check.policyIds };
  }

  return async function register(app: FastifyInstance): Promise<void> {
    app.get('/api/v1/policies', needs('policies:read'), async (request) => {
      const orgId = orgOf(request);
      return {
        data: (await dir.currentPolicies(orgId)).map(publicVersion),
        // Files apply to every org and are changed on disk, not through the API.
        files: policies.fileDocuments().map((d) => ({ name: d.id, text: d.text })),
      };
    });

    app.get('/api/v1/policies/:name', needs('policies:read'), async (request) => {
      const history = await dir.policyHistory(orgOf(request), nameOf(request.params));
      const current = history.at(-1);
      if (!current || current.text === null) throw new WardenError('policy_not_found');
      return { ...publicVersion(current), history: history.map(publicVersion) };
    });

    app.put('/api/v1/policies/:name', { ...needs('policies:update'), schema: { body: PutPolicy } }, async (request) => {
      const orgId = orgOf(request);
      const name = nameOf(request.params);
      const b = request.body as Static<typeof PutPolicy>;
      const r = await write(orgId, name, b.text, principalOf(request).id, b.expected_version);
      recordChange(request, 'admin.policy.update', { policy: name, org_id: orgId }, r.before, publicVersion(r.after));
      return { ...publicVersion(r.after), policy_ids: r.policyIds };
    });

    app.delete('/api/v1/policies/:name', needs('policies:update'), async (request) => {
      const orgId = orgOf(request);
      const name = nameOf(request.params);
      const current = (await dir.policyHistory(orgId, name)).at(-1);
      if (!current || current.text === null) throw new WardenError('policy_not_found');
      const r = await write(orgId, name, null, principalOf(request).id, undefined);
      recordChange(request, 'admin.policy.delete', { policy: name, org_id: orgId }, r.before, publicVersion(r.after));
      return publicVersion(r.after);
    });

    app.post('/api/v1/policies/validate', { ...needs('policies:read'), schema: { body: Validate } }, async (request) => {
      const { text } = request.body as Static<typeof Validate>;
      const r = policies.engine.validate(text);
      return { valid: r.ok, policy_ids: r.policyIds, issues: r.issues.map((i) => ({ policy_id: i.policyId, message: i.message })) };
    });

    app.post('/api/v1/policies/evaluate', { ...needs('policies:evaluate'), schema: { body: Evaluate } }, async (request) => {
      const orgId = orgOf(request);
      const b = request.body as Static<typeof Evaluate>;
      if (!(b.action in ACTION_RESOURCE)) {
        throw new WardenError('invalid_request', `Unknown action "${b.action}". Actions: ${Object.keys(ACTION_RESOURCE).join(', ')}.`);
      }
      if (ACTION_RESOURCE[b.action] !== b.resource.type) {
        throw new WardenError('invalid_request', `The action "${b.action}" applies to a ${ACTION_RESOURCE[b.action]} resource, not a ${b.resource.type}.`);
      }
      const principal = await whom(orgId, b.principal, request);
      const now = b.context?.time === undefined ? Date.now() : Date.parse(b.context.time);
      if (!Number.isFinite(now)) throw new WardenError('invalid_request', '"context.time" must be an ISO-8601 time.');
      const d = policies.engine.decide({
        principal,
        action: b.action,
        resource: b.resource,
        context: { now, clientIp: b.context?.client_ip ?? null, risk: b.context?.risk ?? 0, route: b.context?.route ?? '', stream: b.context?.stream ?? false, ...(b.context?.arguments ? { arguments: b.context.arguments } : {}), ...(b.context?.event ? { event: b.context.event } : {}) },
      });
      const draft = request.warden.draft;
      draft.kind = 'policy.evaluate';
      draft.decision = d.decision;
      draft.detail = { action: b.action, resource: b.resource, principal: { type: principal.type, id: principal.id }, policy_ids: d.policyIds, reason: d.reason };
      return { decision: d.decision, reason: d.reason, policy_ids: d.policyIds, errors: d.errors };
    });
  };

  /** A what-if principal must be one of the org's own keys or users (or the caller); hypothetical roles are allowed. */
  async function whom(orgId: string, p: Static<typeof Evaluate>['principal'], request: Parameters<typeof principalOf>[0]): Promise<AuthzPrincipal> {
    const caller = principalOf(request);
    if (!p) return { type: caller.type, id: caller.id, orgId, projectId: caller.projectId, roles: caller.roles };
    if (p.type === 'Key') {
      const k = (await storage.listKeys(orgId)).find((x) => x.id === p.id);
      if (!k) throw new WardenError('key_not_found');
      return { type: 'Key', id: k.id, orgId, projectId: k.projectId, roles: p.roles ?? [k.role] };
    }
    if (p.type === 'User') {
      const u = await dir.getUser(orgId, p.id);
      if (!u) throw new WardenError('user_not_found');
      return { type: 'User', id: u.id, orgId, projectId: u.projectId, roles: p.roles ?? u.roles };
    }
    return { type: 'Agent', id: p.id, orgId, projectId: p.project_id ?? null, roles: (p.roles ?? ['agent']) as Role[] };
  }
}
