import { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { exportLines, publicEvent } from '../../audit/index.js';
import { WardenError } from '../../errors/index.js';
import { newKey, publicKey, type Permission } from '../../identity/index.js';
import { ROLES, type EventQuery, type Role } from '../../storage/types.js';
import type { ServerDeps } from '../server.js';
import { assertCanGrant, orgOf, principalOf, recordChange, rolePermissionsOf } from './scope.js';

const Filters = {
  from: Type.Optional(Type.String({ description: 'ISO-8601 time or epoch milliseconds (inclusive)' })),
  to: Type.Optional(Type.String({ description: 'ISO-8601 time or epoch milliseconds (exclusive)' })),
  kind: Type.Optional(Type.String({ description: 'one kind, or several separated by commas' })),
  key_id: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  decision: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('deny'), Type.Literal('pending')])),
};
const ListQuery = Type.Object({
  ...Filters,
  cursor: Type.Optional(Type.String()),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  order: Type.Union([Type.Literal('desc'), Type.Literal('asc')], { default: 'desc' }),
});
const ExportQuery = Type.Object({ ...Filters, format: Type.Union([Type.Literal('jsonl'), Type.Literal('csv')], { default: 'jsonl' }) });
const CreateKey = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    role: Type.Union(ROLES.map((r) => Type.Literal(r)), { default: 'agent' }),
    models: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    project_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

function parseTime(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) throw new WardenError('invalid_request', `"${name}" must be an ISO-8601 time or epoch milliseconds.`);
  return n;
}

function filters(q: Omit<Static<typeof ExportQuery>, 'format'>): Omit<EventQuery, 'limit'> {
  return {
    from: parseTime(q.from, 'from'),
    to: parseTime(q.to, 'to'),
    kinds: q.kind ? q.kind.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    keyId: q.key_id,
    model: q.model,
    status: q.status,
    decision: q.decision,
  };
}

/**
 * Admin API: audit query, export and verification, key management. Audit
 * reads are scoped to the caller's org; only `orgs:manage` holders (system)
 * see every org's events, or one other org's with ?org_id=.
 */
export function adminRoutes(deps: ServerDeps) {
  const { storage, rbac } = deps;
  const auditScope = (request: FastifyRequest): string | undefined => {
    const p = principalOf(request);
    const asked = (request.query as { org_id?: unknown }).org_id;
    if (rbac.allows(p.orgId, p.roles, 'orgs:manage') && (typeof asked !== 'string' || asked === '')) return undefined;
    return orgOf(request);
  };
  return async function register(app: FastifyInstance): Promise<void> {
    const needs = (permission: Permission) => ({ permission, audited: true }) as const;

    app.get('/api/v1/audit', { config: needs('audit:read'), schema: { querystring: ListQuery } }, async (request) => {
      const q = request.query as Static<typeof ListQuery>;
      const page = await storage.queryEvents({ ...filters(q), orgId: auditScope(request), cursor: q.cursor, limit: q.limit, order: q.order });
      return { data: page.items.map(publicEvent), next_cursor: page.nextCursor };
    });

    app.get('/api/v1/audit/export', { config: needs('audit:read'), schema: { querystring: ExportQuery } }, async (request, reply) => {
      const q = request.query as Static<typeof ExportQuery>;
      const f = { ...filters(q), orgId: auditScope(request) };
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      reply
        .type(q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
        .header('content-disposition', `attachment; filename="warden-audit-${stamp}.${q.format}"`);
      return reply.send(Readable.from(exportLines(storage, f, q.format)));
    });

    // The chain spans every org (one tamper-evident log): the answer says only whether it holds.
    app.get('/api/v1/audit/verify', { config: needs('audit:verify') }, async (request) => {
      orgOf(request); // refuses ?org_id= of another org, as every admin route does
      const r = await storage.verifyAudit();
      return {
        ok: r.ok,
        checked: r.checked,
        head_hash: r.headHash,
        first_bad: r.firstBad ? { seq: r.firstBad.seq, id: r.firstBad.id, reason: r.firstBad.reason } : null,
      };
    });

    app.get('/api/v1/keys', { config: needs('keys:read') }, async (request) => ({
      data: (await storage.listKeys(orgOf(request))).map(publicKey),
    }));

    app.post('/api/v1/keys', { config: needs('keys:create'), schema: { body: CreateKey } }, async (request, reply) => {
      const orgId = orgOf(request);
      const b = request.body as Static<typeof CreateKey>;
      assertCanGrant(request, rbac, rolePermissionsOf(rbac, orgId, [b.role as Role]));
      if (b.project_id && !(await storage.directory.getProject(orgId, b.project_id))) throw new WardenError('project_not_found');
      const { key, record } = newKey(b.name, b.role as Role, b.models ?? null, orgId, Date.now(), b.project_id ?? null);
      await storage.createKey(record);
      recordChange(request, 'admin.key.create', { target_key_id: record.id }, null, publicKey(record));
      return reply.code(201).send({ ...publicKey(record), key });
    });

    app.delete('/api/v1/keys/:id', { config: needs('keys:revoke') }, async (request) => {
      const orgId = orgOf(request);
      const { id } = request.params as { id: string };
      // Audited as an attempt even when it fails (the event's status tells which).
      recordChange(request, 'admin.key.revoke', { target_key_id: id }, null, null);
      const before = (await storage.listKeys(orgId)).find((k) => k.id === id);
      if (!before) throw new WardenError('key_not_found');
      const rec = await storage.revokeKey(id, Date.now(), orgId);
      if (!rec) throw new WardenError('key_not_found');
      recordChange(request, 'admin.key.revoke', { target_key_id: id }, publicKey(before), publicKey(rec));
      return publicKey(rec);
    });
  };
}
