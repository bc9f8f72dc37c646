import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WardenError } from '../../errors/index.js';
import { jsonTexts, Redactor } from '../../guard/index.js';
import { decodeJson, decodeProtobuf, exportResponse, isGenAi, runOf, spanEvents, type MappedRun, type OtlpSpan } from '../../otlp/index.js';
import { newRun, type SpanRecord } from '../../storage/index.js';
import { isProtobuf } from '../render-error.js';
import { inflate, type ServerDeps } from '../server.js';
import { policyEvent } from '../../ingest/index.js';
import { ingestCaller } from './runs.js';
import { orgOf, principalOf } from './scope.js';

/**
 * The OpenTelemetry receiver: OTLP/HTTP trace exports at POST /v1/traces,
 * in protobuf or JSON, gzipped or not, with the same keys and signatures as
 * every other route. Every span is kept; GenAI spans also become runs and
 * trace events (otlp/genai.ts). The answer is sent once both are committed,
 * in the request's encoding; an error is a google.rpc.Status, and under
 * backpressure a 503 or 429 with Retry-After, which exporters retry.
 */
/**
 * Bytes of resource attributes one export may store. Each span's row keeps its
 * resource, so a large resource shared by many spans would be written once per
 * span (1 MB × 2,000 spans: 2 GB from a 1 MB request).
 */
export const MAX_RESOURCE_BYTES_PER_EXPORT = 16 * 2 ** 20;

function resourceBudget(spans: readonly OtlpSpan[]): void {
  const sizes = new Map<object, number>();
  let total = 0;
  for (const s of spans) {
    let n = sizes.get(s.resource);
    if (n === undefined) sizes.set(s.resource, (n = JSON.stringify(s.resource).length));
    total += n;
  }
  if (total > MAX_RESOURCE_BYTES_PER_EXPORT) {
    throw new WardenError(
      'body_too_large',
      `The export's resource attributes, kept with each of its ${spans.length} spans, come to ${total} bytes; at most ${MAX_RESOURCE_BYTES_PER_EXPORT} are accepted. Send fewer spans per export, or large values as span attributes.`,
    );
  }
}

