export { decodeJson, decodeProtobuf, exportResponse, rpcStatus, type OtlpSpan } from './decode.js';
export { isGenAi, runOf, spanEvents, type MappedEvent, type MappedRun, type PriceOf } from './genai.js';
export { spanTree, type SpanNode } from './tree.js';
