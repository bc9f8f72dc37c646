import type { StoredEvent, WardenEvent } from '../events/event.js';

export type Role = 'admin' | 'agent' | 'user';
export const ROLES: readonly Role[] = ['admin', 'agent', 'user'];

/** An API key as stored: only its SHA-256 hash, never the key. */
export interface KeyRecord {
  id: string;
  name: string;
  role: Role;
  /** First characters of the key (e.g. `wdn_AbCd`), for people to recognise it. */
  prefix: string;
  /** Hex SHA-256 of the whole key. */
  hash: string;
  orgId: string;
  /** Model glob patterns this key may use; null means every configured model. */
  models: string[] | null;
  createdAt: number;
  revokedAt: number | null;
}

export interface EventQuery {
  /** Inclusive lower bound on ts (epoch ms). */
  from?: number;
  /** Exclusive upper bound on ts (epoch ms). */
  to?: number;
  kinds?: string[];
  keyId?: string;
  model?: string;
  /** Exact status code. */
  status?: number;
  decision?: string;
  /** Opaque cursor from a previous page's nextCursor. */
  cursor?: string;
  /** 1..1000 */
  limit: number;
  /** 'desc' (newest first, the default for listing) or 'asc' (export, consumers). */
  order?: 'asc' | 'desc';
}

export interface EventPage {
  items: StoredEvent[];
  /** Pass back as `cursor` to get the next page; null when there are no more rows. */
  nextCursor: string | null;
}

export type AuditFailureReason = 'hash_mismatch' | 'broken_link';

export interface AuditVerifyResult {
  ok: boolean;
  /** Number of records checked. */
  checked: number;
  /** Hash of the last record checked (the chain head), or the genesis hash when empty. */
  headHash: string;
  /** The first record that does not verify, when ok is false. */
  firstBad?: { seq: number; id: string; reason: AuditFailureReason };
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

/**
 * The one storage seam. Two adapters: SQLite (default, embedded, WAL) and
 * PostgreSQL. Both pass the same test suite against real databases.
 */
export interface Storage {
  readonly kind: 'sqlite' | 'postgres';
  /** Apply pending migrations; returns the names applied now. */
  migrate(): Promise<string[]>;
  migrationStatus(): Promise<MigrationStatus>;
  /** Cheap round trip proving the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;

  createKey(key: KeyRecord): Promise<void>;
  findKeyByHash(hash: string): Promise<KeyRecord | undefined>;
  listKeys(): Promise<KeyRecord[]>;
  /** Marks the key revoked (idempotent); undefined when no key has that id. */
  revokeKey(id: string, at: number): Promise<KeyRecord | undefined>;
  /**
   * A number that changes whenever any key is created or revoked, by this
   * process or any other. Called on every authenticated request, so it must be
   * cheap, and is answered synchronously when it comes from memory: the
   * Postgres adapter keeps it fresh by LISTEN/NOTIFY, the SQLite adapter
   * re-reads one row only after its file watcher saw a change.
   */
  keysRevision(): number | Promise<number>;

  /**
   * Append events to the hash-chained audit log in one transaction, in order.
   * Safe with several writers (processes) on the same database: each batch
   * links to the chain head at its commit.
   */
  appendEvents(events: WardenEvent[]): Promise<void>;
  queryEvents(query: EventQuery): Promise<EventPage>;
  /** Walk the whole chain, recomputing every hash; report the first bad record. */
  verifyAudit(): Promise<AuditVerifyResult>;
}
