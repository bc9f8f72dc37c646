import { describe, expect, it } from 'vitest';
import { DEFAULT_SCRYPT, dummyVerify, hashPassword, needsRehash, passwordProblem, verifyPassword } from './passwords.js';

describe('password hashing', () => {
  it('verifies the password it hashed', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
  });

  it('refuses a different password', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(await verifyPassword('correct horse battery stapler', stored)).toBe(false);
  });

  it('salts each hash, so the same password stores differently', async () => {
    expect(await hashPassword('same password twice')).not.toBe(await hashPassword('same password twice'));
  });

  it('writes its parameters, a 16-byte salt and a 32-byte key into the string', async () => {
    const stored = await hashPassword('correct horse battery staple');
    const [scheme, params, salt, key] = stored.split('$');
    expect(scheme).toBe('scrypt');
    expect(params).toBe('N=32768,r=8,p=1');
    expect(Buffer.from(salt!, 'base64')).toHaveLength(16);
    expect(Buffer.from(key!, 'base64')).toHaveLength(32);
  });

  it('verifies with the parameters read from the string, and flags weaker ones for rehash', async () => {
    const weak = await hashPassword('correct horse battery staple', { N: 2 ** 12, r: 8, p: 1 });
    expect(weak).toMatch(/^scrypt\$N=4096,r=8,p=1\$/);
    expect(await verifyPassword('correct horse battery staple', weak)).toBe(true);
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(await hashPassword('correct horse battery staple'))).toBe(false);
    expect(needsRehash('scrypt$N=32768,r=8,p=1$AAAA$AAAA', DEFAULT_SCRYPT)).toBe(true);
  });

  it('matches the same password whichever Unicode composition was typed', async () => {
    const stored = await hashPassword('cr\u00e8me br\u00fbl\u00e9e forever');
    expect(await verifyPassword('cre\u0300me bru\u0302le\u0301e forever', stored)).toBe(true);
  });

  it('never matches a corrupt or hostile stored string', async () => {
    expect(await verifyPassword('anything at all', 'not a hash')).toBe(false);
    // N = 2^30 would need 128 GiB; it must be refused, not attempted.
    expect(await verifyPassword('anything at all', 'scrypt$N=1073741824,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$' + 'A'.repeat(43))).toBe(false);
  });

  it('runs a dummy verification that always fails', async () => {
    expect(await dummyVerify()).toBe(false);
  });
});

describe('password policy', () => {
  it('accepts a long enough, varied password', () => {
    expect(passwordProblem('correct horse battery staple')).toBeNull();
  });

  it('refuses passwords shorter than 12 characters', () => {
    expect(passwordProblem('short pw 11')).toMatch(/at least 12/);
    expect(passwordProblem('twelve chars')).toBeNull();
  });

  it('counts characters, not UTF-16 units', () => {
    // 11 emoji are 22 UTF-16 units but only 11 characters.
    expect(passwordProblem('🔑'.repeat(6) + '🐉'.repeat(5))).toMatch(/at least 12/);
    expect(passwordProblem('🔑'.repeat(6) + '🐉'.repeat(6))).toBeNull();
  });

  it('refuses passwords over 1024 characters', () => {
    expect(passwordProblem('ab'.repeat(513))).toMatch(/at most 1024/);
    expect(passwordProblem('ab'.repeat(512))).toBeNull();
  });

  it('refuses one character repeated', () => {
    expect(passwordProblem('aaaaaaaaaaaaaaaa')).toMatch(/repeated/);
  });
});
