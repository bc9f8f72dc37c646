import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WardenError } from '../../errors/index.js';
import { estimateCompletion, Text } from '../../ingest/index.js';
import type { ProgressRecord } from '../../storage/index.js';
import type { ServerDeps } from '../server.js';
import { orgOf } from './scope.js';

const ProgressUpdate = Type.Object(
  {
    run_id: Text(1, 200),
    percent: Type.Number({ minimum: 0, maximum: 100 }),
    status: Type.Optional(Text(1, 100)),
    message: Type.Optional(Text(0, 2000)),
    step: Type.Optional(Text(0, 200)),
  },
  { additionalProperties: false },
);

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const publicPoint = (p: ProgressRecord) => ({ run_id: p.runId, t: iso(p.t), percent: p.percent, status: p.status, message: p.message, step: p.step });

/** Progress of runs: reports, the latest, the history, and the expected completion. */
export function progressRoutes(deps: ServerDeps) {
  const traces = deps.storage.traces;
  return async function register(app: FastifyInstance): Promise<void> {
    const runIdOf = async (request: FastifyRequest): Promise<{ orgId: string; runId: string }> => {
      const { run_id: runId } = request.params as { run_id: string };
      const orgId = orgOf(request);
      if (!(await traces.getRun(orgId, runId))) throw new WardenError('run_not_found');
      return { orgId, runId };
    };

    app.post('/api/v1/progress/update', { config: { permission: 'progress:update' }, schema: { body: ProgressUpdate } }, async (request, reply) => {
      const body = request.body as Static<typeof ProgressUpdate>;
      const orgId = orgOf(request);
      if (!(await traces.getRun(orgId, body.run_id))) throw new WardenError('run_not_found');
      const point: ProgressRecord = { orgId, runId: body.run_id, t: Date.now(), percent: body.percent, status: body.status ?? null, message: body.message ?? null, step: body.step ?? null };
      await traces.addProgress(point);
      void reply.code(201);
      return publicPoint(point);
    });

    app.get('/api/v1/progress/:run_id', { config: { permission: 'runs:read' } }, async (request) => {
      const { orgId, runId } = await runIdOf(request);
      const [latest] = await traces.progress(orgId, runId, 1);
      return latest ? publicPoint(latest) : { run_id: runId, t: null, percent: 0, status: null, message: null, step: null };
    });

    app.get('/api/v1/progress/:run_id/history', { config: { permission: 'runs:read' } }, async (request) => {
      const { orgId, runId } = await runIdOf(request);
      return { data: (await traces.progress(orgId, runId, 10_000)).map(publicPoint) };
    });

    app.get('/api/v1/progress/:run_id/estimate', { config: { permission: 'runs:read' } }, async (request) => {
      const { orgId, runId } = await runIdOf(request);
      const e = estimateCompletion(await traces.progress(orgId, runId, 200));
      if (!e) return { run_id: runId, percent: 0, rate_per_s: 0, eta: null, remaining_s: null, based_on: 0 };
      return { run_id: runId, percent: e.percent, rate_per_s: Math.round(e.ratePerS * 1e4) / 1e4, eta: iso(e.eta), remaining_s: e.remainingS, based_on: e.basedOn };
    });
  };
}
