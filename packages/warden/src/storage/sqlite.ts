import { type FSWatcher, mkdirSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, sql, SqliteDialect, type Selectable } from 'kysely';
import { GENESIS_HASH } from '../audit/chain.js';
import type { WardenEvent } from '../events/event.js';
import { linkBatch } from './chain-batch.js';
import { WalCheckpointer, WAL_AUTOCHECKPOINT_PAGES } from './checkpoints.js';
import { KyselyDirectory } from './directory.js';
import { listKeys, migrateToLatest, migrationStatus, queryEvents, verifyAudit } from './event-log.js';
import { migrationProvider } from './migrations.js';
import { EVENT_INSERT_COLUMNS, KEYS_REVISION, keyToRow, rowToKey, rowValues, type Database, type KeyRow, type RunsTable } from './schema.js';
import { batchRuns, idemKey, KyselyTraceStore, planAppend, rowToRun, runKey, seqCandidates, seqKey, TRACE_EVENT_COLUMNS, traceEventValues, type AppendOutcome, type AppendState, type RunRecord, type TraceEventInput, type TraceStore } from './traces.js';
import type { AuditVerifyResult, Directory, EventPage, EventQuery, KeyRecord, MigrationStatus, Storage } from './types.js';
import { sqlitePathFromUrl } from './url.js';

/**
 * Prepared once, lazily: preparing needs the tables, which do not exist
 * before the first migrate(). Write transactions are IMMEDIATE: a deferred
 * one that reads and then writes can fail with SQLITE_BUSY at the upgrade
 * instead of waiting out busy_timeout.
 */
interface HotPath {
  keyByHash: BetterSqlite3.Statement<[string], KeyRow>;
  revision: BetterSqlite3.Statement<[], number>;
  createKey: (row: KeyRow) => void;
  revokeKey: (id: string, at: number, orgId: string | null) => KeyRow | undefined;
  bumpKeysRevision: () => void;
  appendEvents: (events: readonly WardenEvent[]) => void;
}

function prepareHotPath(db: BetterSqlite3.Database): HotPath {
  const cols = EVENT_INSERT_COLUMNS.join(', ');
  const params = EVENT_INSERT_COLUMNS.map(() => '?').join(', ');
  const keyById = db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE id = ?');
  const insertKey = db.prepare<[KeyRow]>(
    'INSERT INTO keys (id, name, role, prefix, hash, org_id, project_id, models, created_at, revoked_at) ' +
      'VALUES (@id, @name, @role, @prefix, @hash, @org_id, @project_id, @models, @created_at, @revoked_at)',
  );
  const revoke = db.prepare<[{ at: number; id: string; org: string | null }]>(
    'UPDATE keys SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL AND (@org IS NULL OR org_id = @org)',
  );
  const bumpRevision = db.prepare(`UPDATE revisions SET value = value + 1 WHERE name = '${KEYS_REVISION}'`);
  const headHash = db.prepare<[], string>('SELECT hash FROM events ORDER BY seq DESC LIMIT 1').pluck();
  const insertEvent = db.prepare<unknown[]>(`INSERT INTO events (${cols}) VALUES (${params})`);
  const createKey = db.transaction((row: KeyRow) => {
    insertKey.run(row);
    bumpRevision.run();
  });
  const revokeKey = db.transaction((id: string, at: number, orgId: string | null) => {
    if (revoke.run({ at, id, org: orgId }).changes > 0) bumpRevision.run();
    const row = keyById.get(id);
    return row !== undefined && (orgId === null || row.org_id === orgId) ? row : undefined;
  });
  const eventExists = db.prepare<[string], number>('SELECT 1 FROM events WHERE id = ?').pluck();
  const appendEvents = db.transaction((batch: readonly WardenEvent[]) => {
    // A retry of a batch that did commit (its acknowledgement was lost, e.g. the
    // writer thread died after COMMIT): already written, and inserting it again
    // would fail on the unique id forever and wedge the event queue.
    if (eventExists.get(batch[0]!.id) !== undefined) return;
    const rows = linkBatch(headHash.get() ?? GENESIS_HASH, batch);
    for (const row of rows) insertEvent.run(rowValues(row));
  });
  return {
    keyByHash: db.prepare<[string], KeyRow>('SELECT * FROM keys WHERE hash = ?'),
    revision: db.prepare<[], number>(`SELECT value FROM revisions WHERE name = '${KEYS_REVISION}'`).pluck(),
    createKey: (row) => createKey.immediate(row),
    revokeKey: (id, at, orgId) => revokeKey.immediate(id, at, orgId),
    bumpKeysRevision: () => void bumpRevision.run(),
    appendEvents: (batch) => appendEvents.immediate(batch),
  };
}

