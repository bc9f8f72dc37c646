import { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { exportLines, publicEvent } from '../../audit/index.js';
import { WardenError } from '../../errors/index.js';
import { newKey, publicKey } from '../../identity/index.js';
import { ROLES, type EventQuery, type Role } from '../../storage/types.js';
import type { ServerDeps } from '../server.js';

const Filters = {
  from: Type.Optional(Type.String({ description: 'ISO-8601 time or epoch milliseconds (inclusive)' })),
  to: Type.Optional(Type.String({ description: 'ISO-8601 time or epoch milliseconds (exclusive)' })),
  kind: Type.Optional(Type.String({ description: 'one kind, or several separated by commas' })),
  key_id: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  decision: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('deny')])),
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

/** Admin API: audit query, export and verification, key management. */
export function adminRoutes(deps: ServerDeps) {
  const { storage } = deps;
  return async function register(app: FastifyInstance): Promise<void> {
    const admin = { auth: 'admin', audited: true } as const;

    app.get('/api/v1/audit', { config: admin, schema: { querystring: ListQuery } }, async (request) => {
      const q = request.query as Static<typeof ListQuery>;
      const page = await storage.queryEvents({ ...filters(q), cursor: q.cursor, limit: q.limit, order: q.order });
      return { data: page.items.map(publicEvent), next_cursor: page.nextCursor };
    });

    app.get('/api/v1/audit/export', { config: admin, schema: { querystring: ExportQuery } }, async (request, reply) => {
      const q = request.query as Static<typeof ExportQuery>;
      const f = filters(q);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      reply
        .type(q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson')
        .header('content-disposition', `attachment; filename="warden-audit-${stamp}.${q.format}"`);
      return reply.send(Readable.from(exportLines(storage, f, q.format)));
    });

    app.get('/api/v1/audit/verify', { config: admin }, async () => {
      const r = await storage.verifyAudit();
      return {
        ok: r.ok,
        checked: r.checked,
        head_hash: r.headHash,
        first_bad: r.firstBad ? { seq: r.firstBad.seq, id: r.firstBad.id, reason: r.firstBad.reason } : null,
      };
    });

    app.get('/api/v1/keys', { config: admin }, async () => ({ data: (await storage.listKeys()).map(publicKey) }));

    app.post('/api/v1/keys', { config: admin, schema: { body: CreateKey } }, async (request, reply) => {
      const b = request.body as Static<typeof CreateKey>;
      const { key, record } = newKey(b.name, b.role as Role, b.models ?? null, request.warden.key?.orgId);
      await storage.createKey(record);
      const d = request.warden.draft;
      d.kind = 'admin.key.create';
      d.detail = { target_key_id: record.id, name: record.name, role: record.role, models: record.models };
      return reply.code(201).send({ ...publicKey(record), key });
    });

    app.delete('/api/v1/keys/:id', { config: admin }, async (request) => {
      const { id } = request.params as { id: string };
      const d = request.warden.draft;
      d.kind = 'admin.key.revoke';
      d.detail = { target_key_id: id };
      const rec = await storage.revokeKey(id, Date.now());
      if (!rec) throw new WardenError('key_not_found');
      return publicKey(rec);
    });
  };
}
