import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * The WAL size (pages of 4 KiB) at which a committing connection checkpoints
 * by itself: a backstop, far above what the background checkpointer lets the
 * WAL reach. SQLite's default (1,000 pages) makes every fortieth batch of
 * 100 trace events wait for a checkpoint's copy and fsyncs: about a sixth of
 * the ingestion path's time.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 32_768;

/** How often the background checkpointer looks, and the WAL size at which it rewinds the WAL. */
export interface CheckpointOptions {
  intervalMs?: number;
  restartPages?: number;
}

/** A compiled worker beside this module; under the test runner (sources are .ts), the build output's. */
export function workerFile(name: string, from: string): URL {
  const here = new URL(`./${name}`, from);
  if (existsSync(fileURLToPath(here))) return here;
  // The package's own src/ is the last one in the path (a checkout may live under ~/src/…).
  const at = here.href.lastIndexOf('/src/');
  return new URL(`${here.href.slice(0, at)}/dist/${here.href.slice(at + 5)}`);
}

/**
 * Checkpoints of a SQLite database in WAL mode, on a thread and connection of
 * their own, so commits never wait for them. Every `intervalMs` a PASSIVE
 * checkpoint copies committed pages into the database file without blocking
 * anyone; when the WAL has grown beyond `restartPages` and that pass copied
 * all of it, a RESTART checkpoint copies the frames committed since, holding
 * writers back only for that and the fsync, so that the next writer starts
 * the WAL from its beginning and the file stops growing. It waits at most
 * 10 ms for a lock: a reader on an old snapshot makes it skip a turn, not
 * stall the writers.
 */
export class WalCheckpointer {
  readonly #worker: Worker;
  #closed: Promise<void> | undefined;
  #exited = false;

  constructor(path: string, options: CheckpointOptions = {}) {
    this.#worker = new Worker(workerFile('checkpoint-worker.js', import.meta.url), {
      workerData: { path, intervalMs: options.intervalMs ?? 100, restartPages: options.restartPages ?? 8192 },
    });
    // A checkpointer that fails leaves the committing connections' own checkpoints (the backstop) to do the work.
    this.#worker.on('error', () => undefined);
    this.#worker.once('exit', () => (this.#exited = true));
    this.#worker.unref();
  }

  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      if (this.#exited) return resolve(); // it failed (or never started): nothing to stop
      this.#worker.ref(); // an unref'd worker's exit would not keep a caller awaiting it alive
      this.#worker.once('exit', () => resolve());
      this.#worker.postMessage('close');
      setTimeout(() => void this.#worker.terminate(), 5000).unref();
    });
    return this.#closed;
  }
}
