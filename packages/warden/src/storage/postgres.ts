import { Kysely, Migrator, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { GENESIS_HASH } from '../audit/chain.js';
import type { WardenEvent } from '../events/event.js';
import { linkBatch } from './chain-batch.js';
import { KyselyDirectory } from './directory.js';
import { listKeys, migrateToLatest, migrationStatus, queryEvents, verifyAudit } from './event-log.js';
import { KEYS_CHANNEL, KeyRevisionListener, type StorageLogger } from './key-revision-listener.js';
import { migrationProvider } from './migrations.js';
import { EVENT_INSERT_COLUMNS, KEYS_REVISION, keyToRow, rowToKey, type Database } from './schema.js';
import { batchRuns, idemKey, KyselyTraceStore, planAppend, runKey, seqCandidates, seqKey, TRACE_EVENT_COLUMNS, traceEventValues, type AppendOutcome, type AppendState, type TraceEventInput, type TraceStore } from './traces.js';
import type { AuditVerifyResult, Directory, EventPage, EventQuery, KeyRecord, MigrationStatus, Storage } from './types.js';

export interface PostgresStorageOptions {
  log?: StorageLogger | undefined;
  /** Pool size (default 10). */
  max?: number;
}

/** Advisory lock key serialising chain appends ("WARDEN" in ASCII). */
const CHAIN_LOCK = 0x5741_5244_454e;
/** Bind parameters per statement are capped at 65535 by the wire protocol. */
const INSERT_CHUNK = Math.floor(65_000 / EVENT_INSERT_COLUMNS.length);

const INT8_OID = 20;
const TRACE_CHUNK = Math.floor(65_000 / TRACE_EVENT_COLUMNS.length);

/**
 * Appends lock the batch's runs (FOR UPDATE): two batches for one run commit one after the
 * other, so each sees the sequence numbers and idempotency keys the other stored.
 */
class PostgresTraceStore extends KyselyTraceStore {
  /**
   * Two batches for different runs may carry the same idempotency key at once; the second
   * insert then violates the unique index (23505). Tried again, it sees the key and counts
   * the event as a duplicate.
   */
  async appendTraceEvents(events: readonly TraceEventInput[]): Promise<AppendOutcome[]> {
    if (events.length === 0) return [];
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#append(events);
      } catch (err) {
        if ((err as { code?: string }).code !== '23505' || attempt >= 3) throw err;
      }
    }
  }

  #append(events: readonly TraceEventInput[]): Promise<AppendOutcome[]> {
    return this.db.transaction().execute(async (trx) => {
      const named = batchRuns(events);
      const state: AppendState = { runs: new Map(), keys: new Set(), seqs: new Set() };
      const runs = await trx
        .selectFrom('runs')
        .select(['id', 'org_id', 'status', 'last_seq'])
        .where((eb) => eb.or(named.map(([org, id]) => eb.and([eb('org_id', '=', org), eb('id', '=', id)]))))
        .orderBy('org_id')
        .orderBy('id')
        .forUpdate()
        .execute();
      for (const r of runs) state.runs.set(runKey(r.org_id, r.id), { status: r.status, lastSeq: r.last_seq });
      const keys = [...new Set(events.flatMap((e) => (e.idempotencyKey === null ? [] : [e.idempotencyKey])))];
      if (keys.length > 0) {
        const orgs = [...new Set(events.map((e) => e.orgId))];
        const found = await trx.selectFrom('trace_events').select(['org_id', 'idempotency_key']).where('org_id', 'in', orgs).where('idempotency_key', 'in', keys).execute();
        for (const f of found) state.keys.add(idemKey(f.org_id, f.idempotency_key!));
      }
      const candidates = seqCandidates(events, state.runs);
      if (candidates.length > 0) {
        const found = await trx
          .selectFrom('trace_events')
          .select(['org_id', 'run_id', 'seq'])
          .where('org_id', 'in', [...new Set(candidates.map((e) => e.orgId))])
          .where('run_id', 'in', [...new Set(candidates.map((e) => e.runId))])
          .where('seq', 'in', [...new Set(candidates.map((e) => e.seq))])
          .execute();
        for (const f of found) state.seqs.add(seqKey(f.org_id, f.run_id, f.seq));
      }
      const plan = planAppend(events, state);
      const rows = plan.rows.map((row) => {
        const values = traceEventValues(row);
        return Object.fromEntries(TRACE_EVENT_COLUMNS.map((c, i) => [c, values[i]]));
      });
      for (let i = 0; i < rows.length; i += TRACE_CHUNK) await trx.insertInto('trace_events').values(rows.slice(i, i + TRACE_CHUNK) as never).execute();
      for (const d of plan.deltas.values()) {
        await trx
          .updateTable('runs')
          .set((eb) => ({
            last_seq: d.lastSeq,
            event_count: eb('event_count', '+', d.events),
            error_count: eb('error_count', '+', d.errors),
            flagged_count: eb('flagged_count', '+', d.flagged),
            tokens_in: eb('tokens_in', '+', d.tokensIn),
            tokens_out: eb('tokens_out', '+', d.tokensOut),
            cost_usd: eb('cost_usd', '+', d.costUsd),
          }))
          .where('org_id', '=', d.orgId)
          .where('id', '=', d.runId)
          .execute();
      }
      return plan.outcomes;
    });
  }
}