export function otlpRoutes(deps: ServerDeps) {
  const traces = deps.storage.traces;
  const price = (model: string, tokensIn: number, tokensOut: number) => deps.prices.cost(model, tokensIn, tokensOut);
  return async function register(app: FastifyInstance): Promise<void> {
    app.addContentTypeParser('application/x-protobuf', { parseAs: 'buffer' }, (request, body, done) => {
      inflate(request, body as Buffer, deps.config.server.body_limit_bytes, done);
    });

    type Found = Array<{ type: string; where: string; hash: string; preview: string }>;
    /** One export's guardrail pass: one set of placeholders, and each resource (shared by its spans) read once. */
    const guardPass = (request: FastifyRequest) => {
      const guard = deps.guard!;
      const p = principalOf(request);
      const base = { orgId: orgOf(request), projectId: p.projectId, route: '/v1/traces', model: null, direction: 'request' as const };
      const redactor = new Redactor();
      const resources = new WeakMap<object, { blocked: string | null; findings: Found }>();
      const found = (findings: ReadonlyArray<Found[number]>): Found => findings.map((f) => ({ type: f.type, where: f.where, hash: f.hash, preview: f.preview }));
      /** The resource's attributes: service metadata, not something an agent reads, so no injection scoring. */
      const resourceVerdict = (resource: Record<string, unknown>) => {
        let v = resources.get(resource);
        if (!v) {
          const verdict = guard.inspectTexts(jsonTexts(resource, 'user', 'resource'), { ...base, tool: null }, redactor, false);
          v = { blocked: verdict.action === 'block' ? verdict.blocked.join(', ') : null, findings: found(verdict.findings) };
          resources.set(resource, v);
        }
        return v;
      };
      /**
       * Guardrails over what a span says, in place: its name, status message,
       * attributes, its events' names and attributes, its links' attributes and
       * its resource's attributes (the instrumentation scope names a library, not
       * content). A finding whose action is block refuses the span.
       */
      return (span: OtlpSpan, genAi: boolean): string | null => {
        const tool = span.attributes['gen_ai.tool.name'];
        const source = span.attributes['gen_ai.operation.name'] === 'execute_tool' ? 'tool_result' : 'user';
        const said = { name: span.name, status: span.status, attributes: span.attributes, events: span.events.map((e) => ({ name: e.name, attributes: e.attributes })), links: span.links.map((l) => l.attributes) };
        const verdict = guard.inspectTexts(jsonTexts(said, source), { ...base, tool: typeof tool === 'string' ? tool : null }, redactor, genAi);
        const resource = resourceVerdict(span.resource);
        const blocked = [...(verdict.action === 'block' ? verdict.blocked : []), ...(resource.blocked ? [resource.blocked] : [])];
        if (blocked.length > 0) return `a guardrail blocked it (${blocked.join(', ')})`;
        // Redactions were made in `said`: its name and its events' names are copies.
        span.name = said.name;
        span.events.forEach((e, i) => (e.name = said.events[i]!.name));
        const findings = [...found(verdict.findings), ...resource.findings];
        if (findings.length > 0) span.attributes['warden.guard.findings'] = findings;
        return null;
      };
    };

    app.post('/v1/traces', { config: { permission: 'runs:write', otlp: true } }, async (request, reply) => {
      const protobufEncoded = isProtobuf(request);
      if (!protobufEncoded && typeof request.body !== 'object') throw new WardenError('unsupported_media_type', 'OTLP/HTTP bodies are application/x-protobuf or application/json.');
      const spans = protobufEncoded ? decodeProtobuf(request.body as Buffer) : decodeJson(request.body);
      resourceBudget(spans);
      const orgId = orgOf(request);
      const p = principalOf(request);
      const now = Date.now();

      // Guardrails first: run ids and run metadata are taken from what passed them, as redacted.
      const inspect = deps.guard ? guardPass(request) : () => null;
      const refused: string[] = [];
      const passed: OtlpSpan[] = [];
      for (const span of spans) {
        const blocked = inspect(span, isGenAi(span));
        if (blocked) refused.push(`span ${span.spanId}: ${blocked}`);
        else passed.push(span);
      }
      // A trace's conversation (or explicit run) names the run of all its GenAI spans.
      const conversations = new Map<string, string>();
      for (const s of passed) {
        const c = s.attributes['warden.run.id'] ?? s.attributes['gen_ai.conversation.id'];
        if (typeof c === 'string' && c && !conversations.has(s.traceId)) conversations.set(s.traceId, c);
      }
      const caller = ingestCaller(request, deps);
      const kept: OtlpSpan[] = [];
      const runs = new Map<string, MappedRun>();
      const runOfTrace = new Map<string, string>();
      /** Each GenAI span's run id, mapped once. */
      const runOfSpan = new Map<OtlpSpan, string>();
      const events: ReturnType<typeof spanEvents> = [];
      for (const span of passed) {
        if (isGenAi(span)) {
          const mappedRun = runOf(span, conversations.get(span.traceId));
          const run = runs.get(mappedRun.id) ?? mappedRun;
          const mapped = spanEvents(span, run, price);
          // A span whose events a policy does not allow (trace:ingest) is not kept either.
          const denied = mapped.map((e) => caller.authorize!(run.id, policyEvent(e.body))).find((d) => d !== null);
          if (denied) {
            refused.push(`span ${span.spanId}: ${denied}`);
            continue;
          }
          if (!runs.has(run.id)) runs.set(run.id, run);
          runOfTrace.set(span.traceId, run.id);
          runOfSpan.set(span, run.id);
          events.push(...mapped);
        }
        kept.push(span);
      }
      for (const run of runs.values()) {
        await traces.createRun(newRun({ id: run.id, orgId, projectId: p.projectId, agent: run.agent, metadata: run.metadata, createdBy: p.id, createdAt: now }));
      }
      const records: SpanRecord[] = kept.map((s) => ({
        orgId,
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId,
        runId: runOfSpan.get(s) ?? runOfTrace.get(s.traceId) ?? null,
        name: s.name,
        kind: s.kind,
        startNs: s.startNs,
        endNs: s.endNs,
        statusCode: s.status.code,
        statusMessage: s.status.message,
        attributes: s.traceState ? { ...s.attributes, 'w3c.tracestate': s.traceState } : s.attributes,
        events: s.events,
        links: s.links,
        resource: s.resource,
        scope: s.scope,
        receivedAt: now,
      }));
      await traces.appendSpans(records);
      // Events in time order within the export, each taking its run's next sequence number.
      events.sort((a, b) => a.body.t - b.body.t);
      if (events.length > 0) {
        const results = await deps.ingest.ingest(caller, events.map((e) => e.body), null, now, true);
        for (const r of results) if (r.status === 'rejected') refused.push(`event ${events[r.index]!.body.meta.idempotency_key}: ${r.error.message}`);
      }
      const rejectedSpans = spans.length - kept.length;
      const message = refused.slice(0, 20).join('; ');
      void reply.code(200).type(protobufEncoded ? 'application/x-protobuf' : 'application/json');
      return exportResponse(rejectedSpans, message, protobufEncoded);
    });
  };
}
