/**
 * The one event shape. Every request, auth failure, admin action and (later)
 * guardrail finding or ingested trace step becomes a WardenEvent. Consumers
 * filter by `kind`; stages never know who consumes.
 */
export type EventKind =
  | 'llm.request'
  | 'api.request'
  | 'auth.failure'
  | 'admin.key.create'
  | 'admin.key.revoke'
  | (string & {});

/** `pending`: held for a person's approval (an MCP tool call; its final event says allow or deny). */
export type Decision = 'allow' | 'deny' | 'pending';

export interface WardenEvent {
  /** UUIDv7: unique and roughly time-ordered. */
  id: string;
  /** Epoch milliseconds when the request arrived (or the action happened). */
  ts: number;
  /** Correlation id: the incoming x-request-id, or one Warden generated. */
  requestId: string;
  /** W3C trace id (32 hex) from an incoming traceparent, else null. */
  traceId: string | null;
  kind: EventKind;
  method: string | null;
  route: string | null;
  status: number | null;
  durationMs: number | null;
  upstreamMs: number | null;
  ttftMs: number | null;
  keyId: string | null;
  userId: string | null;
  agentId: string | null;
  orgId: string | null;
  model: string | null;
  provider: string | null;
  tokensIn: number | null;
  tokensOut: number | null;
  costUsd: number | null;
  clientIp: string | null;
  userAgent: string | null;
  errorType: string | null;
  errorCode: string | null;
  decision: Decision | null;
  /** Kind-specific extra fields. Never contains secrets. */
  detail: Record<string, unknown> | null;
}

/** An event as stored in the append-only, hash-chained audit log. */
export interface StoredEvent extends WardenEvent {
  /** Position in the chain, strictly increasing in commit order. */
  seq: number;
  prevHash: string;
  hash: string;
}

/** Fields every event has null unless set: lets producers name only what they know. */
export function blankEvent(): Omit<WardenEvent, 'id' | 'ts' | 'requestId' | 'kind'> {
  return {
    traceId: null,
    method: null,
    route: null,
    status: null,
    durationMs: null,
    upstreamMs: null,
    ttftMs: null,
    keyId: null,
    userId: null,
    agentId: null,
    orgId: null,
    model: null,
    provider: null,
    tokensIn: null,
    tokensOut: null,
    costUsd: null,
    clientIp: null,
    userAgent: null,
    errorType: null,
    errorCode: null,
    decision: null,
    detail: null,
  };
}