/**
 * Per-pool type parsing: int8 (bigint columns, count(*)) as a JS number.
 * Epoch-ms timestamps and seq stay far below 2^53. Set here, not on the global
 * pg.types, so other pg users in the process keep pg's defaults.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

export class PostgresStorage implements Storage {
  readonly kind = 'postgres' as const;
  readonly pool: pg.Pool;
  readonly db: Kysely<Database>;
  readonly #migrator: Migrator;
  readonly #revision: KeyRevisionListener;
  readonly directory: Directory;
  readonly traces: TraceStore;
  #closing: Promise<void> | undefined;

  constructor(url: string, options: PostgresStorageOptions = {}) {
    this.pool = new pg.Pool({ connectionString: url, types, max: options.max ?? 10 });
    // An idle pooled client whose server goes away emits 'error' on the pool;
    // unhandled, that would crash the process. The pool drops the client itself.
    this.pool.on('error', (err) => options.log?.warn({ err }, 'storage: idle PostgreSQL connection failed'));
    // A checked-out client has no pool listener: a server-side termination that
    // arrives between two queries (no query active to reject) would be an
    // uncaught 'error'. This one stays for the client's life; the pending query
    // still rejects and the pool discards the broken client on release.
    this.pool.on('connect', (client) => {
      client.on('error', (err) => options.log?.warn({ err }, 'storage: PostgreSQL connection failed while in use'));
    });
    this.db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: this.pool }) });
    this.#migrator = new Migrator({ db: this.db, provider: migrationProvider('postgres') });
    this.traces = new PostgresTraceStore(this.db);
    this.#revision = new KeyRevisionListener({
      connectionString: url,
      read: () => this.#readRevision(),
      log: options.log,
    });
    this.directory = new KyselyDirectory(this.db, {
      authChanged: async () => {
        this.#revision.observe(await this.db.transaction().execute(bumpRevision));
      },
    });
  }

  migrate(): Promise<string[]> {
    return migrateToLatest(this.#migrator);
  }

  migrationStatus(): Promise<MigrationStatus> {
    return migrationStatus(this.#migrator);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#revision.close();
      await this.db.destroy();
    })();
    return this.#closing;
  }

  async createKey(key: KeyRecord): Promise<void> {
    const revision = await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('keys').values(keyToRow(key)).execute();
      return bumpRevision(trx);
    });
    this.#revision.observe(revision);
  }

  async findKeyByHash(hash: string): Promise<KeyRecord | undefined> {
    const row = await this.db.selectFrom('keys').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row === undefined ? undefined : rowToKey(row);
  }

  listKeys(orgId?: string): Promise<KeyRecord[]> {
    return listKeys(this.db, orgId);
  }

  async revokeKey(id: string, at: number, orgId?: string): Promise<KeyRecord | undefined> {
    const { row, revision } = await this.db.transaction().execute(async (trx) => {
      let update = trx.updateTable('keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null);
      if (orgId !== undefined) update = update.where('org_id', '=', orgId);
      const revoked = await update.returningAll().executeTakeFirst();
      if (revoked !== undefined) return { row: revoked, revision: await bumpRevision(trx) };
      // Already revoked (keep the first revokedAt) or no such key (in that org).
      let select = trx.selectFrom('keys').selectAll().where('id', '=', id);
      if (orgId !== undefined) select = select.where('org_id', '=', orgId);
      const existing = await select.executeTakeFirst();
      return { row: existing, revision: undefined };
    });
    if (revision !== undefined) this.#revision.observe(revision);
    return row === undefined ? undefined : rowToKey(row);
  }

  /**
   * From memory once the listener has read it; the first call (or any call
   * before a successful read) goes to the database.
   */
  keysRevision(): number | Promise<number> {
    this.#revision.start();
    return this.#revision.current ?? this.#revision.refresh();
  }

  /**
   * The advisory lock is held until commit, so batches are appended one at a
   * time across every process: each reads the head committed by the previous
   * holder (READ COMMITTED takes a fresh snapshot per statement, and the lock
   * is released only after the commit is visible). It also closes the usual
   * Postgres sequence trap: identity values are normally handed out before
   * commit, so a row with a lower seq can become visible after a higher one
   * and a consumer reading `seq > cursor` would skip it for good. Under this
   * lock seq order = chain order = commit order, so that cannot happen.
   */
  async appendEvents(events: WardenEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${sql.lit(CHAIN_LOCK)})`.execute(trx);
      // A retry of a batch that did commit (its acknowledgement was lost): already written.
      const seen = await trx.selectFrom('events').select('seq').where('id', '=', events[0]!.id).executeTakeFirst();
      if (seen) return;
      const head = await trx.selectFrom('events').select('hash').orderBy('seq', 'desc').limit(1).executeTakeFirst();
      const rows = linkBatch(head?.hash ?? GENESIS_HASH, events);
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await trx.insertInto('events').values(rows.slice(i, i + INSERT_CHUNK)).execute();
      }
    });
  }

  queryEvents(query: EventQuery): Promise<EventPage> {
    return queryEvents(this.db, query);
  }

  verifyAudit(): Promise<AuditVerifyResult> {
    return verifyAudit(this.db);
  }

  #readRevision(): Promise<number> {
    return this.db
      .selectFrom('revisions')
      .select('value')
      .where('name', '=', KEYS_REVISION)
      .executeTakeFirstOrThrow()
      .then((r) => r.value);
  }
}

/** NOTIFY is queued and delivered only if the surrounding transaction commits. */
async function bumpRevision(trx: Transaction<Database>): Promise<number> {
  const { value } = await trx
    .updateTable('revisions')
    .set((eb) => ({ value: eb('value', '+', 1) }))
    .where('name', '=', KEYS_REVISION)
    .returning('value')
    .executeTakeFirstOrThrow();
  await sql`SELECT pg_notify(${KEYS_CHANNEL}, ${String(value)})`.execute(trx);
  return value;
}
