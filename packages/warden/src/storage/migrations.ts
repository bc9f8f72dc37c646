import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

export type SqlDialect = 'sqlite' | 'postgres';

/** Nullable event columns after the fixed head (seq, id, ts, request_id). */
const EVENT_COLUMNS: readonly [name: string, type: 'text' | 'integer' | 'double precision'][] = [
  ['trace_id', 'text'], ['kind', 'text'], ['method', 'text'], ['route', 'text'],
  ['status', 'integer'], ['duration_ms', 'double precision'], ['upstream_ms', 'double precision'],
  ['ttft_ms', 'double precision'], ['key_id', 'text'], ['user_id', 'text'], ['agent_id', 'text'],
  ['org_id', 'text'], ['model', 'text'], ['provider', 'text'], ['tokens_in', 'integer'],
  ['tokens_out', 'integer'], ['cost_usd', 'double precision'], ['client_ip', 'text'],
  ['user_agent', 'text'], ['error_type', 'text'], ['error_code', 'text'], ['decision', 'text'],
  // TEXT, not jsonb: jsonb re-orders keys and drops whitespace, and the hash
  // covers the exact bytes serializeDetail produced.
  ['detail', 'text'],
];

const NOT_NULL = new Set(['kind']);

async function createKeysAndRevisions(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('models', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema
    .createTable('revisions')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'bigint', (c) => c.notNull())
    .execute();
  await sql`INSERT INTO revisions (name, value) VALUES ('keys', 0)`.execute(db);
}

async function createEvents(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  // AUTOINCREMENT (not a bare rowid alias) so a seq is never reused, even
  // after the newest row is removed by someone bypassing the trigger.
  let table = db.schema
    .createTable('events')
    .addColumn('seq', dialect === 'sqlite' ? 'integer' : 'bigint', (c) =>
      dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey().generatedAlwaysAsIdentity(),
    )
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull());
  for (const [name, type] of EVENT_COLUMNS) {
    table = table.addColumn(name, type, (c) => (NOT_NULL.has(name) ? c.notNull() : c));
  }
  await table
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  const indexes: [string, string[]][] = [
    ['events_ts', ['ts']],
    ['events_kind_ts', ['kind', 'ts']],
    ['events_key_ts', ['key_id', 'ts']],
    ['events_model_ts', ['model', 'ts']],
  ];
  for (const [name, columns] of indexes) {
    await db.schema.createIndex(name).on('events').columns(columns).execute();
  }
}

/**
 * The audit log must not be edited in place. This stops accidents and
 * application bugs; someone with DDL rights can still drop the trigger, which
 * is what the hash chain (verifyAudit) is there to catch.
 */
async function makeEventsAppendOnly(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  if (dialect === 'sqlite') {
    for (const op of ['UPDATE', 'DELETE']) {
      await sql
        .raw(
          `CREATE TRIGGER events_no_${op.toLowerCase()} BEFORE ${op} ON events ` +
            `BEGIN SELECT RAISE(ABORT, 'events is append-only'); END`,
        )
        .execute(db);
    }
    return;
  }
  await sql`
    CREATE OR REPLACE FUNCTION warden_events_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'events is append-only' USING ERRCODE = 'insufficient_privilege';
    END
    $$`.execute(db);
  await sql`
    CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION warden_events_append_only()`.execute(db);
  // Row triggers do not fire on TRUNCATE.
  await sql`
    CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION warden_events_append_only()`.execute(db);
}

/** Migrations for one dialect. Names sort in the order they must run. */
export function buildMigrations(dialect: SqlDialect): Record<string, Migration> {
  return {
    '0001_init': {
      async up(db) {
        await createKeysAndRevisions(db);
        await createEvents(db, dialect);
        await makeEventsAppendOnly(db, dialect);
      },
    },
  };
}

export function migrationProvider(dialect: SqlDialect): MigrationProvider {
  const migrations = buildMigrations(dialect);
  return { getMigrations: () => Promise.resolve(migrations) };
}
