import { chainHash, serializeDetail } from '../audit/chain.js';
import type { WardenEvent } from '../events/event.js';
import { eventToRow, type NewEventRow } from './schema.js';

/**
 * Turns a batch into rows linked onto `headHash`, in order. The caller must
 * hold the chain lock from reading the head until commit.
 */
export function linkBatch(headHash: string, events: readonly WardenEvent[]): NewEventRow[] {
  const rows: NewEventRow[] = [];
  let prev = headHash;
  for (const raw of events) {
    const event = storableEvent(raw);
    const detail = serializeDetail(event.detail);
    const hash = chainHash(prev, event, detail);
    rows.push(eventToRow(event, detail, prev, hash));
    prev = hash;
  }
  return rows;
}

// NUL (Postgres text rejects it) and lone UTF-16 surrogates (both drivers
// encode UTF-8 and turn them into U+FFFD).
const UNSTORABLE = /[\0\ud800-\udfff]/;
const UNSTORABLE_ALL = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const INT32_MAX = 2 ** 31 - 1;

// `== null` also catches undefined from producers that skipped a field.
function text<T extends string | null>(s: T): T {
  if (s == null) return null as T;
  return (UNSTORABLE.test(s) ? s.replace(UNSTORABLE_ALL, '\ufffd') : s) as T;
}

function int(n: number | null): number | null {
  if (n == null || !Number.isFinite(n)) return null;
  const r = Math.round(n);
  return Math.abs(r) > INT32_MAX ? null : r;
}

function double(n: number | null): number | null {
  return n == null || !Number.isFinite(n) ? null : n;
}

/**
 * The event exactly as the database will hand it back, so the hash computed
 * now matches the one verifyAudit recomputes from stored columns. Without
 * this, a client could send a model name holding NUL or a lone surrogate and
 * either fail a whole batch (Postgres) or make an intact chain look tampered
 * with. Integers go to `integer` columns, so they are rounded (Postgres would
 * reject 1.5); NaN and Infinity, which neither JSON nor SQLite keep, become null.
 */
export function storableEvent(e: WardenEvent): WardenEvent {
  return {
    id: text(e.id),
    ts: Math.round(e.ts),
    requestId: text(e.requestId),
    traceId: text(e.traceId),
    kind: text(e.kind),
    method: text(e.method),
    route: text(e.route),
    status: int(e.status),
    durationMs: double(e.durationMs),
    upstreamMs: double(e.upstreamMs),
    ttftMs: double(e.ttftMs),
    keyId: text(e.keyId),
    userId: text(e.userId),
    agentId: text(e.agentId),
    orgId: text(e.orgId),
    model: text(e.model),
    provider: text(e.provider),
    tokensIn: int(e.tokensIn),
    tokensOut: int(e.tokensOut),
    costUsd: double(e.costUsd),
    clientIp: text(e.clientIp),
    userAgent: text(e.userAgent),
    errorType: text(e.errorType),
    errorCode: text(e.errorCode),
    decision: text(e.decision),
    detail: e.detail,
  };
}
