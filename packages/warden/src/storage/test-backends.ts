// Test helper (not a test): a real database per storage adapter, shared by the storage test suites.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { openStorage } from './index.js';
import type { Storage } from './types.js';
import { redactUrl } from './url.js';

/** A real database server or file per adapter; each test gets a fresh database. */
export interface Backend {
  name: 'sqlite' | 'postgres';
  setup(): Promise<void>;
  teardown(): Promise<void>;
  freshUrl(): Promise<string>;
  dropTriggers: string[];
}

export function sqliteBackend(): Backend {
  let dir = '';
  let n = 0;
  return {
    name: 'sqlite',
    setup: async () => {
      dir = mkdtempSync(join(tmpdir(), 'warden-storage-'));
    },
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
    freshUrl: async () => `sqlite:${join(dir, `nested/db-${++n}.db`)}`,
    dropTriggers: ['DROP TRIGGER events_no_update', 'DROP TRIGGER events_no_delete'],
  };
}

const PG_URL = process.env.WARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * An unreachable server is recorded, not thrown from beforeAll: vitest would
 * then report every test as skipped. Each test fails with the reason instead.
 */
export function postgresBackend(): Backend {
  let admin: pg.Client | undefined;
  let unreachable: Error | undefined;
  const created: string[] = [];
  const run = `warden_test_${process.pid}_${Date.now()}`;
  return {
    name: 'postgres',
    setup: async () => {
      const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        admin = client;
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        unreachable = new Error(
          `PostgreSQL is not reachable at ${redactUrl(PG_URL)} (${reason}). ` +
            'These tests need a real server: start it, or point WARDEN_TEST_PG_URL at one.',
        );
      }
    },
    teardown: async () => {
      for (const name of created) await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin?.end();
    },
    freshUrl: async () => {
      if (admin === undefined) throw unreachable ?? new Error('PostgreSQL test setup did not run');
      const name = `${run}_${created.length + 1}`;
      await admin.query(`CREATE DATABASE ${name}`);
      created.push(name);
      const url = new URL(PG_URL);
      url.pathname = `/${name}`;
      return url.toString();
    },
    dropTriggers: ['DROP TRIGGER events_append_only ON events'],
  };
}


/**
 * Inside a describe for one backend: its setup and teardown hooks, and a function that opens
 * a fresh, migrated store, closed after each test.
 */
export function migratedStores(backend: Backend): () => Promise<Storage> {
  const opened: Storage[] = [];
  beforeAll(() => backend.setup(), 15_000);
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  afterAll(() => backend.teardown(), 30_000);
  return async () => {
    const store = await openStorage(await backend.freshUrl());
    opened.push(store);
    await store.migrate();
    return store;
  };
}
