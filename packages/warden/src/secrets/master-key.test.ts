import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MasterKeyError, generateMasterKey, loadMasterKeys, parseMasterKey } from './index.js';

const POSIX = process.platform !== 'win32';
const HEX = 'a1'.repeat(32);
const BYTES = Buffer.from(HEX, 'hex');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-master-key-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MasterKeyError);
    return (err as Error).message;
  }
  throw new Error('expected a MasterKeyError');
}

function keyFile(lines: string[], mode = 0o600): string {
  const path = join(dir, 'master.key');
  writeFileSync(path, lines.join('\n') + '\n', { mode });
  chmodSync(path, mode);
  return path;
}

describe('master key from the environment', () => {
  it('accepts 64 hex characters, base64 and base64url as the same key', () => {
    const ids = [HEX, BYTES.toString('base64'), BYTES.toString('base64url'), HEX.toUpperCase()].map(
      (v) => loadMasterKeys({ env: { WARDEN_MASTER_KEY: v } }).current.id,
    );
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f]{8}$/);
  });

  it('derives the key id from SHA-256 of the labelled key', async () => {
    const { createHash } = await import('node:crypto');
    const expected = createHash('sha256').update('warden-master-key-id:').update(BYTES).digest('hex').slice(0, 8);
    expect(loadMasterKeys({ env: { WARDEN_MASTER_KEY: HEX } }).current.id).toBe(expected);
  });

  it('rejects a key of the wrong length, naming the variable and the expected form but not the value', () => {
    const short = 'deadbeef'.repeat(4); // 16 bytes
    const msg = errorOf(() => loadMasterKeys({ env: { WARDEN_MASTER_KEY: short } }));
    expect(msg).toContain('WARDEN_MASTER_KEY');
    expect(msg).toContain('64 hex characters');
    expect(msg).toContain('base64');
    expect(msg).toContain('16 bytes');
    expect(msg).not.toContain(short);
    expect(msg).not.toContain('deadbeef');
  });

  it('rejects a passphrase without echoing it', () => {
    const msg = errorOf(() => loadMasterKeys({ env: { WARDEN_MASTER_KEY: 'correct horse battery staple' } }));
    expect(msg).toContain('WARDEN_MASTER_KEY');
    expect(msg).not.toContain('horse');
  });

  it('loads comma-separated previous keys after the current one', () => {
    const old1 = generateMasterKey();
    const old2 = Buffer.from(generateMasterKey(), 'hex').toString('base64url');
    const ring = loadMasterKeys({ env: { WARDEN_MASTER_KEY: HEX, WARDEN_MASTER_KEY_PREVIOUS: ` ${old1} , ${old2},` } });
    expect(ring.source).toEqual({ kind: 'env' });
    expect(ring.previous.map((k) => k.id)).toEqual([parseMasterKey(old1, 'x').id, parseMasterKey(old2, 'x').id]);
    expect(ring.find(ring.previous[1]!.id)).toBe(ring.previous[1]);
  });

  it('names which previous key is bad', () => {
    const msg = errorOf(() => loadMasterKeys({ env: { WARDEN_MASTER_KEY: HEX, WARDEN_MASTER_KEY_PREVIOUS: `${generateMasterKey()},nope` } }));
    expect(msg).toContain('WARDEN_MASTER_KEY_PREVIOUS entry 2 of 2');
    expect(msg).not.toContain('nope');
  });

  it('refuses previous keys without a current key', () => {
    expect(errorOf(() => loadMasterKeys({ env: { WARDEN_MASTER_KEY_PREVIOUS: HEX } }))).toContain('WARDEN_MASTER_KEY is not');
  });

  it('prefers the environment over the key file', () => {
    const path = keyFile([generateMasterKey()]);
    const ring = loadMasterKeys({ env: { WARDEN_MASTER_KEY: HEX }, keyFile: path });
    expect(ring.current.id).toBe(parseMasterKey(HEX, 'x').id);
  });

  it('never shows key bytes when a key is logged or serialised', () => {
    const ring = loadMasterKeys({ env: { WARDEN_MASTER_KEY: HEX } });
    const shown = [inspect(ring, { depth: 5, showHidden: true }), JSON.stringify(ring), String(ring.current)].join('\n');
    expect(shown).toContain(ring.current.id);
    expect(shown).not.toContain(HEX);
    expect(shown).not.toContain(BYTES.toString('base64'));
    expect(shown).not.toMatch(/a1 a1 a1/);
  });
});

describe('master key file', () => {
  it('reads the first key as current and later lines as previous, ignoring comments', () => {
    const old = generateMasterKey();
    const path = keyFile(['# warden', HEX, '', old]);
    const ring = loadMasterKeys({ env: {}, keyFile: path });
    expect(ring.source).toEqual({ kind: 'file', path });
    expect(ring.current.id).toBe(parseMasterKey(HEX, 'x').id);
    expect(ring.previous.map((k) => k.id)).toEqual([parseMasterKey(old, 'x').id]);
  });

  it('names the file and line of a bad key', () => {
    const path = keyFile([HEX, 'abc']);
    const msg = errorOf(() => loadMasterKeys({ env: {}, keyFile: path }));
    expect(msg).toContain(`${path} line 2`);
  });

  it.skipIf(!POSIX)('refuses a world-readable key file, naming the file and the chmod fix', () => {
    const path = keyFile([HEX], 0o644);
    const msg = errorOf(() => loadMasterKeys({ env: {}, keyFile: path }));
    expect(msg).toContain(path);
    expect(msg).toContain(`chmod 600 ${path}`);
    expect(msg).not.toContain(HEX);
  });

  it.skipIf(!POSIX)('refuses a group-readable key file', () => {
    const path = keyFile([HEX], 0o640);
    expect(errorOf(() => loadMasterKeys({ env: {}, keyFile: path }))).toContain('chmod 600');
  });

  it('creates a 0600 key file in a new directory when missing and createIfMissing is set', () => {
    const path = join(dir, 'nested', 'data', 'master.key');
    const ring = loadMasterKeys({ env: {}, keyFile: path, createIfMissing: true });
    expect(ring.source).toEqual({ kind: 'generated', path });
    if (POSIX) expect(statSync(path).mode & 0o777).toBe(0o600);
    // No temporary file is left behind.
    expect(readdirSync(join(dir, 'nested', 'data'))).toEqual(['master.key']);
    // The next start reads the same key back.
    const again = loadMasterKeys({ env: {}, keyFile: path, createIfMissing: true });
    expect(again.source).toEqual({ kind: 'file', path });
    expect(again.current.id).toBe(ring.current.id);
    expect(readFileSync(path, 'utf8')).toMatch(/^[0-9a-f]{64}$/m);
  });

  it('fails, naming the file and the variable, when no key exists and createIfMissing is off', () => {
    const path = join(dir, 'master.key');
    const msg = errorOf(() => loadMasterKeys({ env: {}, keyFile: path }));
    expect(msg).toContain(path);
    expect(msg).toContain('WARDEN_MASTER_KEY');
  });

  it('does not regenerate over an existing file that lost its keys', () => {
    const path = keyFile(['# emptied by accident']);
    expect(errorOf(() => loadMasterKeys({ env: {}, keyFile: path, createIfMissing: true }))).toContain('contains no key');
    expect(readFileSync(path, 'utf8')).toContain('emptied by accident');
  });

  it('asks for WARDEN_MASTER_KEY when there is neither a variable nor a file', () => {
    expect(errorOf(() => loadMasterKeys({ env: {} }))).toContain('WARDEN_MASTER_KEY');
  });
});
