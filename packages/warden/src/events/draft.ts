import type { Decision, EventKind } from './event.js';

/**
 * The event under construction while a request runs. Each pipeline stage
 * fills in what it learns (who, which model, tokens, errors); the HTTP edge
 * turns it into one WardenEvent when the response ends. Stages never talk to
 * sinks directly.
 */
export interface EventDraft {
  kind: EventKind;
  keyId: string | null;
  userId: string | null;
  agentId: string | null;
  orgId: string | null;
  role: string | null;
  model: string | null;
  provider: string | null;
  tokensIn: number | null;
  tokensOut: number | null;
  costUsd: number | null;
  upstreamMs: number | null;
  ttftMs: number | null;
  errorType: string | null;
  errorCode: string | null;
  decision: Decision | null;
  detail: Record<string, unknown> | null;
}

export function newDraft(kind: EventKind): EventDraft {
  return {
    kind,
    keyId: null,
    userId: null,
    agentId: null,
    orgId: null,
    role: null,
    model: null,
    provider: null,
    tokensIn: null,
    tokensOut: null,
    costUsd: null,
    upstreamMs: null,
    ttftMs: null,
    errorType: null,
    errorCode: null,
    decision: null,
    detail: null,
  };
}

export function addDetail(d: EventDraft, fields: Record<string, unknown>): void {
  d.detail = { ...(d.detail ?? {}), ...fields };
}
