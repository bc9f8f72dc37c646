import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sqlitePathFromUrl } from '../storage/url.js';

/**
 * Where large payloads go, content-addressed (`sha256:<hex>`). The interface is
 * what an S3-compatible store needs (put by key, get by key); the filesystem
 * one is the default.
 */
export interface BlobStore {
  /** Stores the bytes durably before it resolves; the same bytes give the same reference. */
  put(bytes: Buffer): Promise<string>;
  get(ref: string): Promise<Buffer | undefined>;
}

const REF = /^sha256:([0-9a-f]{64})$/;

export class FsBlobStore implements BlobStore {
  constructor(private readonly dir: string) {}

  async put(bytes: Buffer): Promise<string> {
    const hex = createHash('sha256').update(bytes).digest('hex');
    const dir = join(this.dir, hex.slice(0, 2));
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${hex}.${process.pid}.${Math.random().toString(36).slice(2)}`);
    // Written and synced before the rename, so a reference the database holds always names a whole file.
    const f = await open(tmp, 'w');
    try {
      await f.writeFile(bytes);
      await f.sync();
    } finally {
      await f.close();
    }
    await rename(tmp, join(dir, hex));
    // The rename itself is durable only once the directory is synced.
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    return `sha256:${hex}`;
  }

  async get(ref: string): Promise<Buffer | undefined> {
    const m = REF.exec(ref);
    if (!m) return undefined;
    try {
      return await readFile(join(this.dir, m[1]!.slice(0, 2), m[1]!));
    } catch {
      return undefined;
    }
  }
}

/** `blobs/` beside the SQLite file; ./.warden/blobs for PostgreSQL and in-memory SQLite. */
export function defaultBlobDir(storageUrl: string): string {
  if (!storageUrl.startsWith('sqlite:')) return './.warden/blobs';
  const path = sqlitePathFromUrl(storageUrl);
  return path === ':memory:' ? './.warden/blobs' : join(dirname(path), 'blobs');
}
