import { createHash } from 'node:crypto';
import type { OtlpSpan } from './decode.js';

/**
 * Spans that follow the OpenTelemetry GenAI semantic conventions, as runs and
 * trace events. A span is a GenAI span when it has `gen_ai.operation.name`.
 *
 * - The run: `warden.run.id` if the span names one, else
 *   `gen_ai.conversation.id`, else the trace (`trace_<trace id>`). Its agent
 *   is `gen_ai.agent.name`, else `gen_ai.agent.id`, else the resource's
 *   `service.name`.
 * - An inference (`chat`, `text_completion`, `generate_content`,
 *   `embeddings`) or a tool call (`execute_tool`) is an action_request at the
 *   span's start and an action_response at its end, with the tokens used
 *   (and their price, for a model in the price table).
 * - Any GenAI span whose status is an error adds an error event; an
 *   `invoke_agent` span with output messages adds a final_output.
 *
 * Each event's idempotency key is made from the trace, span and part, so an
 * exporter's retry stores nothing twice.
 */

const RUN_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const INFERENCE = new Set(['chat', 'text_completion', 'generate_content', 'embeddings']);
const STATUS_ERROR = 2;

export interface MappedRun {
  id: string;
  agent: string;
  metadata: Record<string, unknown>;
}

export interface MappedEvent {
  runId: string;
  body: { seq: number; t: number; actor: string; type: string; payload: Record<string, unknown>; meta: { run_id: string; agent_id?: string; idempotency_key: string } };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
/** Names and ids the event schema holds to 200 characters. */
const name = (v: string | undefined): string | undefined => v?.slice(0, 200);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : undefined);
/** A span's gen_ai.usage tokens (the current names, else the older prompt/completion ones); absent when not given. */
export function spanTokens(a: Record<string, unknown>): { input_tokens: number | undefined; output_tokens: number | undefined } {
  return {
    input_tokens: num(a['gen_ai.usage.input_tokens']) ?? num(a['gen_ai.usage.prompt_tokens']),
    output_tokens: num(a['gen_ai.usage.output_tokens']) ?? num(a['gen_ai.usage.completion_tokens']),
  };
}

/** Content attributes are JSON text under the conventions; kept parsed where they parse. */
function content(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return v;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return v;
  }
}
const nsToMs = (ns: string): number => Number(BigInt(ns) / 1_000_000n);
const defined = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export function isGenAi(span: OtlpSpan): boolean {
  return str(span.attributes['gen_ai.operation.name']) !== undefined;
}

/** The run a GenAI span belongs to; `conversation` is the trace's conversation id when another span of it names one. */
export function runOf(span: OtlpSpan, conversation: string | undefined): MappedRun {
  const a = span.attributes;
  const named = str(a['warden.run.id']) ?? str(a['gen_ai.conversation.id']) ?? conversation;
  const id = named === undefined ? `trace_${span.traceId}` : RUN_ID.test(named) ? named : `conv_${createHash('sha256').update(named).digest('hex').slice(0, 32)}`;
  const agent = (str(a['gen_ai.agent.name']) ?? str(a['gen_ai.agent.id']) ?? str(span.resource['service.name']) ?? 'otel').replaceAll('\u0000', '') || 'otel';
  return {
    id,
    agent: agent.slice(0, 200),
    metadata: defined({
      source: 'otlp',
      trace_id: span.traceId,
      conversation_id: str(a['gen_ai.conversation.id']) ?? conversation,
      agent_id: str(a['gen_ai.agent.id']),
      service: str(span.resource['service.name']),
    }),
  };
}

/** The price of a model call in USD, null for a model without a price (Warden's price table, `pricing`). */
export type PriceOf = (model: string, tokensIn: number, tokensOut: number) => number | null;

/** A GenAI span's events, in time order. An inference's tokens are priced by `price`, so cost rolls up to the run as for proxied calls. */
export function spanEvents(span: OtlpSpan, run: MappedRun, price?: PriceOf): MappedEvent[] {
  const a = span.attributes;
  const op = str(a['gen_ai.operation.name'])!;
  const failed = span.status.code === STATUS_ERROR;
  const start = nsToMs(span.startNs);
  const end = span.endNs === '0' ? start : nsToMs(span.endNs);
  const otel = { trace_id: span.traceId, span_id: span.spanId, operation: op };
  const agentId = name(str(a['gen_ai.agent.id']));
  const out: MappedEvent[] = [];
  const push = (part: string, t: number, actor: string, type: string, payload: Record<string, unknown>) =>
    out.push({
      runId: run.id,
      body: { seq: 0, t, actor, type, payload: { ...defined(payload), otel }, meta: { run_id: run.id, ...(agentId && { agent_id: agentId }), idempotency_key: `otlp:${span.traceId}:${span.spanId}:${part}` } },
    });
  const usage = defined(spanTokens(a));
  const error = failed ? (span.status.message ?? str(a['error.type']) ?? 'the operation failed') : undefined;
  if (INFERENCE.has(op)) {
    const model = str(a['gen_ai.request.model']);
    const priced = str(a['gen_ai.response.model']) ?? model;
    const cost = priced && price && Object.keys(usage).length > 0 ? price(priced, (usage.input_tokens as number | undefined) ?? 0, (usage.output_tokens as number | undefined) ?? 0) : null;
    if (cost !== null) usage.cost_usd = cost;
    push('request', start, 'agent', 'action_request', {
      tool: op,
      call_id: span.spanId,
      arguments: defined({
        model,
        provider: str(a['gen_ai.provider.name']) ?? str(a['gen_ai.system']),
        system_instructions: content(a['gen_ai.system_instructions']),
        messages: content(a['gen_ai.input.messages']),
        temperature: a['gen_ai.request.temperature'],
        max_tokens: a['gen_ai.request.max_tokens'],
      }),
    });
    push('response', end, 'system', 'action_response', {
      tool: op,
      call_id: span.spanId,
      status: failed ? 'error' : 'ok',
      error,
      output: defined({ model: str(a['gen_ai.response.model']) ?? model, messages: content(a['gen_ai.output.messages']), finish_reasons: a['gen_ai.response.finish_reasons'] }),
      ...(Object.keys(usage).length > 0 && { usage }),
    });
  } else if (op === 'execute_tool') {
    const tool = name(str(a['gen_ai.tool.name']) ?? str(span.name) ?? 'tool')!;
    const callId = name(str(a['gen_ai.tool.call.id'])) ?? span.spanId;
    push('request', start, 'agent', 'action_request', { tool, call_id: callId, arguments: content(a['gen_ai.tool.call.arguments']), tool_type: str(a['gen_ai.tool.type']) });
    push('response', end, 'tool', 'action_response', { tool, call_id: callId, status: failed ? 'error' : 'ok', error, output: content(a['gen_ai.tool.call.result']) });
  } else if (a['gen_ai.output.messages'] !== undefined && !failed) {
    push('output', end, 'agent', 'final_output', { output: content(a['gen_ai.output.messages']) });
  }
  if (failed) push('error', end, 'system', 'error', { message: error!, code: str(a['error.type']) });
  return out;
}
