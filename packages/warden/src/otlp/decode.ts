import protobuf from 'protobufjs/light.js';
import { WardenError } from '../errors/index.js';

/**
 * OTLP/HTTP trace export requests, in protobuf and in JSON, decoded to one
 * shape. The message definitions follow opentelemetry-proto
 * (collector/trace/v1, trace/v1, common/v1, resource/v1); only the trace
 * messages are declared. JSON field names are the lowerCamelCase ones of the
 * OTLP/JSON mapping, ids are hex, 64-bit integers may be strings.
 */

const kv = { rule: 'repeated', type: 'KeyValue' } as const;
const DESCRIPTOR = {
  nested: {
    otlp: {
      nested: {
        ExportTraceServiceRequest: { fields: { resourceSpans: { rule: 'repeated', type: 'ResourceSpans', id: 1 } } },
        ExportTraceServiceResponse: { fields: { partialSuccess: { type: 'ExportTracePartialSuccess', id: 1 } } },
        ExportTracePartialSuccess: { fields: { rejectedSpans: { type: 'int64', id: 1 }, errorMessage: { type: 'string', id: 2 } } },
        /** google.rpc.Status, the body of an error answer. */
        RpcStatus: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } } },
        ResourceSpans: { fields: { resource: { type: 'Resource', id: 1 }, scopeSpans: { rule: 'repeated', type: 'ScopeSpans', id: 2 }, schemaUrl: { type: 'string', id: 3 } } },
        Resource: { fields: { attributes: { ...kv, id: 1 }, droppedAttributesCount: { type: 'uint32', id: 2 } } },
        ScopeSpans: { fields: { scope: { type: 'InstrumentationScope', id: 1 }, spans: { rule: 'repeated', type: 'Span', id: 2 }, schemaUrl: { type: 'string', id: 3 } } },
        InstrumentationScope: {
          fields: { name: { type: 'string', id: 1 }, version: { type: 'string', id: 2 }, attributes: { ...kv, id: 3 }, droppedAttributesCount: { type: 'uint32', id: 4 } },
        },
        Span: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            traceState: { type: 'string', id: 3 },
            parentSpanId: { type: 'bytes', id: 4 },
            name: { type: 'string', id: 5 },
            kind: { type: 'int32', id: 6 },
            startTimeUnixNano: { type: 'fixed64', id: 7 },
            endTimeUnixNano: { type: 'fixed64', id: 8 },
            attributes: { ...kv, id: 9 },
            droppedAttributesCount: { type: 'uint32', id: 10 },
            events: { rule: 'repeated', type: 'SpanEvent', id: 11 },
            droppedEventsCount: { type: 'uint32', id: 12 },
            links: { rule: 'repeated', type: 'SpanLink', id: 13 },
            droppedLinksCount: { type: 'uint32', id: 14 },
            status: { type: 'Status', id: 15 },
            flags: { type: 'fixed32', id: 16 },
          },
        },
        SpanEvent: { fields: { timeUnixNano: { type: 'fixed64', id: 1 }, name: { type: 'string', id: 2 }, attributes: { ...kv, id: 3 }, droppedAttributesCount: { type: 'uint32', id: 4 } } },
        SpanLink: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            spanId: { type: 'bytes', id: 2 },
            traceState: { type: 'string', id: 3 },
            attributes: { ...kv, id: 4 },
            droppedAttributesCount: { type: 'uint32', id: 5 },
            flags: { type: 'fixed32', id: 6 },
          },
        },
        Status: { fields: { message: { type: 'string', id: 2 }, code: { type: 'int32', id: 3 } } },
        KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
        AnyValue: {
          oneofs: { value: { oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] } },
          fields: {
            stringValue: { type: 'string', id: 1 },
            boolValue: { type: 'bool', id: 2 },
            intValue: { type: 'int64', id: 3 },
            doubleValue: { type: 'double', id: 4 },
            arrayValue: { type: 'ArrayValue', id: 5 },
            kvlistValue: { type: 'KeyValueList', id: 6 },
            bytesValue: { type: 'bytes', id: 7 },
          },
        },
        ArrayValue: { fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } } },
        KeyValueList: { fields: { values: { ...kv, id: 1 } } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(DESCRIPTOR as protobuf.INamespace);
const Request = root.lookupType('otlp.ExportTraceServiceRequest');
const Response = root.lookupType('otlp.ExportTraceServiceResponse');
const RpcStatus = root.lookupType('otlp.RpcStatus');

/** One span, decoded: ids in lowercase hex, times as Unix nanoseconds in decimal. */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  traceState: string | null;
  name: string;
  kind: number;
  startNs: string;
  endNs: string;
  attributes: Record<string, unknown>;
  events: Array<{ time_ns: string; name: string; attributes: Record<string, unknown> }>;
  links: Array<{ trace_id: string; span_id: string; trace_state: string | null; attributes: Record<string, unknown> }>;
  status: { code: number; message: string | null };
  resource: Record<string, unknown>;
  scope: { name?: string; version?: string } | null;
}

