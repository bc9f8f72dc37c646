/** Worker-thread side of WalCheckpointer (checkpoints.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';

const { path, intervalMs, restartPages } = workerData as { path: string; intervalMs: number; restartPages: number };
const db = new BetterSqlite3(path);
db.pragma('busy_timeout = 5000');

const checkpoint = (mode: 'PASSIVE' | 'RESTART') => (db.pragma(`wal_checkpoint(${mode})`) as Array<{ busy: number; log: number; checkpointed: number }>)[0]!;

const timer = setInterval(() => {
  try {
    const { log } = checkpoint('PASSIVE');
    if (log > restartPages) checkpoint('RESTART');
  } catch {
    // Busy or gone for a moment: the next tick tries again, and writers keep their backstop.
  }
}, intervalMs);

parentPort!.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
