import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/**
 * The trace event schema (docs/ingestion.md). The envelope is checked by the
 * route (fastify, ajv); each payload by its type here, compiled once, so a
 * bad event is refused alone with the field and the reason, and the rest of
 * its batch is still stored.
 */
export const ACTORS = ['agent', 'tool', 'user', 'system', 'redteam'] as const;
export const EVENT_TYPES = ['reasoning', 'action_request', 'action_response', 'final_output', 'error'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Text stored in its own column: no NUL (PostgreSQL's text refuses it; SQLite would take it). */
export const Text = (min: number, max: number) => Type.String({ minLength: min, maxLength: max, pattern: '^[^\\u0000]*$' });
const Id = Text(1, 200);
/** Counts and times stay exact in a double and in a bigint column. */
const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
/** The largest time a JavaScript Date can hold (year 275760). */
export const MAX_TIME_MS = 8.64e15;
const Usage = Type.Object(
  {
    input_tokens: Type.Optional(Count),
    output_tokens: Type.Optional(Count),
    cost_usd: Type.Optional(Type.Number({ minimum: 0, maximum: 1e12 })),
  },
  { additionalProperties: false },
);

/** Fields every payload may carry; agents may add their own beside them. */
const common = { usage: Type.Optional(Usage) };
const PAYLOADS: Record<EventType, TSchema> = {
  reasoning: Type.Object({ text: Type.String(), ...common }),
  action_request: Type.Object({ tool: Id, arguments: Type.Optional(Type.Unknown()), call_id: Type.Optional(Id), ...common }),
  action_response: Type.Object({
    tool: Type.Optional(Id),
    call_id: Type.Optional(Id),
    output: Type.Optional(Type.Unknown()),
    status: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('error')])),
    error: Type.Optional(Type.String()),
    ...common,
  }),
  final_output: Type.Object({ text: Type.Optional(Type.String()), output: Type.Optional(Type.Unknown()), ...common }),
  error: Type.Object({ message: Type.String({ minLength: 1 }), code: Type.Optional(Type.String()), ...common }),
};
const CHECKS = Object.fromEntries(Object.entries(PAYLOADS).map(([t, s]) => [t, TypeCompiler.Compile(s)])) as Record<EventType, ReturnType<typeof TypeCompiler.Compile>>;

export const EventMeta = Type.Object({
  run_id: Type.Optional(Id),
  agent_id: Type.Optional(Id),
  idempotency_key: Type.Optional(Text(1, 200)),
  signature: Type.Optional(Type.String({ maxLength: 1000 })),
});

/** One event as sent. The envelope is strict; the payload is checked per type. */
export const TraceEventBody = Type.Object(
  {
    seq: Count,
    /** Epoch milliseconds, or an ISO 8601 timestamp. */
    t: Type.Union([Type.Number({ minimum: 0, maximum: MAX_TIME_MS }), Type.String({ minLength: 10, maxLength: 40 })]),
    actor: Type.Union(ACTORS.map((a) => Type.Literal(a))),
    type: Type.Union(EVENT_TYPES.map((a) => Type.Literal(a))),
    payload: Type.Unknown(),
    meta: Type.Optional(EventMeta),
  },
  { additionalProperties: false },
);
export type TraceEventBody = Static<typeof TraceEventBody>;

/** At most this many events in one request. */
export const MAX_BATCH = 1000;
export const EventBatch = Type.Object({ events: Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_BATCH }) }, { additionalProperties: false });
const CHECK_EVENT = TypeCompiler.Compile(TraceEventBody);

export const CreateRun = Type.Object(
  {
    id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' })),
    agent: Text(1, 200),
    scenario: Type.Optional(Text(1, 200)),
    seed: Type.Optional(Type.Union([Text(0, 200), Type.Integer({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER })])),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);
export const FinalizeRun = Type.Object({ status: Type.Union([Type.Literal('completed'), Type.Literal('failed')]) }, { additionalProperties: false });

/** Why one event of a batch was refused: a code, the field (a JSON pointer into the event) and a sentence. */
export interface EventProblem {
  code: 'invalid_event' | 'run_not_found' | 'content_blocked' | 'payload_too_large' | 'policy_denied';
  field?: string;
  message: string;
}

/** The event, or the first thing wrong with it. */
export function checkEvent(value: unknown): { ok: true; event: TraceEventBody } | { ok: false; problem: EventProblem } {
  if (!CHECK_EVENT.Check(value)) {
    const e = CHECK_EVENT.Errors(value).First()!;
    return { ok: false, problem: { code: 'invalid_event', field: e.path || '/', message: e.message } };
  }
  const check = CHECKS[value.type];
  if (!check.Check(value.payload)) {
    const e = check.Errors(value.payload).First()!;
    return { ok: false, problem: { code: 'invalid_event', field: `/payload${e.path}`, message: `${e.message} (a ${value.type} payload)` } };
  }
  if (typeof value.t === 'string' && !(Math.abs(Date.parse(value.t)) <= MAX_TIME_MS)) {
    return { ok: false, problem: { code: 'invalid_event', field: '/t', message: 'Expected epoch milliseconds or an ISO 8601 timestamp' } };
  }
  return { ok: true, event: value };
}