/**
 * Rows per multi-row INSERT and keys per IN (…) lookup (100 × 12 columns stays far below SQLite's
 * 32,766 parameters). Statements come in a few sizes only, so few are prepared: a remainder is
 * inserted in power-of-two parts, and a lookup is padded to a power of two by repeating a key.
 */
const INSERT_SIZES = [100, 64, 32, 16, 8, 4, 2, 1];
const KEYS_PER_LOOKUP = 512;
const pow2 = (n: number): number => 2 ** Math.ceil(Math.log2(n));

/**
 * Trace appends in one IMMEDIATE transaction, on prepared statements: reads, the shared plan, writes.
 * Keys are looked up and rows inserted many per statement (statements cached by size), so a batch
 * of 100 events crosses into SQLite a few times instead of 200.
 */
function prepareTraceAppend(db: BetterSqlite3.Database): (events: readonly TraceEventInput[]) => AppendOutcome[] {
  const run = db.prepare<[string, string], { status: string; last_seq: number | null }>('SELECT status, last_seq FROM runs WHERE org_id = ? AND id = ?');
  const seq = db.prepare<[string, string, number], number>('SELECT 1 FROM trace_events WHERE org_id = ? AND run_id = ? AND seq = ? LIMIT 1').pluck();
  const sized = <T>(make: (n: number) => T) => {
    const cache = new Map<number, T>();
    return (n: number): T => {
      let stmt = cache.get(n);
      if (!stmt) cache.set(n, (stmt = make(n)));
      return stmt;
    };
  };
  const keysIn = sized((n) => db.prepare<unknown[], string>(`SELECT idempotency_key FROM trace_events WHERE org_id = ? AND idempotency_key IN (${'?, '.repeat(n - 1)}?)`).pluck());
  const row = `(${TRACE_EVENT_COLUMNS.map(() => '?').join(', ')})`;
  const insertRows = sized((n) => db.prepare<unknown[]>(`INSERT INTO trace_events (${TRACE_EVENT_COLUMNS.join(', ')}) VALUES ${Array.from({ length: n }, () => row).join(', ')}`));
  const update = db.prepare<unknown[]>(
    'UPDATE runs SET last_seq = ?, event_count = event_count + ?, error_count = error_count + ?, flagged_count = flagged_count + ?, ' +
      'tokens_in = tokens_in + ?, tokens_out = tokens_out + ?, cost_usd = cost_usd + ? WHERE org_id = ? AND id = ?',
  );
  const append = db.transaction((events: readonly TraceEventInput[]) => {
    const state: AppendState = { runs: new Map(), keys: new Set(), seqs: new Set() };
    for (const [org, id] of batchRuns(events)) {
      const r = run.get(org, id);
      if (r) state.runs.set(runKey(org, id), { status: r.status, lastSeq: r.last_seq });
    }
    const keysByOrg = new Map<string, Set<string>>();
    for (const e of events) {
      if (e.idempotencyKey === null) continue;
      let keys = keysByOrg.get(e.orgId);
      if (!keys) keysByOrg.set(e.orgId, (keys = new Set()));
      keys.add(e.idempotencyKey);
    }
    for (const [org, set] of keysByOrg) {
      const keys = [...set];
      for (let i = 0; i < keys.length; i += KEYS_PER_LOOKUP) {
        const part = keys.slice(i, i + KEYS_PER_LOOKUP);
        const size = pow2(part.length);
        while (part.length < size) part.push(part[0]!);
        for (const found of keysIn(size).all(org, ...part)) state.keys.add(idemKey(org, found));
      }
    }
    for (const e of seqCandidates(events, state.runs)) if (seq.get(e.orgId, e.runId, e.seq) !== undefined) state.seqs.add(seqKey(e.orgId, e.runId, e.seq));
    const plan = planAppend(events, state);
    for (let i = 0; i < plan.rows.length; ) {
      const n = INSERT_SIZES.find((size) => size <= plan.rows.length - i)!;
      insertRows(n).run(...plan.rows.slice(i, i + n).flatMap(traceEventValues));
      i += n;
    }
    for (const d of plan.deltas.values()) update.run(d.lastSeq, d.events, d.errors, d.flagged, d.tokensIn, d.tokensOut, d.costUsd, d.orgId, d.runId);
    return plan.outcomes;
  });
  return (events) => append.immediate(events);
}