/** Nesting beyond this in an attribute value (arrays and key-value lists) is refused. */
const MAX_DEPTH = 32;

const bad = (message: string): WardenError => new WardenError('invalid_request', `Not an OTLP trace export request: ${message}`);

function asObject(v: unknown, where: string): Record<string, unknown> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(`${where} is not an object`);
  return v as Record<string, unknown>;
}
function asArray(v: unknown, where: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(`${where} is not an array`);
  return v;
}

/** Text for a column of its own: PostgreSQL's text refuses NUL, so it is dropped. */
const text = (v: unknown): string => (typeof v === 'string' ? v.replaceAll('\u0000', '') : '');

/** Ids: bytes from protobuf, hex text from JSON. Empty (absent) is null; an all-zero parent id (some bridges send it for roots) too. */
function id(v: unknown, bytes: number, where: string, zeroIsNone = false): string | null {
  if (v === undefined || v === null || v === '') return null;
  const hex = typeof v === 'string' ? v.toLowerCase() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : null;
  if (hex === null || hex.length === 0) return null;
  if (hex.length !== bytes * 2 || !/^[0-9a-f]+$/.test(hex)) throw bad(`${where} is not ${bytes} bytes of hex`);
  if (/^0+$/.test(hex)) {
    if (zeroIsNone) return null;
    throw bad(`${where} is all zeroes`);
  }
  return hex;
}

/** A 64-bit unsigned count of nanoseconds: a decimal string, a number, or a protobufjs Long. */
function nanos(v: unknown, where: string): string {
  if (v === undefined || v === null || v === '') return '0';
  const text = typeof v === 'object' ? String(v) : typeof v === 'number' || typeof v === 'string' ? String(v) : '';
  if (!/^\d{1,20}$/.test(text)) throw bad(`${where} is not Unix nanoseconds`);
  return BigInt(text).toString();
}

/** A small enum value (span kind, status code): the columns are 32-bit integers. */
function int(v: unknown, where: string): number {
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 1000) throw bad(`${where} is not a known enum value`);
  return n;
}

/** An AnyValue as plain JSON: a 64-bit integer beyond 2^53 stays a decimal string, bytes become base64. */
function anyValue(v: unknown, where: string, depth: number): unknown {
  if (depth > MAX_DEPTH) throw bad(`${where} nests deeper than ${MAX_DEPTH} levels`);
  const o = asObject(v, where);
  if (o.stringValue !== undefined && o.stringValue !== null) return String(o.stringValue);
  if (o.boolValue !== undefined && o.boolValue !== null) return o.boolValue === true;
  if (o.intValue !== undefined && o.intValue !== null) {
    const text = String(o.intValue);
    if (!/^-?\d{1,20}$/.test(text)) throw bad(`${where}.intValue is not an integer`);
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : text;
  }
  if (o.doubleValue !== undefined && o.doubleValue !== null) {
    const n = Number(o.doubleValue);
    return Number.isFinite(n) ? n : String(o.doubleValue);
  }
  if (o.arrayValue !== undefined && o.arrayValue !== null) {
    return asArray(asObject(o.arrayValue, where).values, `${where}.arrayValue`).map((x, i) => anyValue(x, `${where}[${i}]`, depth + 1));
  }
  if (o.kvlistValue !== undefined && o.kvlistValue !== null) return attributes(asObject(o.kvlistValue, where).values, where, depth + 1);
  if (o.bytesValue !== undefined && o.bytesValue !== null) {
    return o.bytesValue instanceof Uint8Array ? Buffer.from(o.bytesValue).toString('base64') : String(o.bytesValue);
  }
  return null;
}

