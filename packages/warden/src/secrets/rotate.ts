/**
 * Master key rotation, independent of storage. The order matters, because a
 * running gateway only knows the keys it loaded at start-up:
 *   1. writeRotatedKeyFile — new key first, old keys kept as previous lines;
 *   2. restart the gateways, so they open both and seal with the new key;
 *   3. rotateMasterKey — re-seal every row still under an old key (re-runnable);
 *   4. verifySealedRecords, then dropPreviousKeys once nothing is stale.
 */
import { SecretBoxError, MasterKeyError, type SecretBoxErrorReason } from './errors.js';
import {
  createMasterKeyRing,
  generateMasterKey,
  parseMasterKey,
  readMasterKeyFile,
  writeMasterKeyFile,
  type MasterKeyRing,
} from './master-key.js';
import type { SecretBox } from './secret-box.js';

export { generateMasterKey };

/** One stored secret: its row id, the context it was sealed with, and the envelope. */
export interface SealedRecord {
  readonly id: string;
  readonly aad: string;
  readonly envelope: string;
}

/**
 * Store a re-sealed envelope. `previous` is the envelope that was read, so
 * storage can update with compare-and-set (`... WHERE id = ? AND secret = ?`)
 * and return false when the row changed meanwhile, instead of overwriting a
 * secret an administrator just replaced.
 */
export type SaveResealed = (id: string, envelope: string, previous: string) => boolean | void | Promise<boolean | void>;

export type RotationFailureReason = SecretBoxErrorReason | 'conflict' | 'save_failed';

export interface RotationFailure {
  readonly id: string;
  readonly reason: RotationFailureReason;
  readonly message: string;
}

export interface RotationReport {
  /** Records looked at. */
  checked: number;
  /** Records re-sealed with the current key and saved. */
  resealed: number;
  /** Records left as they were; re-running after fixing the cause picks them up. */
  failed: RotationFailure[];
}

export interface RotateOptions {
  /** A box over the ring whose current key is the new one and whose previous keys include every old one. */
  box: SecretBox;
  records: Iterable<SealedRecord> | AsyncIterable<SealedRecord>;
  save: SaveResealed;
}

function failure(id: string, err: unknown, fallback: RotationFailureReason): RotationFailure {
  if (err instanceof SecretBoxError) return { id, reason: err.reason, message: err.message };
  return { id, reason: fallback, message: err instanceof Error ? err.message : String(err) };
}

/**
 * Re-seal, with the current key, every record sealed by another key. Records
 * already under the current key are skipped without decrypting, so running it
 * again after a crash only does the remaining work. One bad record never stops
 * the run; it is reported in `failed`.
 */
export async function rotateMasterKey(opts: RotateOptions): Promise<RotationReport> {
  const { box, save } = opts;
  const report: RotationReport = { checked: 0, resealed: 0, failed: [] };
  for await (const record of opts.records) {
    report.checked++;
    let fresh: string;
    try {
      if (!box.needsReseal(record.envelope)) continue;
      fresh = box.seal(box.open(record.envelope, record.aad), record.aad);
    } catch (err) {
      report.failed.push(failure(record.id, err, 'malformed'));
      continue;
    }
    try {
      const saved = await save(record.id, fresh, record.envelope);
      if (saved === false) {
        report.failed.push({ id: record.id, reason: 'conflict', message: 'the record changed while the master key was rotated; run the rotation again' });
      } else report.resealed++;
    } catch (err) {
      report.failed.push(failure(record.id, err, 'save_failed'));
    }
  }
  return report;
}

export interface VerificationReport {
  checked: number;
  /** Ids of records that open but are still sealed by a previous key. */
  stale: string[];
  /** Records that do not open at all. */
  failed: RotationFailure[];
}

/**
 * Open every record without changing anything. Previous keys can be dropped
 * only when `stale` and `failed` are both empty.
 */
export async function verifySealedRecords(opts: { box: SecretBox; records: Iterable<SealedRecord> | AsyncIterable<SealedRecord> }): Promise<VerificationReport> {
  const report: VerificationReport = { checked: 0, stale: [], failed: [] };
  for await (const record of opts.records) {
    report.checked++;
    try {
      opts.box.open(record.envelope, record.aad);
      if (opts.box.needsReseal(record.envelope)) report.stale.push(record.id);
    } catch (err) {
      report.failed.push(failure(record.id, err, 'malformed'));
    }
  }
  return report;
}

function existingKeyFile(path: string): MasterKeyRing {
  const ring = readMasterKeyFile(path);
  if (!ring) throw new MasterKeyError(`there is no master key file at ${path} to rotate`);
  return ring;
}

/**
 * Put a new key (generated unless given) first in the key file and keep every
 * old key as a previous line, so nothing sealed so far stops opening. Atomic
 * and mode 0600. Returns the ring as written, ready for rotateMasterKey.
 */
export function writeRotatedKeyFile(path: string, newKey: string = generateMasterKey()): MasterKeyRing {
  const old = existingKeyFile(path);
  const key = parseMasterKey(newKey, 'the new master key');
  if (key.id === old.current.id) throw new MasterKeyError(`the new master key is already the current key (${key.id}) of ${path}`);
  // Duplicates (re-promoting an old key) are dropped by the ring, keeping the new position first.
  const ring = createMasterKeyRing([key, old.current, ...old.previous], { kind: 'file', path });
  writeMasterKeyFile(path, [ring.current, ...ring.previous], 'replace');
  return existingKeyFile(path);
}

/**
 * Rewrite the key file with only its current key. Call only after
 * verifySealedRecords reports nothing stale or failed: anything still sealed
 * by a dropped key becomes unreadable.
 */
export function dropPreviousKeys(path: string): MasterKeyRing {
  const ring = existingKeyFile(path);
  if (ring.previous.length > 0) writeMasterKeyFile(path, [ring.current], 'replace');
  return existingKeyFile(path);
}
