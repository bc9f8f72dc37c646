import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { eventsBody, type Op } from './transport.js';

/**
 * Batches (and run creates and finalizes) kept on disk while Warden cannot
 * be reached, one file each, replayed oldest first. A file is written to a
 * temporary name, fsynced, renamed into place and the directory fsynced, so
 * a crash leaves either the whole file or none of it (POSIX rename(2) is
 * atomic). Names start with a zero-padded sequence number: sorting them
 * sorts the queue, across restarts of the process too.
 */

const SPOOL_FILE = /^(\d{16})-[0-9a-f]{8}\.json$/;
/** A temporary file older than this was left by a process that died mid-write. */
const STALE_TMP_MS = 60_000;

export interface SpoolEntry {
  name: string;
  op: Op;
}

export type AppendResult = { ok: true; name: string } | { ok: false; reason: 'full' };

function serialise(op: Op): string {
  if (op.kind === 'events') return `{"v":1,"kind":"events",${eventsBody(op.events).slice(1)}`;
  return JSON.stringify({ v: 1, ...op });
}

function deserialise(text: string): Op {
  const r = JSON.parse(text) as Record<string, unknown>;
  if (r.kind === 'events' && Array.isArray(r.events)) return { kind: 'events', events: r.events.map((e) => JSON.stringify(e)) };
  if (r.kind === 'create_run' && r.run && typeof r.run === 'object') return { kind: 'create_run', run: r.run as Extract<Op, { kind: 'create_run' }>['run'] };
  if (r.kind === 'finalize_run' && typeof r.runId === 'string' && (r.status === 'completed' || r.status === 'failed')) return { kind: 'finalize_run', runId: r.runId, status: r.status };
  throw new Error('not a spool record');
}

export class Spool {
  /** File name → size in bytes, for the names in `order`. */
  private readonly sizes = new Map<string, number>();
  private order: string[] = [];
  private bytes = 0;
  private nextSeq = 0;
  /** Operations run one at a time, so the listing, the sizes and the files agree. */
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  static async open(dir: string, maxBytes: number): Promise<Spool> {
    await mkdir(dir, { recursive: true, mode: 0o700 }); // prompts and tool results: the owner's only
    const spool = new Spool(dir, maxBytes);
    await spool.rescan();
    return spool;
  }

  get count(): number {
    return this.order.length;
  }

  get size(): number {
    return this.bytes;
  }

  /** The last name queued now: what a flush waits to see replayed. */
  get last(): string | undefined {
    return this.order.at(-1);
  }

  has(name: string): boolean {
    return this.sizes.has(name);
  }

  /** Pick up files another process (a previous run of this one) left. */
  rescan(): Promise<void> {
    return this.serial(async () => {
      const now = Date.now();
      for (const name of await readdir(this.dir)) {
        const path = join(this.dir, name);
        if (name.endsWith('.tmp')) {
          const s = await stat(path).catch(() => undefined);
          if (s && now - s.mtimeMs > STALE_TMP_MS) await unlink(path).catch(() => {});
          continue;
        }
        const m = SPOOL_FILE.exec(name);
        if (!m || this.sizes.has(name)) continue;
        const s = await stat(path).catch(() => undefined);
        if (!s) continue;
        this.sizes.set(name, s.size);
        this.bytes += s.size;
        this.nextSeq = Math.max(this.nextSeq, Number(m[1]) + 1);
      }
      this.order = [...this.sizes.keys()].sort();
    });
  }

  append(op: Op): Promise<AppendResult> {
    return this.serial(async () => {
      const data = Buffer.from(serialise(op), 'utf8');
      if (this.bytes + data.length > this.maxBytes) return { ok: false, reason: 'full' } as const;
      const name = `${String(this.nextSeq++).padStart(16, '0')}-${randomBytes(4).toString('hex')}.json`;
      const tmp = join(this.dir, `.${name}.tmp`);
      const fh = await open(tmp, 'wx', 0o600);
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, join(this.dir, name));
      await this.syncDir();
      this.sizes.set(name, data.length);
      this.order.push(name);
      this.bytes += data.length;
      return { ok: true, name } as const;
    });
  }

  /**
   * The oldest entry. A file that cannot be parsed is renamed to
   * `<name>.corrupt` (kept for a person to look at) and reported through
   * `onCorrupt`; the next one is read instead.
   */
  head(onCorrupt: (name: string, err: unknown) => void): Promise<SpoolEntry | undefined> {
    return this.serial(async () => {
      while (this.order.length > 0) {
        const name = this.order[0]!;
        try {
          return { name, op: deserialise(await readFile(join(this.dir, name), 'utf8')) };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
            await rename(join(this.dir, name), join(this.dir, `${name}.corrupt`)).catch(() => {});
            onCorrupt(name, err);
          }
          this.forget(name);
        }
      }
      return undefined;
    });
  }

  /**
   * Take an entry Warden refused for good out of the queue, keeping it on
   * disk as `<name>.rejected` for a person to look at (renamed back to
   * `<name>`, a later client replays it). Returns the new name.
   */
  reject(name: string): Promise<string> {
    return this.serial(async () => {
      const rejected = `${name}.rejected`;
      await rename(join(this.dir, name), join(this.dir, rejected)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      this.forget(name);
      return rejected;
    });
  }

  /** Delete an entry once Warden has acknowledged it. */
  remove(name: string): Promise<void> {
    return this.serial(async () => {
      await unlink(join(this.dir, name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      this.forget(name);
    });
  }

  private forget(name: string): void {
    const size = this.sizes.get(name);
    if (size === undefined) return;
    this.sizes.delete(name);
    this.bytes -= size;
    // Nearly always the head: replay deletes oldest first.
    if (this.order[0] === name) this.order.shift();
    else this.order = this.order.filter((n) => n !== name);
  }

  /** fsync the directory so the rename itself survives a power cut. */
  private async syncDir(): Promise<void> {
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }
}
