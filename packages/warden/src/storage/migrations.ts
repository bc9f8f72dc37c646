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

/**
 * Tenancy and identity: organisations with projects, users and their refresh
 * token families, per-org HMAC signing secrets (sealed), API-managed policy
 * versions, per-org role permission overrides, and sealed system secrets.
 * Keys gain an optional project. Every org-owned row names its org, and every
 * query on it filters by that column.
 */
async function createIdentity(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('orgs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('disabled_at', 'bigint')
    .execute();
  await sql`INSERT INTO orgs (id, name, created_at) VALUES ('default', 'default', 0)`.execute(db);
  await s
    .createTable('projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('projects_org_name', ['org_id', 'name'])
    .execute();
  await s
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text')
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text')
    .addColumn('password_hash', 'text')
    .addColumn('roles', 'text', (c) => c.notNull())
    .addColumn('failed_logins', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('disabled_at', 'bigint')
    .execute();
  await s.createIndex('users_org').on('users').column('org_id').execute();
  await s
    .createTable('refresh_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('family_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
  await s.createIndex('refresh_tokens_family').on('refresh_tokens').column('family_id').execute();
  await s.createIndex('refresh_tokens_user').on('refresh_tokens').column('user_id').execute();
  await s
    .createTable('signing_secrets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
  await s
    .createTable('policies')
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    // null text: the policy was deleted in this version.
    .addColumn('text', 'text')
    .addColumn('actor', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('policies_pk', ['org_id', 'name', 'version'])
    .execute();
  await s
    .createTable('role_permissions')
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('permissions', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('role_permissions_pk', ['org_id', 'role'])
    .execute();
  await s
    .createTable('system_secrets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('sealed', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await s.alterTable('keys').addColumn('project_id', 'text').execute();
  await s.createIndex('keys_org').on('keys').column('org_id').execute();
  await sql`INSERT INTO revisions (name, value) VALUES ('policies', 0)`.execute(db);
}

/** Agent runs and their trace events (the ingestion API). */
async function createTraces(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  const s = db.schema;
  await s
    .createTable('runs')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('project_id', 'text')
    .addColumn('agent', 'text', (c) => c.notNull())
    .addColumn('scenario', 'text')
    .addColumn('seed', 'text')
    .addColumn('metadata', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('finalized_at', 'bigint')
    .addColumn('last_seq', 'bigint')
    .addColumn('event_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('error_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('flagged_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('tokens_in', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('tokens_out', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_usd', 'double precision', (c) => c.notNull().defaultTo(0))
    // Run ids are the org's own: two orgs may use the same, and neither learns of the other's.
    .addPrimaryKeyConstraint('runs_pk', ['org_id', 'id'])
    .execute();
  await s.createIndex('runs_org_created').on('runs').columns(['org_id', 'created_at']).execute();
  await s.createIndex('runs_org_agent').on('runs').columns(['org_id', 'agent', 'created_at']).execute();
  await s
    .createTable('trace_events')
    .addColumn('id', dialect === 'sqlite' ? 'integer' : 'bigint', (c) =>
      dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey().generatedAlwaysAsIdentity(),
    )
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('t', 'double precision', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('payload', 'text')
    .addColumn('blob', 'text')
    .addColumn('meta', 'text')
    .addColumn('idempotency_key', 'text')
    .addColumn('flags', 'text')
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('trace_events_run_seq').on('trace_events').columns(['org_id', 'run_id', 'seq']).execute();
  await s.createIndex('trace_events_idem').on('trace_events').columns(['org_id', 'idempotency_key']).unique().execute();
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
    '0002_tenancy_identity': {
      async up(db) {
        await createIdentity(db);
      },
    },
    '0003_limit_rules': {
      async up(db) {
        // Per-org limits set through the admin API (config rules stay in the config).
        await db.schema
          .createTable('limit_rules')
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('rule', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('limit_rules_pk', ['org_id', 'name'])
          .execute();
      },
    },
    '0004_traces': {
      async up(db) {
        await createTraces(db, dialect);
      },
    },
    '0005_run_evaluation_progress': {
      async up(db) {
        // The post-run evaluation, as JSON text, set when the run is finalized.
        await db.schema.alterTable('runs').addColumn('evaluation', 'text').execute();
        await db.schema
          .createTable('run_progress')
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('t', 'bigint', (c) => c.notNull())
          .addColumn('percent', 'double precision', (c) => c.notNull())
          .addColumn('status', 'text')
          .addColumn('message', 'text')
          .addColumn('step', 'text')
          .execute();
        await db.schema.createIndex('run_progress_run').on('run_progress').columns(['org_id', 'run_id', 't']).execute();
      },
    },
    '0006_spans': {
      async up(db) {
        await db.schema
          .createTable('spans')
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('trace_id', 'text', (c) => c.notNull())
          .addColumn('span_id', 'text', (c) => c.notNull())
          .addColumn('parent_span_id', 'text')
          .addColumn('run_id', 'text')
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('kind', 'integer', (c) => c.notNull())
          .addColumn('start_ns', 'text', (c) => c.notNull())
          .addColumn('end_ns', 'text', (c) => c.notNull())
          .addColumn('status_code', 'integer', (c) => c.notNull())
          .addColumn('status_message', 'text')
          .addColumn('attributes', 'text', (c) => c.notNull())
          .addColumn('events', 'text')
          .addColumn('links', 'text')
          .addColumn('resource', 'text')
          .addColumn('scope', 'text')
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          // A re-sent span (an exporter's retry) is the same span: stored once.
          .addPrimaryKeyConstraint('spans_pk', ['org_id', 'trace_id', 'span_id'])
          .execute();
        await db.schema.createIndex('spans_run').on('spans').columns(['org_id', 'run_id']).execute();
      },
    },
    '0007_mcp_servers': {
      async up(db) {
        // MCP servers an org registers through the admin API (config servers stay in the config).
        await db.schema
          .createTable('mcp_servers')
          .addColumn('org_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('url', 'text', (c) => c.notNull())
          // The request headers (the server's credentials) as one SecretBox envelope, AAD mcp_server:<org>/<name>.
          .addColumn('sealed_headers', 'text')
          .addColumn('settings', 'text', (c) => c.notNull())
          .addColumn('updated_by', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('mcp_servers_pk', ['org_id', 'name'])
          .execute();
      },
    },
  };
}

export function migrationProvider(dialect: SqlDialect): MigrationProvider {
  const migrations = buildMigrations(dialect);
  return { getMigrations: () => Promise.resolve(migrations) };
}
