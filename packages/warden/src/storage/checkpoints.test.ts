import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WalCheckpointer } from './checkpoints.js';
import { openSqliteDatabase } from './sqlite.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A database in WAL mode whose connection never checkpoints by itself, and a way to add `n` rows of 1 KB, one transaction each. */
function database(path: string) {
  const db = openSqliteDatabase(path);
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  return {
    db,
    write(n: number) {
      for (let i = 0; i < n; i++) insert.run('x'.repeat(1000));
    },
    sizes: () => ({ wal: statSync(`${path}-wal`).size, db: statSync(path).size }),
  };
}

async function until(what: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !what() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
}

describe('WalCheckpointer', () => {
  it('copies committed pages into the database file from its own thread and rewinds the WAL, so it stops growing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-ckpt-'));
    dirs.push(dir);
    // Without it, nothing reaches the database file while the connection is open, and the WAL holds every commit.
    const control = database(join(dir, 'b.db'));
    control.write(1000);
    const before = control.sizes();
    control.write(1000);
    expect(control.sizes().db).toBe(before.db);
    expect(control.sizes().wal).toBeGreaterThan(before.wal * 1.8);
    control.db.close();

    const path = join(dir, 'a.db');
    const a = database(path);
    const checkpointer = new WalCheckpointer(path, { intervalMs: 5, restartPages: 64 });
    try {
      a.write(1000);
      const walAfterFirst = a.sizes().wal;
      // The rows reach the database file without this connection doing anything.
      await until(() => a.sizes().db > 1_000_000);
      expect(a.sizes().db).toBeGreaterThan(1_000_000);
      await new Promise((r) => setTimeout(r, 300)); // a few more of its turns: the restart checkpoint
      a.write(1000);
      // The second thousand rows went into the rewound WAL, over the first's frames, instead of after them.
      expect(a.sizes().wal).toBeLessThanOrEqual(walAfterFirst * 1.1);
      expect((a.db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(2000);
    } finally {
      await checkpointer.close();
      a.db.close();
    }
  });

  it('closes promptly, and a database it was watching stays readable and complete', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-ckpt-'));
    dirs.push(dir);
    const path = join(dir, 'c.db');
    openSqliteDatabase(path).close();
    const checkpointer = new WalCheckpointer(path, { intervalMs: 5, restartPages: 16 });
    const c = database(path);
    c.write(500);
    c.db.close();
    const started = Date.now();
    await checkpointer.close();
    expect(Date.now() - started).toBeLessThan(2000);
    const db = openSqliteDatabase(path);
    expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(500);
    expect((db.pragma('integrity_check') as Array<{ integrity_check: string }>)[0]!.integrity_check).toBe('ok');
    db.close();
  });
});
