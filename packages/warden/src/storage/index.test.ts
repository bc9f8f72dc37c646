import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage, redactUrl, SqliteStorage } from './index.js';

describe('openStorage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-open-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names an unknown URL scheme without echoing the password', async () => {
    const err = await openStorage('mysql://root:hunter2@db.internal/warden').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('"mysql:"');
    expect((err as Error).message).not.toContain('hunter2');
    await expect(openStorage('warden.db')).rejects.toThrow(/no scheme/);
  });

  it('opens a relative sqlite: path, creating missing directories, with WAL and a busy timeout', async () => {
    const file = join(dir, 'a/b/warden.db');
    const store = await openStorage(`sqlite:./${relative(process.cwd(), file)}`);
    try {
      expect(store.kind).toBe('sqlite');
      expect(existsSync(file)).toBe(true);
      const raw = (store as SqliteStorage).raw;
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(raw.pragma('synchronous', { simple: true })).toBe(1);
      expect(raw.pragma('foreign_keys', { simple: true })).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('opens absolute sqlite:/path, sqlite:///path and sqlite::memory: databases that work', async () => {
    for (const url of [`sqlite:${join(dir, 'abs.db')}`, `sqlite://${join(dir, 'abs3.db')}`, 'sqlite::memory:']) {
      const store = await openStorage(url);
      try {
        await store.migrate();
        await store.ping();
        expect((await store.verifyAudit()).ok).toBe(true);
      } finally {
        await store.close();
      }
    }
    expect(existsSync(join(dir, 'abs3.db'))).toBe(true);
  });

  it('chooses the Postgres adapter for postgres:// and postgresql:// without connecting yet', async () => {
    for (const url of ['postgres://u:p@127.0.0.1:1/db', 'postgresql://127.0.0.1:1/db']) {
      const store = await openStorage(url);
      expect(store.kind).toBe('postgres');
      await store.close();
    }
  });
});

describe('redactUrl', () => {
  it('replaces the password and keeps the rest of the URL', () => {
    expect(redactUrl('postgres://warden:s3cret@db:5432/warden')).toBe('postgres://warden:***@db:5432/warden');
    expect(redactUrl('postgresql://u:pa%40ss@h/db?sslmode=require')).toBe('postgresql://u:***@h/db?sslmode=require');
  });

  it('hides passwords with unencoded / ? # @ characters and libpq password= parameters', () => {
    expect(redactUrl('postgres://u:p/a?s#s@w@h/db')).toBe('postgres://u:***@h/db');
    expect(redactUrl('postgres://h/db?user=u&password=pw&x=1')).toBe('postgres://h/db?user=u&password=***&x=1');
  });

  it('leaves URLs without a password unchanged', () => {
    for (const url of ['postgres://u@h:5432/db', 'postgres://h:5432/db', 'sqlite:./data/warden.db', 'sqlite::memory:']) {
      expect(redactUrl(url)).toBe(url);
    }
  });
});
