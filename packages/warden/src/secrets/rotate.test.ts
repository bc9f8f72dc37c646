import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SecretBox,
  SecretBoxError,
  dropPreviousKeys,
  generateMasterKey,
  loadMasterKeys,
  rotateMasterKey,
  verifySealedRecords,
  writeRotatedKeyFile,
  type SealedRecord,
} from './index.js';

const POSIX = process.platform !== 'win32';

let dir: string;
let keyFile: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-rotate-'));
  keyFile = join(dir, 'master.key');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A storage stand-in: rows of sealed secrets keyed by id, with compare-and-set saves. */
function table(box: SecretBox, count: number): Map<string, SealedRecord> {
  const rows = new Map<string, SealedRecord>();
  for (let i = 0; i < count; i++) {
    const id = `sk_${i}`;
    const aad = `signing_secret:${id}`;
    rows.set(id, { id, aad, envelope: box.seal(`secret-${i}`, aad) });
  }
  return rows;
}

function saver(rows: Map<string, SealedRecord>, calls: string[] = []) {
  return (id: string, envelope: string, previous: string) => {
    calls.push(id);
    const row = rows.get(id)!;
    if (row.envelope !== previous) return false;
    rows.set(id, { ...row, envelope });
    return true;
  };
}

function failureOf(fn: () => unknown): SecretBoxError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SecretBoxError);
    return err as SecretBoxError;
  }
  throw new Error('expected a SecretBoxError');
}

