import { gzipSync } from 'node:zlib';
import { type Attributes, context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../packages/warden/src/identity/index.js';
import { type Stack, adminGet, startStack } from './helpers.js';

let s: Stack;

beforeAll(async () => {
  // A 1 MiB body limit (the helper's is 64 KiB): the resource-budget test sends a 300 KB resource.
  s = await startStack({ config: { server: { host: '127.0.0.1', port: 0, body_limit_bytes: 1024 * 1024 }, pricing: { 'gpt-4o-mini': { input_per_mtok: 150, output_per_mtok: 600 } }, ingest: { max_queued_events: 100 }, guard: { enabled: true, actions: { pii: 'redact', secret: 'block', injection: 'flag' } } } });
});
afterAll(async () => s?.close());

const AWS_KEY = 'AKIAZ3MHBQ7XN4K2PLQW';

/**
 * An agent's turn as an instrumented app would record it: an invoke_agent
 * span over a chat call, a tool call and a plain HTTP span, with a span
 * event and a link. Returns the finished spans (not exported yet).
 */
function agentTurn(conversation: string, extra: { toolArgs?: string; prompt?: string } = {}): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'travel-app' }), spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('test-agent', '1.0.0');
  const base: Attributes = { 'gen_ai.conversation.id': conversation, 'gen_ai.agent.name': 'travel-planner', 'gen_ai.agent.id': 'agent-7' };
  const t0 = Date.now() - 10_000;
  const root = tracer.startSpan('invoke_agent travel-planner', { kind: SpanKind.INTERNAL, startTime: t0, attributes: { ...base, 'gen_ai.operation.name': 'invoke_agent' } });
  const inRoot = trace.setSpan(context.active(), root);
  const chat = tracer.startSpan(
    'chat gpt-4o-mini',
    {
      kind: SpanKind.CLIENT,
      startTime: t0 + 100,
      attributes: {
        ...base,
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
        'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: extra.prompt ?? 'Find me a flight to Lisbon' }] }]),
        'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'tool_call', name: 'search_flights' }] }]),
        'gen_ai.usage.input_tokens': 120,
        'gen_ai.usage.output_tokens': 30,
      },
    },
    inRoot,
  );
  chat.addEvent('gen_ai.client.inference.operation.details', { 'gen_ai.response.finish_reasons': ['tool_calls'] }, t0 + 900);
  chat.end(t0 + 1000);
  const tool = tracer.startSpan(
    'execute_tool search_flights',
    {
      kind: SpanKind.INTERNAL,
      startTime: t0 + 1100,
      attributes: {
        ...base,
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'search_flights',
        'gen_ai.tool.call.id': 'call_1',
        'gen_ai.tool.call.arguments': extra.toolArgs ?? JSON.stringify({ to: 'LIS' }),
        'gen_ai.tool.call.result': JSON.stringify({ flights: 3 }),
      },
      links: [{ context: chat.spanContext(), attributes: { 'link.reason': 'answers' } }],
    },
    inRoot,
  );
  const http = tracer.startSpan('GET /flights', { kind: SpanKind.CLIENT, startTime: t0 + 1200, attributes: { 'http.request.method': 'GET', 'url.full': 'https://api.example.com/flights?to=LIS' } }, trace.setSpan(context.active(), tool));
  http.setStatus({ code: SpanStatusCode.ERROR, message: 'HTTP 503' });
  http.end(t0 + 1500);
  tool.end(t0 + 1600);
  root.end(t0 + 2000);
  return memory.getFinishedSpans();
}

const exportWith = (exporter: SpanExporter, spans: ReadableSpan[]) =>
  new Promise<{ code: ExportResultCode; error?: Error }>((resolve) => exporter.export(spans, resolve));
const jsonExporter = (key = s.agentKey) => new JsonExporter({ url: `${s.url}/v1/traces`, headers: { authorization: `Bearer ${key}` } });
const protoExporter = (key = s.agentKey) => new ProtoExporter({ url: `${s.url}/v1/traces`, headers: { authorization: `Bearer ${key}` }, compression: 'gzip' as never });

