/**
 * The master key file on disk: read it only if nobody else can, and write it
 * so that a crash or a concurrent start never leaves a half-written or
 * clobbered file — losing this file means losing every stored secret.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MasterKeyError } from './errors.js';

/** Windows has no POSIX mode bits; there the file's ACL is the operator's business. */
const POSIX = process.platform !== 'win32';

const HEADER = [
  '# Warden master keys, one per line. The first key seals new secrets;',
  '# later keys are previous ones, kept only so older secrets still open.',
  '# Keep this file private (chmod 600) and back it up: without it the',
  '# stored provider keys and signing secrets cannot be decrypted.',
];

export interface KeyFileLine {
  /** 1-based line number, for error messages. */
  readonly line: number;
  readonly text: string;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Quote a path for the `chmod` hint only when the shell would split or expand it. */
function shellQuote(path: string): string {
  return /^[\w./@%+=:,-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/**
 * The key lines of the file (blank lines and `#` comments dropped), or
 * undefined when the file does not exist. Refuses a file other users can
 * read or write, as ssh does for private keys.
 */
export function readKeyFileLines(path: string): KeyFileLine[] | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined;
    throw new MasterKeyError(`cannot read the master key file ${path}: ${(err as Error).message}`);
  }
  try {
    // Checked on the open descriptor, not the path, so swapping the file between check and read gains nothing.
    const st = fstatSync(fd);
    if (!st.isFile()) throw new MasterKeyError(`the master key file ${path} is not a regular file`);
    if (POSIX && (st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
      throw new MasterKeyError(
        `the master key file ${path} is readable or writable by other users (mode ${mode}); ` +
          `restrict it with: chmod 600 ${shellQuote(path)}`,
      );
    }
    const out: KeyFileLine[] = [];
    readFileSync(fd, 'utf8')
      .split(/\r?\n/)
      .forEach((raw, i) => {
        const text = raw.trim();
        if (text && !text.startsWith('#')) out.push({ line: i + 1, text });
      });
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Best effort: make the rename itself durable. Not every platform can fsync a directory. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows and some network filesystems refuse; the file's own fsync already happened.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Write `keys` (current first) to `path` with mode 0600 via a temporary file
 * in the same directory. `create` never replaces an existing file and
 * returns false if one appeared meanwhile (two gateways starting at once must
 * agree on one key); `replace` swaps the file atomically.
 */
export function writeKeyFile(path: string, keys: readonly string[], mode: 'create' | 'replace'): boolean {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      // The umask can only remove bits from 0600, but set it explicitly so the result never depends on it.
      if (POSIX) fchmodSync(fd, 0o600);
      writeSync(fd, [...HEADER, ...keys, ''].join('\n'));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (mode === 'create') {
      try {
        // link(2) fails with EEXIST instead of overwriting: an atomic "create if absent" for a complete file.
        linkSync(tmp, path);
      } catch (err) {
        if (errno(err) === 'EEXIST') return false;
        // Filesystems without hard links: fall back to rename, losing only the no-clobber guarantee.
        renameSync(tmp, path);
      }
    } else {
      renameSync(tmp, path);
    }
    syncDirectory(dir);
    return true;
  } catch (err) {
    if (err instanceof MasterKeyError) throw err;
    throw new MasterKeyError(`cannot write the master key file ${path}: ${(err as Error).message}`);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed away, or never created.
    }
  }
}