class SqliteTraceStore extends KyselyTraceStore {
  #append: ((events: readonly TraceEventInput[]) => AppendOutcome[]) | undefined;
  #runById: BetterSqlite3.Statement<[string, string], Selectable<RunsTable>> | undefined;
  constructor(
    db: Kysely<Database>,
    private readonly raw: BetterSqlite3.Database,
  ) {
    super(db);
  }
  async appendTraceEvents(events: readonly TraceEventInput[]): Promise<AppendOutcome[]> {
    if (events.length === 0) return [];
    this.#append ??= prepareTraceAppend(this.raw);
    return this.#append(events);
  }

  /** On a statement prepared once: every event batch posted to a run looks its run up first. */
  override async getRun(orgId: string, id: string): Promise<RunRecord | undefined> {
    this.#runById ??= this.raw.prepare<[string, string], Selectable<RunsTable>>('SELECT * FROM runs WHERE org_id = ? AND id = ?');
    const row = this.#runById.get(orgId, id);
    return row ? rowToRun(row) : undefined;
  }
}

export function openSqliteDatabase(path: string): BetterSqlite3.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  // WAL lets readers run while a writer commits; NORMAL skips the fsync per
  // commit (a power cut can lose the last commits, never corrupt the file).
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // Checkpoints are the background checkpointer's (checkpoints.ts); this is the backstop.
  db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
  return db;
}

/**
 * SQLite adapter. Writes go through better-sqlite3 transactions directly, not
 * kysely's: kysely's async BEGIN/COMMIT on the shared handle could interleave
 * with a synchronous transaction, which better-sqlite3 would silently nest as
 * a savepoint. Reads and migrations use kysely.
 */
export class SqliteStorage implements Storage {
  readonly kind = 'sqlite' as const;
  readonly raw: BetterSqlite3.Database;
  readonly db: Kysely<Database>;
  readonly #migrator: Migrator;
  readonly directory: Directory;
  readonly traces: TraceStore;
  #hotPath: HotPath | undefined;
  #closed = false;
  readonly #path: string;

  readonly #checkpointer: WalCheckpointer | undefined;

