import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WardenError } from '../../errors/index.js';
import type { Approval, ApprovalQueue } from '../../mcp/index.js';
import { orgOf, principalOf } from './scope.js';

const Decide = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('deny')]),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('denied'), Type.Literal('expired')])),
  org_id: Type.Optional(Type.String()),
});

/**
 * MCP tool calls held by an `@approval` policy (docs/mcp.md#approvals): list
 * them, read one, approve or deny it. An org's approvers see and decide only
 * their org's calls, and nobody decides a call they made themselves.
 */
export function approvalRoutes(approvals: ApprovalQueue | null) {
  return async function register(app: FastifyInstance): Promise<void> {
    if (!approvals) return;
    const own = (request: FastifyRequest): Approval => {
      const a = approvals.get((request.params as { id: string }).id);
      if (!a || a.org_id !== orgOf(request)) throw new WardenError('not_found', 'There is no approval with this id in your organization.');
      return a;
    };

    app.get('/api/v1/approvals', { config: { permission: 'approvals:read' }, schema: { querystring: ListQuery } }, async (request) => {
      const q = request.query as Static<typeof ListQuery>;
      return { data: approvals.list(orgOf(request), q.status) };
    });

    app.get('/api/v1/approvals/:id', { config: { permission: 'approvals:read' } }, async (request) => own(request));

    app.post('/api/v1/approvals/:id', { config: { permission: 'approvals:decide', audited: true }, schema: { body: Decide } }, async (request) => {
      const a = own(request);
      const p = principalOf(request);
      if (a.requester.type === p.type && a.requester.id === p.id) {
        throw new WardenError('permission_denied', 'You cannot decide a call you made yourself: another approver has to.');
      }
      if (a.status !== 'pending') throw new WardenError('conflict', `This approval is already ${a.status}.`);
      const body = request.body as Static<typeof Decide>;
      return approvals.decide(a.id, body.decision === 'approve' ? 'approved' : 'denied', { type: p.type, id: p.id }, body.note ?? null);
    });
  };
}
