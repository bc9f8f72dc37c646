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

/** Writes `n` rows of 1 KB, one transaction each, with the connection's own checkpoints off; answers the file sizes seen. */
async function write(path: string, n: number): Promise<{ walMax: number; dbSize: number; rows: number }> {
  const db = openSqliteDatabase(path);
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  let walMax = 0;
  for (let i = 0; i < n; i++) {
    insert.run('x'.repeat(1000));
    if (i % 50 === 0) {
      walMax = Math.max(walMax, statSync(`${path}-wal`).size);
      await new Promise((r) => setTimeout(r, 5)); // let the checkpointer's thread have its turns
    }
  }
  const rows = (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  const dbSize = statSync(path).size;
  db.close();
  return { walMax, dbSize, rows };
}

describe('WalCheckpointer', () => {
  it('copies committed pages into the database file from its own thread and keeps the WAL from growing without bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-ckpt-'));
    dirs.push(dir);
    // Without it, nothing reaches the database file until the connection closes, and the WAL holds every commit.
    const control = join(dir, 'b.db');
    openSqliteDatabase(control).close();
    const without = await write(control, 3000);
    expect(without.dbSize).toBeLessThan(100_000);

    const path = join(dir, 'a.db');
    openSqliteDatabase(path).close();
    const checkpointer = new WalCheckpointer(path, { intervalMs: 5, restartPages: 64 });
    try {
      const withIt = await write(path, 3000);
      expect(withIt.rows).toBe(3000);
      // ~3 MB of rows are in the database file already, and the WAL was rewound over and over instead of holding them all.
      expect(withIt.dbSize).toBeGreaterThan(2_000_000);
      expect(withIt.walMax).toBeLessThan(without.walMax / 3);
    } finally {
      await checkpointer.close();
    }
  });

  it('closes promptly, and a database it was watching stays readable and complete', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-ckpt-'));
    dirs.push(dir);
    const path = join(dir, 'c.db');
    openSqliteDatabase(path).close();
    const checkpointer = new WalCheckpointer(path, { intervalMs: 5, restartPages: 16 });
    await write(path, 500);
    const started = Date.now();
    await checkpointer.close();
    expect(Date.now() - started).toBeLessThan(2000);
    const db = openSqliteDatabase(path);
    expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(500);
    expect((db.pragma('integrity_check') as Array<{ integrity_check: string }>)[0]!.integrity_check).toBe('ok');
    db.close();
  });
});
