import type { Kysely, Migrator } from 'kysely';
import { chainHash, GENESIS_HASH } from '../audit/chain.js';
import { rowToEventFields, rowToKey, rowToStoredEvent, type Database, type EventRow } from './schema.js';
import type { AuditVerifyResult, EventPage, EventQuery, KeyRecord, MigrationStatus } from './types.js';

export type StorageErrorCode = 'invalid_cursor';

/** An expected failure the HTTP layer maps by `code` (invalid_cursor → 400). */
export class StorageError extends Error {
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string) {
    super(message);
    this.name = 'StorageError';
    this.code = code;
  }
}

const MAX_LIMIT = 1000;
const VERIFY_PAGE = 1000;

export function encodeCursor(seq: number): string {
  return Buffer.from(String(seq), 'utf8').toString('base64url');
}

/** Strict: Node's base64 decoder skips junk, so the result must re-encode to the input. */
export function decodeCursor(cursor: string): number {
  if (/^[A-Za-z0-9_-]{1,24}$/.test(cursor)) {
    const text = Buffer.from(cursor, 'base64url').toString('utf8');
    const seq = Number(text);
    if (/^(0|[1-9]\d{0,15})$/.test(text) && Number.isSafeInteger(seq) && encodeCursor(seq) === cursor) {
      return seq;
    }
  }
  throw new StorageError('invalid_cursor', 'The cursor is not valid. Pass the nextCursor value from a previous page unchanged.');
}

function clampLimit(limit: number): number {
  if (!Number.isFinite(limit)) return MAX_LIMIT;
  return Math.min(MAX_LIMIT, Math.max(1, Math.trunc(limit)));
}

/**
 * Keyset pagination on seq: seq is assigned under the chain lock, so a page
 * boundary never moves when rows are appended between pages.
 */
export async function queryEvents(db: Kysely<Database>, q: EventQuery): Promise<EventPage> {
  const limit = clampLimit(q.limit);
  const order = q.order ?? 'desc';
  let query = db.selectFrom('events').selectAll();
  if (q.orgId !== undefined) query = query.where('org_id', '=', q.orgId);
  if (q.from !== undefined) query = query.where('ts', '>=', q.from);
  if (q.to !== undefined) query = query.where('ts', '<', q.to);
  // An empty list is treated as "no kind filter", not "match nothing".
  if (q.kinds !== undefined && q.kinds.length > 0) query = query.where('kind', 'in', q.kinds);
  if (q.keyId !== undefined) query = query.where('key_id', '=', q.keyId);
  if (q.model !== undefined) query = query.where('model', '=', q.model);
  if (q.status !== undefined) query = query.where('status', '=', q.status);
  if (q.decision !== undefined) query = query.where('decision', '=', q.decision);
  if (q.cursor !== undefined) {
    query = query.where('seq', order === 'desc' ? '<' : '>', decodeCursor(q.cursor));
  }
  // One extra row tells whether another page exists without a count query.
  const rows = await query.orderBy('seq', order).limit(limit + 1).execute();
  const page = rows.length > limit ? rows.slice(0, limit) : rows;
  const last = page.at(-1);
  return {
    items: page.map(rowToStoredEvent),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.seq) : null,
  };
}

type BadRecord = NonNullable<AuditVerifyResult['firstBad']>;

function checkRecord(row: EventRow, expectedPrev: string): BadRecord | undefined {
  if (row.prev_hash !== expectedPrev) return { seq: row.seq, id: row.id, reason: 'broken_link' };
  if (chainHash(row.prev_hash, rowToEventFields(row), row.detail) !== row.hash) {
    return { seq: row.seq, id: row.id, reason: 'hash_mismatch' };
  }
  return undefined;
}

/**
 * Walks the chain a page at a time so memory stays flat however long the log
 * is. Stops at the head seen when it started, so a busy writer cannot keep it
 * running forever. On failure, `checked` counts the bad record and `headHash`
 * is the hash of the last record that verified.
 */
export async function verifyAudit(db: Kysely<Database>): Promise<AuditVerifyResult> {
  const head = await db.selectFrom('events').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  let prev = GENESIS_HASH;
  let checked = 0;
  let after = 0;
  while (head !== undefined) {
    const rows = await db
      .selectFrom('events')
      .selectAll()
      .where('seq', '>', after)
      .where('seq', '<=', head.seq)
      .orderBy('seq', 'asc')
      .limit(VERIFY_PAGE)
      .execute();
    for (const row of rows) {
      checked++;
      const bad = checkRecord(row, prev);
      if (bad !== undefined) return { ok: false, checked, headHash: prev, firstBad: bad };
      prev = row.hash;
      after = row.seq;
    }
    if (rows.length < VERIFY_PAGE) break;
  }
  return { ok: true, checked, headHash: prev };
}

export async function migrationStatus(migrator: Migrator): Promise<MigrationStatus> {
  const all = await migrator.getMigrations();
  return {
    applied: all.filter((m) => m.executedAt !== undefined).map((m) => m.name),
    pending: all.filter((m) => m.executedAt === undefined).map((m) => m.name),
  };
}

/** Runs the migrator and turns its result object into a throw on failure. */
export async function migrateToLatest(migrator: Migrator): Promise<string[]> {
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    const which = failed === undefined ? 'storage migration' : `storage migration ${failed}`;
    throw new Error(`${which} failed: ${reason}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export async function listKeys(db: Kysely<Database>, orgId?: string): Promise<KeyRecord[]> {
  let q = db.selectFrom('keys').selectAll();
  if (orgId !== undefined) q = q.where('org_id', '=', orgId);
  return (await q.orderBy('created_at').orderBy('id').execute()).map(rowToKey);
}