describe('master key rotation', () => {
  it('generates 64 hex characters of fresh key', () => {
    const a = generateMasterKey();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(generateMasterKey()).not.toBe(a);
  });

  it('writes the new key first and keeps the old one as previous, atomically and 0600', () => {
    const oldRing = loadMasterKeys({ env: {}, keyFile, createIfMissing: true });
    const ring = writeRotatedKeyFile(keyFile);
    expect(ring.current.id).not.toBe(oldRing.current.id);
    expect(ring.previous.map((k) => k.id)).toEqual([oldRing.current.id]);
    if (POSIX) expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['master.key']);
    // A gateway started from the file now sees both keys.
    expect(loadMasterKeys({ env: {}, keyFile }).previous.map((k) => k.id)).toEqual([oldRing.current.id]);
  });

  it('re-seals only old-key envelopes, and a second run does nothing', async () => {
    const oldRing = loadMasterKeys({ env: {}, keyFile, createIfMissing: true });
    const oldBox = new SecretBox(oldRing);
    const rows = table(oldBox, 3);
    const newRing = writeRotatedKeyFile(keyFile);
    const newBox = new SecretBox(newRing);
    // A row written after the gateways restarted is already under the new key.
    rows.set('sk_new', { id: 'sk_new', aad: 'signing_secret:sk_new', envelope: newBox.seal('fresh', 'signing_secret:sk_new') });

    const calls: string[] = [];
    const first = await rotateMasterKey({ box: newBox, records: rows.values(), save: saver(rows, calls) });
    expect(first).toEqual({ checked: 4, resealed: 3, failed: [] });
    expect(calls.sort()).toEqual(['sk_0', 'sk_1', 'sk_2']);
    for (const r of rows.values()) expect(r.envelope.split(':')[2]).toBe(newRing.current.id);

    const again = await rotateMasterKey({ box: newBox, records: rows.values(), save: saver(rows, calls) });
    expect(again).toEqual({ checked: 4, resealed: 0, failed: [] });
    expect(calls).toHaveLength(3);
  });

  it('after rotation the new ring opens every record and the old ring cannot open resealed ones', async () => {
    const oldRing = loadMasterKeys({ env: {}, keyFile, createIfMissing: true });
    const rows = table(new SecretBox(oldRing), 2);
    const newBox = new SecretBox(writeRotatedKeyFile(keyFile));
    await rotateMasterKey({ box: newBox, records: rows.values(), save: saver(rows) });

    // Even without the previous key the rows open: nothing depends on the old key any more.
    const onlyNew = new SecretBox(dropPreviousKeys(keyFile));
    const oldBox = new SecretBox(oldRing);
    for (const r of rows.values()) {
      expect(onlyNew.openString(r.envelope, r.aad)).toBe(`secret-${r.id.slice(3)}`);
      expect(failureOf(() => oldBox.open(r.envelope, r.aad)).reason).toBe('unknown_key');
    }
  });

  it('resumes after a crash halfway through', async () => {
    const oldRing = loadMasterKeys({ env: {}, keyFile, createIfMissing: true });
    const rows = table(new SecretBox(oldRing), 4);
    const newBox = new SecretBox(writeRotatedKeyFile(keyFile));
    const save = saver(rows);
    let saves = 0;
    const crashing = (id: string, envelope: string, previous: string) => {
      if (++saves > 2) throw new Error('process killed');
      return save(id, envelope, previous);
    };
    const partial = await rotateMasterKey({ box: newBox, records: rows.values(), save: crashing });
    expect(partial.resealed).toBe(2);
    expect(partial.failed.map((f) => f.reason)).toEqual(['save_failed', 'save_failed']);

    const rest = await rotateMasterKey({ box: newBox, records: rows.values(), save });
    expect(rest).toEqual({ checked: 4, resealed: 2, failed: [] });
    expect(await verifySealedRecords({ box: newBox, records: rows.values() })).toEqual({ checked: 4, stale: [], failed: [] });
  });

  it('reports, without stopping, records that do not open or changed meanwhile', async () => {
    const oldRing = loadMasterKeys({ env: {}, keyFile, createIfMissing: true });
    const rows = table(new SecretBox(oldRing), 3);
    const newBox = new SecretBox(writeRotatedKeyFile(keyFile));
    rows.set('sk_0', { ...rows.get('sk_0')!, aad: 'signing_secret:elsewhere' });
    const save = saver(rows);
    const racing = (id: string, envelope: string, previous: string) => {
      // An administrator replaces sk_1's secret while the rotation runs.
      if (id === 'sk_1') rows.set(id, { ...rows.get(id)!, envelope: newBox.seal('replaced', rows.get(id)!.aad) });
      return save(id, envelope, previous);
    };
    const report = await rotateMasterKey({ box: newBox, records: [...rows.values()], save: racing });
    expect(report.checked).toBe(3);
    expect(report.resealed).toBe(1);
    expect(report.failed.map((f) => [f.id, f.reason])).toEqual([['sk_0', 'tampered'], ['sk_1', 'conflict']]);
    expect(newBox.openString(rows.get('sk_1')!.envelope, rows.get('sk_1')!.aad)).toBe('replaced');
    for (const f of report.failed) expect(f.message).not.toMatch(/secret-\d/);
  });

  it('verification lists records still under a previous key', async () => {
    const oldRing = loadMasterKeys({ env: {}, keyFile, createIfMissing: true });
    const rows = table(new SecretBox(oldRing), 2);
    const newBox = new SecretBox(writeRotatedKeyFile(keyFile));
    const report = await verifySealedRecords({ box: newBox, records: rows.values() });
    expect(report).toEqual({ checked: 2, stale: ['sk_0', 'sk_1'], failed: [] });
  });

  it('accepts async record sources', async () => {
    const oldRing = loadMasterKeys({ env: {}, keyFile, createIfMissing: true });
    const rows = table(new SecretBox(oldRing), 2);
    const newBox = new SecretBox(writeRotatedKeyFile(keyFile));
    async function* page() {
      for (const r of [...rows.values()]) yield r;
    }
    expect(await rotateMasterKey({ box: newBox, records: page(), save: async (...a) => saver(rows)(...a) })).toEqual({ checked: 2, resealed: 2, failed: [] });
  });

  it('refuses to rotate a key file that is missing or readable by others', () => {
    expect(() => writeRotatedKeyFile(keyFile)).toThrow(/no master key file/);
    if (!POSIX) return;
    writeFileSync(keyFile, generateMasterKey() + '\n');
    chmodSync(keyFile, 0o644);
    expect(() => writeRotatedKeyFile(keyFile)).toThrow(/chmod 600/);
  });

  it('drops previous keys, leaving only the current one', () => {
    loadMasterKeys({ env: {}, keyFile, createIfMissing: true });
    const rotated = writeRotatedKeyFile(keyFile);
    const dropped = dropPreviousKeys(keyFile);
    expect(dropped.current.id).toBe(rotated.current.id);
    expect(dropped.previous).toEqual([]);
    expect(readFileSync(keyFile, 'utf8').match(/^[0-9a-f]{64}$/gm)).toHaveLength(1);
    if (POSIX) expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  });
});