  constructor(url: string, options: { backgroundCheckpoints?: boolean } = {}) {
    this.#path = sqlitePathFromUrl(url);
    this.raw = openSqliteDatabase(this.#path);
    if (options.backgroundCheckpoints && this.#path !== ':memory:') this.#checkpointer = new WalCheckpointer(this.#path);
    this.db = new Kysely<Database>({ dialect: new SqliteDialect({ database: this.raw }) });
    this.#migrator = new Migrator({ db: this.db, provider: migrationProvider('sqlite') });
    this.traces = new SqliteTraceStore(this.db, this.raw);
    this.directory = new KyselyDirectory(this.db, {
      authChanged: async () => {
        this.#hot.bumpKeysRevision();
        this.#revisionStale = true;
      },
    });
  }

  get #hot(): HotPath {
    this.#hotPath ??= prepareHotPath(this.raw);
    return this.#hotPath;
  }

  /**
   * kysely's SQLite migrator takes no lock (it assumes one connection), so
   * two processes starting together could both run 0001. An IMMEDIATE
   * transaction around it serialises them and makes the migration atomic
   * (SQLite DDL is transactional; kysely runs none of its own here).
   * Run it before serving: writes on this handle meanwhile would join it.
   */
  async migrate(): Promise<string[]> {
    this.raw.exec('BEGIN IMMEDIATE');
    try {
      const applied = await migrateToLatest(this.#migrator);
      this.raw.exec('COMMIT');
      return applied;
    } catch (err) {
      if (this.raw.inTransaction) this.raw.exec('ROLLBACK');
      throw err;
    } finally {
      this.#hotPath = undefined;
    }
  }

  migrationStatus(): Promise<MigrationStatus> {
    return migrationStatus(this.#migrator);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#poll);
    this.#watcher?.close();
    await this.#checkpointer?.close();
    await this.db.destroy();
  }

  async createKey(key: KeyRecord): Promise<void> {
    this.#hot.createKey(keyToRow(key));
    this.#revisionStale = true;
  }

  async findKeyByHash(hash: string): Promise<KeyRecord | undefined> {
    const row = this.#hot.keyByHash.get(hash);
    return row === undefined ? undefined : rowToKey(row);
  }

  listKeys(orgId?: string): Promise<KeyRecord[]> {
    return listKeys(this.db, orgId);
  }

  async revokeKey(id: string, at: number, orgId?: string): Promise<KeyRecord | undefined> {
    const row = this.#hot.revokeKey(id, at, orgId ?? null);
    this.#revisionStale = true;
    return row === undefined ? undefined : rowToKey(row);
  }

  /**
   * Served from memory and re-read only when the database may have changed:
   * after this connection changes a key, when the directory watch sees the
   * database or its WAL written (by the CLI, another gateway, our event
   * writer), and at least every second in case the watch is unreliable (some
   * network or container filesystems). A read in WAL mode takes file locks
   * (system calls), which per request cost about 5% of the gateway's CPU.
   * A change committed by another process marks the cache stale before that
   * process even exits, so the next request sees it.
   */
  keysRevision(): number {
    if (this.#revisionStale || this.#revision === undefined) {
      this.#watchForChanges();
      this.#revisionStale = false;
      const value = this.#hot.revision.get();
      if (value === undefined) throw new Error('the revisions table has no "keys" row; run migrations');
      this.#revision = value;
    }
    return this.#revision;
  }

  #revision: number | undefined;
  #revisionStale = true;
  #watcher: FSWatcher | undefined;
  #poll: NodeJS.Timeout | undefined;

  #watchForChanges(): void {
    if (this.#poll || this.#closed) return;
    this.#poll = setInterval(() => (this.#revisionStale = true), 1000);
    this.#poll.unref();
    if (this.#path === ':memory:') return;
    const file = basename(this.#path);
    try {
      this.#watcher = watch(dirname(this.#path), { persistent: false }, (_event, name) => {
        if (!name || name.startsWith(file)) this.#revisionStale = true;
      });
      this.#watcher.on('error', () => this.#watcher?.close()); // the 1 s poll remains
    } catch {
      // No watch support here: the poll is the fallback.
    }
  }

  /**
   * BEGIN IMMEDIATE takes the database write lock before the head is read,
   * so another process cannot link onto the same head; it waits (busy_timeout)
   * instead. One writer at a time also means seq order is commit order. Rows
   * go in through one prepared statement in a loop: inside one transaction
   * that beats compiling a multi-row statement per batch.
   */
  async appendEvents(events: WardenEvent[]): Promise<void> {
    if (events.length > 0) this.#hot.appendEvents(events);
  }

  queryEvents(query: EventQuery): Promise<EventPage> {
    return queryEvents(this.db, query);
  }

  verifyAudit(): Promise<AuditVerifyResult> {
    return verifyAudit(this.db);
  }
}
