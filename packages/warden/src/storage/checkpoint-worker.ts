/** Worker-thread side of WalCheckpointer (checkpoints.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';

const { path, intervalMs, restartPages } = workerData as { path: string; intervalMs: number; restartPages: number };
const db = new BetterSqlite3(path);
// Hardly wait: a checkpoint that cannot have what it needs within 10 ms (a reader on an
// old snapshot, a writer mid-commit) gives up and is tried again on the next tick. A
// RESTART that waited longer would hold every writer back for as long as it waited.
db.pragma('busy_timeout = 10');

const checkpoint = (mode: 'PASSIVE' | 'RESTART') => (db.pragma(`wal_checkpoint(${mode})`) as Array<{ busy: number; log: number; checkpointed: number }>)[0]!;

const timer = setInterval(() => {
  try {
    const { log, checkpointed } = checkpoint('PASSIVE');
    // Rewind only once everything is copied: the restart then has only the frames
    // committed since to copy, and no reader can be left on the ones before.
    if (log > restartPages && checkpointed === log) checkpoint('RESTART');
  } catch {
    // Busy or gone for a moment: the next tick tries again, and writers keep their backstop.
  }
}, intervalMs);

parentPort!.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