function attributes(list: unknown, where: string, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [i, item] of asArray(list, where).entries()) {
    const kv = asObject(item, `${where}[${i}]`);
    if (typeof kv.key !== 'string' || kv.key === '') throw bad(`${where}[${i}].key is not a name`);
    // defineProperty: a key named __proto__ is an attribute like any other, not the object's prototype.
    Object.defineProperty(out, kv.key, { value: anyValue(kv.value, `${where}.${kv.key}`, depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The request, whichever encoding it came in, as spans with their resource and scope. */
function normalise(body: unknown): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  for (const [r, rsRaw] of asArray(asObject(body, 'the body').resourceSpans, 'resourceSpans').entries()) {
    const rs = asObject(rsRaw, `resourceSpans[${r}]`);
    const resource = attributes(asObject(rs.resource, 'resource').attributes, 'resource.attributes');
    for (const [s, ssRaw] of asArray(rs.scopeSpans, `resourceSpans[${r}].scopeSpans`).entries()) {
      const ss = asObject(ssRaw, `scopeSpans[${s}]`);
      const scopeRaw = asObject(ss.scope, 'scope');
      const scope = typeof scopeRaw.name === 'string' && scopeRaw.name ? { name: scopeRaw.name, ...(typeof scopeRaw.version === 'string' && scopeRaw.version && { version: scopeRaw.version }) } : null;
      for (const [k, spanRaw] of asArray(ss.spans, `scopeSpans[${s}].spans`).entries()) {
        const where = `spans[${k}]`;
        const sp = asObject(spanRaw, where);
        const traceId = id(sp.traceId, 16, `${where}.traceId`);
        const spanId = id(sp.spanId, 8, `${where}.spanId`);
        if (!traceId || !spanId) throw bad(`${where} has no traceId or spanId`);
        const status = asObject(sp.status, `${where}.status`);
        out.push({
          traceId,
          spanId,
          parentSpanId: id(sp.parentSpanId, 8, `${where}.parentSpanId`, true),
          traceState: text(sp.traceState) || null,
          name: text(sp.name),
          kind: int(sp.kind, `${where}.kind`),
          startNs: nanos(sp.startTimeUnixNano, `${where}.startTimeUnixNano`),
          endNs: nanos(sp.endTimeUnixNano, `${where}.endTimeUnixNano`),
          attributes: attributes(sp.attributes, `${where}.attributes`),
          events: asArray(sp.events, `${where}.events`).map((e, i) => {
            const ev = asObject(e, `${where}.events[${i}]`);
            return { time_ns: nanos(ev.timeUnixNano, `${where}.events[${i}].timeUnixNano`), name: typeof ev.name === 'string' ? ev.name : '', attributes: attributes(ev.attributes, `${where}.events[${i}].attributes`) };
          }),
          links: asArray(sp.links, `${where}.links`).map((l, i) => {
            const link = asObject(l, `${where}.links[${i}]`);
            const lt = id(link.traceId, 16, `${where}.links[${i}].traceId`);
            const ls = id(link.spanId, 8, `${where}.links[${i}].spanId`);
            if (!lt || !ls) throw bad(`${where}.links[${i}] has no traceId or spanId`);
            return { trace_id: lt, span_id: ls, trace_state: typeof link.traceState === 'string' && link.traceState ? link.traceState : null, attributes: attributes(link.attributes, `${where}.links[${i}].attributes`) };
          }),
          status: { code: int(status.code, `${where}.status.code`), message: text(status.message) || null },
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

/** Decodes a protobuf-encoded ExportTraceServiceRequest. */
export function decodeProtobuf(bytes: Uint8Array): OtlpSpan[] {
  let decoded: unknown;
  try {
    decoded = Request.toObject(Request.decode(bytes), { longs: String, defaults: false });
  } catch {
    throw bad('the protobuf does not decode');
  }
  return normalise(decoded);
}

/** Decodes an OTLP/JSON ExportTraceServiceRequest, already parsed. */
export function decodeJson(body: unknown): OtlpSpan[] {
  return normalise(body);
}

/** The answer to an export: empty on full success; otherwise how many spans were refused and why. */
export function exportResponse(rejected: number, message: string, protobufEncoded: boolean): Buffer | Record<string, unknown> {
  // With nothing rejected, a message is a warning (OTLP: partial_success with rejected_spans 0).
  const partial = rejected > 0 || message ? { partialSuccess: { rejectedSpans: protobufEncoded ? rejected : String(rejected), errorMessage: message } } : {};
  return protobufEncoded ? Buffer.from(Response.encode(Response.fromObject(partial)).finish()) : partial;
}

/** google.rpc.Status in protobuf: the body of an error answer to a protobuf request. */
export function rpcStatus(code: number, message: string): Buffer {
  return Buffer.from(RpcStatus.encode(RpcStatus.fromObject({ code, message })).finish());
}
