import { hash } from 'node:crypto';
import type { WardenEvent } from '../events/event.js';

/** prev_hash of the first record in the chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Canonical serialisation of an event for hashing. A fixed field order (not
 * object key order) so both storage adapters, and any external verifier, get
 * the same bytes. `detail` is hashed as the exact JSON text that is stored.
 */
export function canonicalEvent(e: WardenEvent, detailJson: string | null): string {
  return JSON.stringify([
    e.id, e.ts, e.requestId, e.traceId, e.kind, e.method, e.route, e.status,
    e.durationMs, e.upstreamMs, e.ttftMs, e.keyId, e.userId, e.agentId, e.orgId,
    e.model, e.provider, e.tokensIn, e.tokensOut, e.costUsd, e.clientIp,
    e.userAgent, e.errorType, e.errorCode, e.decision, detailJson,
  ]);
}

/** hash_n = SHA-256(prev_hash_n || "\n" || canonical(event_n)), hex. */
export function chainHash(prevHash: string, e: WardenEvent, detailJson: string | null): string {
  return hash('sha256', `${prevHash}\n${canonicalEvent(e, detailJson)}`, 'hex');
}

export function serializeDetail(detail: WardenEvent['detail']): string | null {
  return detail == null ? null : JSON.stringify(detail);
}
