import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * scrypt cost parameters (RFC 7914 §2). N = 2^15, r = 8, p = 1 is the
 * OWASP password storage recommendation for scrypt and costs ~32 MiB and
 * tens of milliseconds per hash.
 */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;
// Upper bounds on what a stored string may ask for: a tampered or corrupt row
// must not make one login allocate gigabytes.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

/**
 * NIST SP 800-63B §5.1.1.2: normalise Unicode (NFKC) before hashing, so the
 * same password typed on two keyboards that compose differently matches.
 */
function normalise(password: string): string {
  return password.normalize('NFKC');
}

function derive(password: string, salt: Buffer, { N, r, p }: ScryptParams): Promise<Buffer> {
  // OpenSSL needs 128·r·(N + p + 2) bytes; Node's 32 MiB default is just
  // short of N = 2^15, r = 8. Add 1 MiB of headroom.
  const options: ScryptOptions = { N, r, p, maxmem: 128 * r * (N + p + 2) + 2 ** 20 };
  return new Promise((resolve, reject) => {
    scrypt(normalise(password), salt, KEY_BYTES, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function b64(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '');
}

/** `scrypt$N=32768,r=8,p=1$<salt>$<hash>`: the string carries its own parameters so they can be raised later. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  if (!validParams(params)) throw new RangeError('scrypt parameters are out of range');
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params);
  return `scrypt$N=${params.N},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

function validParams({ N, r, p }: ScryptParams): boolean {
  const powerOfTwo = Number.isInteger(N) && N > 1 && (N & (N - 1)) === 0;
  return powerOfTwo && N <= MAX_N && Number.isInteger(r) && r >= 1 && r <= MAX_R && Number.isInteger(p) && p >= 1 && p <= MAX_P;
}

const FORMAT = /^scrypt\$N=(\d{1,8}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function parse(stored: string): ParsedHash | undefined {
  const m = FORMAT.exec(stored);
  if (!m) return undefined;
  const params = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  if (!validParams(params)) return undefined;
  const salt = Buffer.from(m[4]!, 'base64');
  const hash = Buffer.from(m[5]!, 'base64');
  if (salt.length < SALT_BYTES || hash.length !== KEY_BYTES) return undefined;
  return { params, salt, hash };
}

/**
 * Whether `password` matches `stored`. A stored string that cannot be parsed
 * never matches; the work is still done so the answer takes as long.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) {
    await dummyVerify();
    return false;
  }
  const candidate = await derive(password, parsed.salt, parsed.params);
  return timingSafeEqual(candidate, parsed.hash);
}

/** True when `stored` was made with weaker parameters than today's (or is unreadable): rehash at next login. */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const parsed = parse(stored);
  if (!parsed) return true;
  const p = parsed.params;
  return p.N < params.N || p.r < params.r || p.p < params.p || parsed.salt.length !== SALT_BYTES;
}

let dummySalt: Buffer | undefined;

/**
 * Spend the same time as a real verification, for logins naming a user that
 * does not exist, so response time does not reveal which accounts exist.
 * Always resolves to false.
 */
export async function dummyVerify(): Promise<false> {
  dummySalt ??= randomBytes(SALT_BYTES);
  await derive('not a password', dummySalt, DEFAULT_SCRYPT);
  return false;
}

/**
 * The first problem with a proposed password, as a sentence for the person
 * choosing it, or null when it is acceptable. Lengths are in characters
 * (code points), not UTF-16 units, after NFKC normalisation (SP 800-63B §5.1.1.2).
 */
export function passwordProblem(password: string): string | null {
  const chars = [...normalise(password)];
  if (chars.length < PASSWORD_MIN_LENGTH) {
    return `Choose a password of at least ${PASSWORD_MIN_LENGTH} characters.`;
  }
  if (chars.length > PASSWORD_MAX_LENGTH) {
    return `Choose a password of at most ${PASSWORD_MAX_LENGTH} characters.`;
  }
  if (chars.every((c) => c === chars[0])) {
    return 'Choose a password that is not one character repeated.';
  }
  return null;
}