async function traceOf(runId: string) {
  return (await adminGet(s, `/api/v1/runs/${runId}/trace`, s.agentKey)).body;
}

describe('the OTLP receiver with the OpenTelemetry JS exporters', () => {
  for (const [name, make] of [
    ['http/json', jsonExporter],
    ['http/protobuf (gzip)', protoExporter],
  ] as const) {
    it(`${name}: GenAI spans become a run with ordered events and usage; every span is kept as a tree with its events and links`, async () => {
      const conv = `conv-${name.slice(5, 9)}`;
      const spans = agentTurn(conv);
      const result = await exportWith(make(), spans);
      expect(result.error).toBeUndefined();
      expect(result.code).toBe(ExportResultCode.SUCCESS);

      const body = await traceOf(conv);
      // Tokens roll up to the run, priced by the price table (the response model prices as gpt-4o-mini): 120 × 150 + 30 × 600 per million.
      expect(body.run).toMatchObject({ id: conv, agent: 'travel-planner', usage: { input_tokens: 120, output_tokens: 30, cost_usd: 0.036 }, metadata: { source: 'otlp', service: 'travel-app', agent_id: 'agent-7' } });
      const events = body.events.map((e: any) => [e.actor, e.type, e.payload.tool ?? null]);
      expect(events).toEqual([
        ['agent', 'action_request', 'chat'],
        ['system', 'action_response', 'chat'],
        ['agent', 'action_request', 'search_flights'],
        ['tool', 'action_response', 'search_flights'],
      ]);
      expect(body.events.map((e: any) => e.seq)).toEqual([1, 2, 3, 4]);
      expect(body.events[0].payload.arguments).toMatchObject({ model: 'gpt-4o-mini', provider: 'openai', messages: [{ role: 'user' }] });
      expect(body.events[2].payload).toMatchObject({ arguments: { to: 'LIS' }, call_id: 'call_1' });
      expect(body.events[3].payload).toMatchObject({ output: { flights: 3 }, status: 'ok' });
      expect(body.events.every((e: any) => e.flags.length === 0)).toBe(true);

      const tree = (await adminGet(s, `/api/v1/runs/${conv}/trace?view=tree`, s.agentKey)).body;
      expect(tree.span_count).toBe(4);
      expect(tree.spans).toHaveLength(1);
      const root = tree.spans[0];
      expect(root).toMatchObject({ name: 'invoke_agent travel-planner', kind: 'internal', usage: { input_tokens: 120, output_tokens: 30 }, resource: { 'service.name': 'travel-app' }, scope: { name: 'test-agent', version: '1.0.0' } });
      expect(root.children.map((c: any) => c.name)).toEqual(['chat gpt-4o-mini', 'execute_tool search_flights']);
      const [chat, tool] = root.children;
      expect(chat.duration_ms).toBe(900);
      expect(chat.events).toEqual([expect.objectContaining({ name: 'gen_ai.client.inference.operation.details', attributes: { 'gen_ai.response.finish_reasons': ['tool_calls'] } })]);
      expect(tool.links).toEqual([expect.objectContaining({ span_id: chat.span_id, trace_id: chat.trace_id, attributes: { 'link.reason': 'answers' } })]);
      // The plain HTTP span is kept as a span under the tool call, with its error status; guardrails
      // (pii: redact here) ran on its attributes too.
      expect(tool.children).toEqual([expect.objectContaining({ name: 'GET /flights', kind: 'client', status: { code: 'error', message: 'HTTP 503' }, attributes: expect.objectContaining({ 'http.request.method': 'GET', 'url.full': '[URL_1]' }) })]);
      expect(tool.children[0].attributes['warden.guard.findings']).toEqual([expect.objectContaining({ type: 'URL', where: 'attributes["url.full"]' })]);

      // An exporter's retry of the same spans stores nothing twice.
      expect((await exportWith(make(), spans)).code).toBe(ExportResultCode.SUCCESS);
      const again = await traceOf(conv);
      expect([again.run.events, again.run.usage.input_tokens]).toEqual([4, 120]);
      expect((await adminGet(s, `/api/v1/runs/${conv}/trace?view=tree`, s.agentKey)).body.span_count).toBe(4);
      const byTrace = (await adminGet(s, `/api/v1/traces/${root.trace_id}`, s.agentKey)).body;
      expect(byTrace.span_count).toBe(4);
    });
  }

  it('a failed tool span adds an error and a failed tool answer, which the post-run evaluation counts', async () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
    const span = provider.getTracer('t').startSpan('execute_tool refund', { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'refund', 'warden.run.id': 'otel-failing', 'error.type': 'timeout' } });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'refund service timed out' });
    span.end();
    expect((await exportWith(jsonExporter(), memory.getFinishedSpans())).code).toBe(ExportResultCode.SUCCESS);
    const body = await traceOf('otel-failing');
    expect(body.events.map((e: any) => e.type)).toEqual(['action_request', 'action_response', 'error']);
    expect(body.events[2].payload).toMatchObject({ message: 'refund service timed out', code: 'timeout' });
    const done = await fetch(`${s.url}/api/v1/runs/otel-failing/finalize`, { method: 'POST', headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': 'application/json' }, body: '{"status":"failed"}' });
    const run = (await done.json()) as any;
    expect(run.evaluation.findings.map((f: any) => f.check)).toEqual(expect.arrayContaining(['error_rate', 'tool_failure_rate']));
  });

  it('guardrails run on spans: a secret refuses its span (partial success), an email is redacted in the span and the event', async () => {
    const spans = agentTurn('conv-guarded', { toolArgs: JSON.stringify({ key: AWS_KEY }), prompt: 'Book it and mail jane.doe@example.com' });
    const res = await fetch(`${s.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(await otlpJson(spans)),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as any;
    expect(answer.partialSuccess).toMatchObject({ rejectedSpans: '1', errorMessage: expect.stringMatching(/blocked.*AWS_ACCESS_KEY/) });
    expect(JSON.stringify(answer)).not.toContain(AWS_KEY);
    const body = await traceOf('conv-guarded');
    expect(body.events.map((e: any) => e.payload.tool)).toEqual(['chat', 'chat']);
    const stored = JSON.stringify(body) + JSON.stringify((await adminGet(s, '/api/v1/runs/conv-guarded/trace?view=tree', s.agentKey)).body);
    expect(stored).not.toContain('jane.doe@example.com');
    expect(stored).toContain('[EMAIL_ADDRESS_1]');
    expect(stored).not.toContain(AWS_KEY);
  });
  it('guardrails also read span names, status messages, event names and resource attributes', async () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'mailer', 'deploy.owner': 'ops.lead@example.com' }), spanProcessors: [new SimpleSpanProcessor(memory)] });
    const span = provider.getTracer('t').startSpan('notify jane.doe@example.com', { attributes: { 'warden.run.id': 'otel-names' } });
    span.addEvent('retry for jane.doe@example.com');
    span.setStatus({ code: 2, message: 'mailbox jane.doe@example.com is full' });
    span.end();
    const res = await fetch(`${s.url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': 'application/json' }, body: JSON.stringify(await otlpJson(memory.getFinishedSpans())) });
    expect(res.status).toBe(200);
    const { spans } = (await adminGet(s, `/api/v1/traces/${memory.getFinishedSpans()[0]!.spanContext().traceId}`, s.agentKey)).body;
    expect(spans).toHaveLength(1);
    expect([spans[0].name, spans[0].status.message, spans[0].events[0].name]).toEqual(['notify [EMAIL_ADDRESS_1]', 'mailbox [EMAIL_ADDRESS_1] is full', 'retry for [EMAIL_ADDRESS_1]']);
    expect(spans[0].resource['deploy.owner']).toBe('[EMAIL_ADDRESS_2]');
    expect(JSON.stringify(spans)).not.toContain('@example.com');

    const leaky = new InMemorySpanExporter();
    const withKey = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'mailer', 'aws.key': AWS_KEY }), spanProcessors: [new SimpleSpanProcessor(leaky)] });
    withKey.getTracer('t').startSpan('send').end();
    const refused = await fetch(`${s.url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': 'application/json' }, body: JSON.stringify(await otlpJson(leaky.getFinishedSpans())) });
    expect(((await refused.json()) as any).partialSuccess).toMatchObject({ rejectedSpans: '1', errorMessage: expect.stringMatching(/blocked.*AWS_ACCESS_KEY/) });
    expect((await adminGet(s, `/api/v1/traces/${leaky.getFinishedSpans()[0]!.spanContext().traceId}`, s.agentKey)).status).toBe(404);
  });

  it('run ids and run metadata come from spans as the guardrails left them: no raw PII, and never from a blocked span', async () => {
    const memory = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('t');
    const root = tracer.startSpan('invoke_agent', { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.conversation.id': 'conv for alice.smith@example.com' } });
    const inRoot = trace.setSpan(context.active(), root);
    tracer.startSpan('execute_tool lookup', { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup' } }, inRoot).end();
    root.end();
    const blockedTracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('t');
    const leaky = blockedTracer.startSpan('invoke_agent', { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.conversation.id': AWS_KEY } });
    blockedTracer.startSpan('execute_tool lookup', { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'lookup' } }, trace.setSpan(context.active(), leaky)).end();
    leaky.end();
    const res = await fetch(`${s.url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': 'application/json' }, body: JSON.stringify(await otlpJson(memory.getFinishedSpans())) });
    expect(((await res.json()) as any).partialSuccess).toMatchObject({ rejectedSpans: '1' });
    const listed = (await adminGet(s, '/api/v1/runs?limit=200', s.agentKey)).body;
    const text = JSON.stringify(listed);
    expect(text).not.toContain('alice.smith@example.com');
    expect(text).not.toContain(AWS_KEY);
    // Both spans of the first trace are in one run.
    const traceId = root.spanContext().traceId;
    const tree = (await adminGet(s, `/api/v1/traces/${traceId}`, s.agentKey)).body;
    expect(new Set(tree.spans.flatMap((n: any) => [n.run_id, ...n.children.map((c: any) => c.run_id)])).size).toBe(1);
  });

  it('a Cedar forbid on trace:ingest refuses the span whose events it denies: neither the span nor its events are kept', async () => {
    const text = '@id("no-shell")\nforbid (principal, action == Warden::Action::"trace:ingest", resource)\nwhen { context has event && context.event.tool == "run_shell" };';
    const put = await fetch(`${s.url}/api/v1/policies/no-shell`, { method: 'PUT', headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
    expect(put.status).toBe(200);
    try {
      const memory = new InMemorySpanExporter();
      const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('t');
      for (const tool of ['search_flights', 'run_shell']) tracer.startSpan(`execute_tool ${tool}`, { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': tool, 'warden.run.id': 'otel-policy' } }).end();
      const res = await fetch(`${s.url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': 'application/json' }, body: JSON.stringify(await otlpJson(memory.getFinishedSpans())) });
      expect(((await res.json()) as any).partialSuccess).toMatchObject({ rejectedSpans: '1', errorMessage: expect.stringContaining('no-shell') });
      const tree = (await adminGet(s, '/api/v1/runs/otel-policy/trace?view=tree', s.agentKey)).body;
      expect(tree.span_count).toBe(1);
      expect(JSON.stringify(tree)).not.toContain('run_shell');
      expect((await traceOf('otel-policy')).events.map((e: any) => e.payload.tool)).toEqual(['search_flights', 'search_flights']);
    } finally {
      await fetch(`${s.url}/api/v1/policies/no-shell`, { method: 'DELETE', headers: { authorization: `Bearer ${s.adminKey}` } });
    }
  });
});

/** The OTLP/JSON body the http/json exporter would send, made with its own serializer. */
async function otlpJson(spans: ReadableSpan[]): Promise<unknown> {
  const { JsonTraceSerializer } = await import('@opentelemetry/otlp-transformer');
  return JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString('utf8'));
}

/** `n` tool-call spans of one run: 2n events. */
function toolSpans(runId: string, n: number): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('load');
  for (let i = 0; i < n; i++) tracer.startSpan(`execute_tool t${i}`, { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': `t${i}`, 'warden.run.id': runId } }).end();
  return memory.getFinishedSpans();
}

describe('the OTLP receiver under backpressure', () => {
  it('answers 503 with Retry-After while the ingest queue is full; the exporter retries and every span is stored once', async () => {
    const traces = s.gateway.traceWriter;
    const append = traces.appendTraceEvents.bind(traces);
    // The first commit is held until the test lets it go: what arrives meanwhile waits in the queue (max_queued_events: 100).
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inCommit = new Promise<void>((r) => (entered = r));
    let calls = 0;
    traces.appendTraceEvents = async (events) => {
      if (calls++ === 0) {
        entered();
        await gate;
      }
      return append(events);
    };
    const health = async () => (await adminGet(s, '/health/detailed')).body.components.trace_ingest;
    const refusals = async () => {
      const text = await (await fetch(`${s.url}/metrics`)).text();
      return Number(/warden_requests_total\{route="\/v1\/traces",method="POST",status="503"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const until = async (what: () => Promise<boolean>) => {
      for (let i = 0; i < 500 && !(await what()); i++) await new Promise((r) => setTimeout(r, 10));
    };
    try {
      const post = (body: unknown, type = 'application/json') =>
        fetch(`${s.url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': type }, body: type === 'application/json' ? JSON.stringify(body) : (body as Uint8Array) });
      const first = post(await otlpJson(toolSpans('otel-load', 1)));
      await inCommit;
      const queued = post(await otlpJson(toolSpans('otel-load', 2)));
      await until(async () => (await health()).queue_depth === 4);
      expect(await health()).toMatchObject({ status: 'up', queue_depth: 4, max_queued_events: 100 });
      expect(await (await fetch(`${s.url}/metrics`)).text()).toMatch(/^warden_ingest_queue_depth 4$/m);

      const before = await refusals();
      const { ProtobufTraceSerializer } = await import('@opentelemetry/otlp-transformer');
      const refused = await post(ProtobufTraceSerializer.serializeRequest(toolSpans('otel-load', 60)), 'application/x-protobuf');
      expect([refused.status, refused.headers.get('retry-after'), refused.headers.get('content-type')]).toEqual([503, '1', 'application/x-protobuf']);
      expect([...Buffer.from(await refused.arrayBuffer()).subarray(0, 2)]).toEqual([0x08, 14]); // UNAVAILABLE
      // While batches are refused, the health report says so, and the gateway as a whole is degraded.
      expect(await health()).toMatchObject({ status: 'degraded', last_refusal: expect.any(String) });
      expect((await adminGet(s, '/health/detailed')).body.status).toBe('degraded');

      // The exporter is refused too while the commit is held, and succeeds on its retry once it is let go.
      const exported = exportWith(protoExporter(), toolSpans('otel-load', 60));
      await until(async () => (await refusals()) >= before + 2);
      expect(await refusals()).toBe(before + 2);
      release();
      const result = await exported;
      expect(result.code).toBe(ExportResultCode.SUCCESS);
      expect((await Promise.all([first, queued])).map((r) => r.status)).toEqual([200, 200]);
      expect((await traceOf('otel-load')).run.events).toBe(2 * (1 + 2 + 60));
      expect((await health()).queue_depth).toBe(0);
    } finally {
      release();
      traces.appendTraceEvents = append;
    }
  });
});

describe('the OTLP receiver refuses and answers as OTLP/HTTP says', () => {
  it('refuses with 413 an export whose resource, kept with every span, would be written too many times; a smaller one passes', async () => {
    const exportOf = (spans: number) => {
      const memory = new InMemorySpanExporter();
      const tracer = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'bulky', blob: 'r'.repeat(300_000) }), spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('t');
      for (let i = 0; i < spans; i++) tracer.startSpan(`s${i}`).end();
      return memory.getFinishedSpans();
    };
    const { ProtobufTraceSerializer } = await import('@opentelemetry/otlp-transformer');
    const post = (spans: ReadableSpan[]) =>
      fetch(`${s.url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': 'application/x-protobuf' }, body: ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array });
    const big = exportOf(60); // 60 x 300 KB = 18 MB of resource rows, from one 300 KB request
    const refused = await post(big);
    expect(refused.status).toBe(413);
    expect(Buffer.from(await refused.arrayBuffer()).toString('latin1')).toContain('resource attributes');
    expect((await adminGet(s, `/api/v1/traces/${big[0]!.spanContext().traceId}`, s.agentKey)).status).toBe(404);
    const small = exportOf(5);
    expect((await post(small)).status).toBe(200);
    const kept = (await adminGet(s, `/api/v1/traces/${small[4]!.spanContext().traceId}`, s.agentKey)).body;
    expect(kept.spans[0].resource.blob).toHaveLength(300_000);
  });

  it('an unknown key is a 401 and the exporter reports the failure', async () => {
    const result = await exportWith(jsonExporter('wk_not_a_key'), agentTurn('conv-nokey'));
    expect(result.code).toBe(ExportResultCode.FAILED);
    const res = await fetch(`${s.url}/v1/traces`, { method: 'POST', headers: { authorization: 'Bearer wk_nope', 'content-type': 'application/x-protobuf' }, body: new Uint8Array([0x0a, 0x00]) });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    // google.rpc.Status: field 1 (code) = 16 UNAUTHENTICATED, then the message.
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 2)]).toEqual([0x08, 16]);
    expect(bytes.toString('utf8')).toMatch(/key/i);
  });

  it('a body that is not OTLP is a 400 in the request encoding, and the gateway keeps serving', async () => {
    const proto = await fetch(`${s.url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': 'application/x-protobuf' }, body: new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f]) });
    expect([proto.status, proto.headers.get('content-type')]).toEqual([400, 'application/x-protobuf']);
    const cases: unknown[] = [
      { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'xyz', spanId: '0102030405060708', name: 'a' }] }] }] },
      { resourceSpans: 'nope' },
      { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '0102030405060708090a0b0c0d0e0f10', spanId: '0102030405060708', startTimeUnixNano: '-5' }] }] }] },
    ];
    let deep: unknown = { stringValue: 'x' };
    for (let i = 0; i < 40; i++) deep = { arrayValue: { values: [deep] } };
    cases.push({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '0102030405060708090a0b0c0d0e0f10', spanId: '0102030405060708', attributes: [{ key: 'deep', value: deep }] }] }] }] });
    for (const body of cases) {
      const res = await fetch(`${s.url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await res.json()) as any;
      expect([res.status, json.code, json.error.type]).toEqual([400, 3, 'validation']);
      expect(json.message).toMatch(/^Not an OTLP trace export request/);
    }
    const text = await fetch(`${s.url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': 'text/plain' }, body: 'hello' });
    expect(text.status).toBe(415);
    const bomb = gzipSync(Buffer.alloc(3 * 1024 * 1024, 0x20)); // inflates past the 1 MiB body limit
    const big = await fetch(`${s.url}/v1/traces`, { method: 'POST', headers: { authorization: `Bearer ${s.agentKey}`, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: bomb });
    expect(big.status).toBe(413);
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
  });

  it('an HMAC-signed export is accepted like any signed request', async () => {
    const made = await fetch(`${s.url}/api/v1/signing-secrets`, { method: 'POST', headers: { authorization: `Bearer ${s.adminKey}`, 'content-type': 'application/json' }, body: '{"name":"otel-collector"}' });
    const secret = (await made.json()) as { id: string; secret: string };
    const body = JSON.stringify(await otlpJson(agentTurn('conv-signed')));
    const headers = signRequest({ secret: secret.secret, keyId: secret.id, method: 'POST', path: '/v1/traces', body });
    const res = await fetch(`${s.url}/v1/traces`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect((await traceOf('conv-signed')).run.events).toBe(4);
  });
});
