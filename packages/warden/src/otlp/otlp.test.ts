import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import type { SpanRecord } from '../storage/index.js';
import { decodeJson, decodeProtobuf, exportResponse } from './decode.js';
import { runOf, spanEvents } from './genai.js';
import { MAX_DEPTH, spanTree } from './tree.js';

function spans() {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'svc', 'host.cores': 2 }), spanProcessors: [new SimpleSpanProcessor(memory)] });
  const span = provider.getTracer('unit', '2.0').startSpan('chat m', {
    attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm', 'gen_ai.usage.input_tokens': 7, ratio: 0.25, ok: true, tags: ['a', 'b'] },
    links: [{ context: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }, attributes: { why: 'retry' } }],
  });
  span.addEvent('started', { step: 1 });
  span.end();
  return memory.getFinishedSpans();
}

describe('OTLP decoding', () => {
  it('decodes the same spans identically from protobuf and from JSON, as the OpenTelemetry serializers write them', () => {
    const finished = spans();
    const fromProto = decodeProtobuf(ProtobufTraceSerializer.serializeRequest(finished)!);
    const fromJson = decodeJson(JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(finished)!).toString('utf8')));
    expect(fromProto).toEqual(fromJson);
    const [s] = fromProto;
    expect(s).toMatchObject({
      traceId: finished[0]!.spanContext().traceId,
      spanId: finished[0]!.spanContext().spanId,
      parentSpanId: null,
      name: 'chat m',
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.usage.input_tokens': 7, ratio: 0.25, ok: true, tags: ['a', 'b'] },
      events: [{ name: 'started', attributes: { step: 1 } }],
      links: [{ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', attributes: { why: 'retry' } }],
      resource: { 'service.name': 'svc', 'host.cores': 2 },
      scope: { name: 'unit', version: '2.0' },
    });
    expect(s!.startNs).toMatch(/^\d{19}$/);
  });

  it('keeps 64-bit integers beyond 2^53 exact, as text', () => {
    const body = { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', startTimeUnixNano: '1764662400123456789', attributes: [{ key: 'big', value: { intValue: '9007199254740993' } }] }] }] }] };
    const [s] = decodeJson(body);
    expect([s!.startNs, s!.attributes.big]).toEqual(['1764662400123456789', '9007199254740993']);
  });

  it('takes hostile fields safely: NUL dropped from column text, __proto__ kept as a plain attribute, an all-zero parent is a root, a huge kind refused', () => {
    const span = (over: Record<string, unknown>) => ({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', ...over }] }] }] });
    const [s] = decodeJson(span({ name: 'a\u0000b', parentSpanId: '0000000000000000', status: { code: 2, message: 'x\u0000' }, attributes: [{ key: '__proto__', value: { stringValue: 'p' } }] }));
    expect([s!.name, s!.parentSpanId, s!.status.message]).toEqual(['ab', null, 'x']);
    expect(Object.getPrototypeOf(s!.attributes)).toBe(Object.prototype);
    expect(Object.keys(s!.attributes)).toEqual(['__proto__']);
    expect(() => decodeJson(span({ kind: 1e20 }))).toThrow(/not a known enum value/);
  });

  it('answers an export in the request encoding: empty on success, partial success otherwise', () => {
    expect(exportResponse(0, '', false)).toEqual({});
    expect((exportResponse(0, '', true) as Buffer).length).toBe(0);
    expect(exportResponse(2, 'blocked', false)).toEqual({ partialSuccess: { rejectedSpans: '2', errorMessage: 'blocked' } });
    // field 1 (partial_success), length-delimited; inside: field 1 varint 2, field 2 "blocked".
    expect([...(exportResponse(2, 'blocked', true) as Buffer)]).toEqual([0x0a, 11, 0x08, 2, 0x12, 7, ...Buffer.from('blocked')]);
  });
});

describe('GenAI mapping', () => {
  it('names the run by conversation, with a stable id for a conversation id that is not a run id', () => {
    const [s] = decodeProtobuf(ProtobufTraceSerializer.serializeRequest(spans())!);
    expect(runOf(s!, undefined)).toMatchObject({ id: `trace_${s!.traceId}`, agent: 'svc' });
    expect(runOf(s!, 'thread 42 / user@x').id).toMatch(/^conv_[0-9a-f]{32}$/);
    expect(runOf(s!, 'thread 42 / user@x').id).toBe(runOf(s!, 'thread 42 / user@x').id);
    const events = spanEvents(s!, runOf(s!, 'c1'));
    expect(events.map((e) => [e.body.type, e.body.meta.idempotency_key.split(':').at(-1)])).toEqual([
      ['action_request', 'request'],
      ['action_response', 'response'],
    ]);
    expect(events[1]!.body.payload.usage).toEqual({ input_tokens: 7 });
  });
});

describe('span trees', () => {
  const span = (id: string, parent: string | null, start: number): SpanRecord => ({
    orgId: 'o',
    traceId: 't'.repeat(32),
    spanId: id,
    parentSpanId: parent,
    runId: null,
    name: id,
    kind: 1,
    startNs: String(1_764_662_400_000_000_000n + BigInt(start)),
    endNs: String(1_764_662_400_000_000_000n + BigInt(start + 1_000_000)),
    statusCode: 0,
    statusMessage: null,
    attributes: { 'gen_ai.usage.output_tokens': 5 },
    events: [],
    links: [],
    resource: null,
    scope: null,
    receivedAt: 0,
  });

  it('nests children under parents, makes orphans roots, sums tokens over subtrees, and cuts parent loops', () => {
    const tree = spanTree([span('root', null, 0), span('a', 'root', 1), span('b', 'a', 2), span('orphan', 'missing', 3), span('x', 'y', 4), span('y', 'x', 5)]);
    expect(tree.map((n) => n.span_id)).toEqual(['root', 'orphan', 'x']);
    expect(tree[0]!.children[0]!.children[0]!.span_id).toBe('b');
    expect(tree[0]!.usage.output_tokens).toBe(15);
    // x and y name each other as parent: the loop is cut at x, which keeps y below it.
    expect(tree[2]!.children.map((n) => n.span_id)).toEqual(['y']);
    expect(tree[2]!.usage.output_tokens).toBe(10);
  });

  it('a chain of 10,000 spans (one under the next) neither exhausts the stack nor nests past MAX_DEPTH, and its tokens still roll up', () => {
    const chain = Array.from({ length: 10_000 }, (_, i) => span(`s${i}`, i === 0 ? null : `s${i - 1}`, i));
    const tree = spanTree(chain);
    expect(() => JSON.stringify(tree)).not.toThrow();
    let deepest = 0;
    const stack: Array<[(typeof tree)[number], number]> = tree.map((n) => [n, 0]);
    while (stack.length > 0) {
      const [n, d] = stack.pop()!;
      deepest = Math.max(deepest, d);
      for (const c of n.children) stack.push([c, d + 1]);
    }
    expect(deepest).toBe(MAX_DEPTH);
    // Each root past the first names the parent it was cut from; the first root's subtree counted all 10,000 spans.
    expect(tree.length).toBe(Math.ceil(10_000 / (MAX_DEPTH + 1)));
    expect(tree[1]!.parent_span_id).toBe(`s${MAX_DEPTH}`);
    expect(tree[0]!.usage.output_tokens).toBe(50_000);
  });
});
