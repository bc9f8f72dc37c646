import { createHash } from 'node:crypto';
import { findPhoneNumbersInText, isValidPhoneNumber } from 'libphonenumber-js/max';
import type { Detector, Finding } from './finding.js';

/**
 * Personal data in prompts and tool output, typed with Presidio's English
 * entity names. One regex pass finds "numeric chunks" (a digit followed by
 * digits and separators); everything numeric — cards, IBANs, SSNs, phones,
 * IPv4, crypto addresses, dates of birth — is tried with bounded sticky
 * patterns only at the group starts of those chunks. Emails, URLs and
 * colon-separated addresses are found outward from '@', '://', 'www.' and
 * ':'. Every pattern is compiled once, bounded, and free of ambiguous nested
 * quantifiers, so a scan is linear in the text.
 *
 * Checksums (Luhn, mod-97, mod-11, base58check, bech32) carry confidence
 * >= 0.9; weak shapes need a context word in the 40 characters before them.
 *
 * Longer than the usual ~400 lines: the checksums, the recognisers and the
 * overlap rules are one detector's rules, and the scan order ties them.
 */
export type PiiType =
  | 'CREDIT_CARD' | 'IBAN_CODE' | 'US_SSN' | 'US_ITIN' | 'US_BANK_NUMBER' | 'US_PASSPORT'
  | 'US_DRIVER_LICENSE' | 'EMAIL_ADDRESS' | 'PHONE_NUMBER' | 'IP_ADDRESS' | 'MAC_ADDRESS'
  | 'CRYPTO' | 'URL' | 'DATE_OF_BIRTH' | 'UK_NHS';

const CONTEXT_WINDOW = 40;

// ---------------------------------------------------------------- patterns
/** A digit and the digits and separators after it; the unit every numeric recogniser starts from. */
const CHUNK_RE = /\d[\d ().\-/]*/g;
const CARD_Y = /(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])/y;
const SSN_Y = /(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])/y;
const NHS_Y = /(?<![\w-])\d{3}([ -])\d{3}\1\d{4}(?![\w-])/y;
const BARE_Y = /(?<![\w.\-/])\d{7,17}(?![\w\-/]|[.,]\d)/y;
const ID_Y = /(?<![\w-])[A-Z]{1,2}\d{6,12}(?![\w-])/y;
const PHONE_Y = /[+(]?\d[\d ().-]{5,22}\d(?!\w)/y;
const IPV4_Y = /(?<![\w.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?!\w|\.\d)/y;
const IBAN_Y = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}/iy;
const ETH_Y = /(?<!\w)0x[0-9a-fA-F]{40}(?!\w)/y;
const B58_Y = /(?<!\w)[13][1-9A-HJ-NP-Za-km-z]{25,34}(?!\w)/y;
const BECH32_Y = /(?<!\w)(?:bc1|tb1)[02-9ac-hj-np-z]{8,87}(?!\w)/iy;
const MAC_DASH_Y = /(?<![\w-])[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}(?![\w-])/y;
const MAC_DOT_Y = /(?<![\w.])[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?!\w|\.[0-9A-Fa-f])/y;
const NANP_Y = /(?:\+?1[ .-]?)?(?:\(([2-9]\d{2})\) ?|([2-9]\d{2})[ .-]?)([2-9]\d{2})[ .-]?(\d{4})(?![\d-])/y;
const NANP_SHAPE = /\(?[2-9]\d{2}\)?[ .-]?[2-9]\d{2}[ .-]?\d{4}/;
const DATE_LIKE = /^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})(?!\d)/;
const DOB_CTX_RE = /\b(?:born|d\.?o\.?b|date of birth|birth ?date|birthday|b-day)(?![a-z])/gi;
const MONTH = '(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\\.?';
const DATE_RE = new RegExp(
  '(?<![\\w/.-])(?:(\\d{4})[-/.](\\d{1,2})[-/.](\\d{1,2})|(\\d{1,2})[-/.](\\d{1,2})[-/.](?:\\d{4}|\\d{2})' +
    `|${MONTH}\\s\\d{1,2}(?:st|nd|rd|th)?,?\\s\\d{4}|\\d{1,2}(?:st|nd|rd|th)?\\s(?:of\\s)?${MONTH},?\\s\\d{4})(?![\\w/-])`,
  'gi',
);

// Context words, tested against the 40 characters before a candidate.
const CARD_CTX = /\b(?:card|credit|debit|visa|master ?card|amex|american express|discover|cc|cvv|payment|pan)\b/i;
const NOT_CARD_CTX = /\b(?:ean|upc|gtin|isbn|sku|barcode|tracking)\b/i;
const TEST_CTX = /\b(?:test|testing|example|sample|dummy|sandbox|fake)\b/i;
const IBAN_CTX = /\b(?:iban|bank|account|transfer|sepa|wire|swift|bic|pay)/i;
const SSN_CTX = /\b(?:ssn|ss#|social security|social sec)/i;
const ITIN_CTX = /\b(?:itin|taxpayer|tax id|tin\b)/i;
const PHONE_CTX = /\b(?:phone|call|tel\b|telephone|mobile|cell\b|fax|sms|text|whatsapp|dial|ring|landline|ph\b|mob\b)/i;
const IP_CTX = /\b(?:ip|ipv4|ipv6|address|addr|host|server|client|gateway|src|dst|from|remote)\b/i;
const CRYPTO_CTX = /\b(?:btc|bitcoin|wallet|eth|ether|ethereum|crypto|usdt|usdc|send|address)\b/i;
const NHS_CTX = /\bnhs\b/i;
const PASSPORT_CTX = /\bpassport/i;
const DL_CTX = /\b(?:driver'?s?|driving)\s?licen[cs]e|\bdl\b|\bdln\b|\blicen[cs]e\s?(?:no|number|#)/i;
// Cloud account ids are "account" numbers too, but not bank ones.
const NOT_BANK_CTX = /\b(?:aws|gcp|azure|account[ _-]?id|subscription|project|tenant)\b/i;
const COUNTRY_CODE_BEFORE = /\+\d{1,3}[ -]$/;
const VERSION_BEFORE = /(?:\b(?:ver|version|release|rel|build|rev|revision|section|sec|clause|chapter|figure|fig|table|step|rule|firmware|fw|oid)\.?\s?[:=#]?\s?|§\s?)$/i;
/** The nearest of these decides what an undelimited digit run is (group number = kind). */
const BARE_CTX_RE =
  /\b(?:(ssn|ss#|social security)|(itin|taxpayer)|(passport)|(nhs)(?![a-z])|(driver'?s?\s?licen[cs]e|driving\s?licen[cs]e|licen[cs]e\s?(?:no|number|#)|dln?(?![a-z]))|(account|acct|a\/c|routing|aba(?![a-z])|checking|savings|bank))/gi;

// ---------------------------------------------------------------- checksums
function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** Issuer prefixes and lengths (ISO/IEC 7812 IIN ranges of the big networks). */
function cardBrandValid(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p4 = Number(d.slice(0, 4));
  if (d[0] === '4') return n === 13 || n === 16 || n === 19;
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16;
  if (p2 === 34 || p2 === 37) return n === 15;
  if (p2 === 36 || p2 === 38 || p2 === 39 || (p4 >= 3000 && p4 <= 3059)) return n >= 14 && n <= 19;
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19;
  if (d[0] === '6') return n >= 16 && n <= 19;
  if (p2 === 50 || (p2 >= 56 && p2 <= 58)) return n >= 12 && n <= 19;
  return false;
}

const TEST_CARDS = new Set([
  '4111111111111111', '4242424242424242', '4012888888881881', '4000056655665556', '5555555555554444',
  '5105105105105100', '2223003122003222', '378282246310005', '371449635398431', '6011111111111117',
  '6011000990139424', '3056930009020004', '36227206271667', '3566002020360505', '6200000000000005',
]);

/** ISO 13616 IBAN lengths per country (SWIFT IBAN registry). */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21,
  CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18,
  FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23,
  IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27,
  MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28,
  PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27,
  SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/** ISO 7064 mod 97-10 over the rearranged IBAN (ISO 13616-1 §6). */
function ibanValid(iban: string): boolean {
  const s = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

/** NHS number: weights 10..2 over the first nine digits, mod 11 (NHS Data Dictionary). */
function nhsValid(d: string): boolean {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (d.charCodeAt(i) - 48) * (10 - i);
  let check = 11 - (sum % 11);
  if (check === 11) check = 0;
  return check !== 10 && check === d.charCodeAt(9) - 48;
}

/** ABA routing number checksum: 3-7-1 weights, mod 10. */
function abaValid(d: string): boolean {
  if (d.length !== 9) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (d.charCodeAt(i) - 48) * [3, 7, 1][i % 3]!;
  return sum % 10 === 0;
}

const SSN_PLACEHOLDERS = new Set(['123456789', '078051120', '219099999', '987654321']);

/** 'ssn', 'itin' or null for an AAA GG SSSS number (SSA and IRS allocation rules). */
function ssnKind(area: string, group: string, serial: string): 'ssn' | 'itin' | null {
  const all = area + group + serial;
  if (/^(\d)\1{8}$/.test(all) || SSN_PLACEHOLDERS.has(all)) return null;
  if (area[0] === '9') {
    const g = Number(group);
    return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || g >= 94 ? 'itin' : null;
  }
  if (area === '000' || area === '666' || group === '00' || serial === '0000') return null;
  return 'ssn';
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Legacy Bitcoin address: base58check, 25 bytes, version 0x00 (P2PKH) or 0x05 (P2SH). */
function base58checkValid(s: string): boolean {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let carry = B58.indexOf(s[i]!);
    if (carry < 0) return false;
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j]! * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    for (; carry > 0; carry >>= 8) bytes.push(carry & 0xff);
  }
  for (let i = 0; i < s.length && s[i] === '1'; i++) bytes.push(0);
  if (bytes.length !== 25) return false;
  const raw = Buffer.from(bytes.reverse());
  if (raw[0] !== 0x00 && raw[0] !== 0x05) return false;
  const once = createHash('sha256').update(raw.subarray(0, 21)).digest();
  const twice = createHash('sha256').update(once).digest();
  return twice.subarray(0, 4).equals(raw.subarray(21));
}

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BECH32_GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** SegWit address: bech32 for witness v0, bech32m for v1+ (BIP 173, BIP 350). */
function bech32Valid(addr: string): boolean {
  const s = addr.toLowerCase();
  if (s !== addr && addr.toUpperCase() !== addr) return false;
  const sep = s.lastIndexOf('1');
  const hrp = s.slice(0, sep);
  const values: number[] = [];
  for (let i = 0; i < hrp.length; i++) values.push(hrp.charCodeAt(i) >> 5);
  values.push(0);
  for (let i = 0; i < hrp.length; i++) values.push(hrp.charCodeAt(i) & 31);
  const data: number[] = [];
  for (let i = sep + 1; i < s.length; i++) data.push(BECH32_CHARSET.indexOf(s[i]!));
  let chk = 1;
  for (const v of values.concat(data)) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= BECH32_GEN[i]!;
  }
  const version = data[0] ?? -1;
  const programBytes = Math.floor(((data.length - 7) * 5) / 8);
  if (version === 0) return chk >>> 0 === 1 && (programBytes === 20 || programBytes === 32);
  return version >= 1 && version <= 16 && chk >>> 0 === 0x2bc830a3 && programBytes >= 2 && programBytes <= 40;
}

// ---------------------------------------------------------------- helpers
type Sink = (type: PiiType, start: number, end: number, confidence: number) => void;

/** The match of a sticky regex at exactly pos, or null. */
function at(re: RegExp, text: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(text);
}

function before(text: string, start: number, re: RegExp, window = CONTEXT_WINDOW): boolean {
  return re.test(text.slice(Math.max(0, start - window), start));
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isUpper = (c: number): boolean => c >= 65 && c <= 90;
const isHex = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isWordChar = (c: number): boolean => isDigit(c) || isUpper(c) || (c >= 97 && c <= 122) || c === 95;

// ---------------------------------------------------------------- numeric recognisers (tried at a position)
const CARD_SEPS = /^(?: +|-+)$/;
const NON_DIGIT_G = /\D/g;
const DIGIT_G = /\d/g;
const CARD_SEP = /[ -]/;

function tryCard(text: string, p: number, emit: Sink): void {
  let first = p;
  while (isDigit(text.charCodeAt(first))) first++;
  // Grouped numbers start with a group of 3-6 digits (4-4-4-4, 4-6-5); ungrouped ones are one run of 13-19.
  if ((first - p < 3 || first - p > 6) && first - p < 13) return;
  const m = at(CARD_Y, text, p);
  if (!m) return;
  const seps = m[0].replace(DIGIT_G, '');
  if (seps && !CARD_SEPS.test(seps)) return;
  // The greedy match may run into a following group ("... 1111 12/26"): try prefixes of whole groups.
  const groups = m[0].split(CARD_SEP);
  let len = m[0].length;
  for (let k = groups.length; k >= 1; k--) {
    const digits = groups.slice(0, k).join('');
    const grouped = k === 1 || groups.slice(0, k).every((g) => g.length >= 3 && g.length <= 6);
    if (digits.length >= 13 && grouped && luhnValid(digits) && cardBrandValid(digits)) {
      if (before(text, p, NOT_CARD_CTX)) return;
      const test = TEST_CARDS.has(digits) || before(text, p, TEST_CTX);
      emit('CREDIT_CARD', p, p + len, test ? 0.75 : before(text, p, CARD_CTX) ? 0.99 : 0.9);
      return;
    }
    len -= groups[k - 1]!.length + 1;
  }
}

function trySsn(text: string, p: number, emit: Sink): void {
  const m = at(SSN_Y, text, p);
  if (!m) return;
  const kind = ssnKind(m[1]!, m[3]!, m[4]!);
  const end = p + m[0].length;
  if (kind === 'itin') {
    const ctx = before(text, p, ITIN_CTX) || before(text, p, SSN_CTX);
    emit('US_ITIN', p, end, ctx ? 0.9 : 0.6);
  } else if (kind === 'ssn') {
    emit('US_SSN', p, end, before(text, p, SSN_CTX) ? 0.95 : m[2] === '-' ? 0.6 : 0.5);
  }
}

function tryNhs(text: string, p: number, emit: Sink): void {
  const m = at(NHS_Y, text, p);
  if (!m || !nhsValid(m[0].replace(NON_DIGIT_G, ''))) return;
  // 3-3-4 with spaces is how NHS numbers are printed; dashes look like US phones, so they need "NHS",
  // and after a country code ("+1 ", "+44 ") the digits are a phone number's.
  if (before(text, p, NHS_CTX)) emit('UK_NHS', p, p + m[0].length, 0.95);
  else if (m[1] === ' ' && !before(text, p, COUNTRY_CODE_BEFORE, 6)) emit('UK_NHS', p, p + m[0].length, 0.7);
}

function nearestBareContext(text: string, start: number): number {
  const window = text.slice(Math.max(0, start - CONTEXT_WINDOW), start);
  BARE_CTX_RE.lastIndex = 0;
  let group = 0;
  for (let m = BARE_CTX_RE.exec(window); m; m = BARE_CTX_RE.exec(window)) group = m.findIndex((g, i) => i > 0 && g !== undefined);
  return group;
}

/** Undelimited digit runs are only personal data when a context word says which kind. */
function tryBare(text: string, p: number, emit: Sink): void {
  const m = at(BARE_Y, text, p);
  if (!m) return;
  const d = m[0];
  const n = d.length;
  const end = p + n;
  const ctx = nearestBareContext(text, p);
  const kind = n === 9 ? ssnKind(d.slice(0, 3), d.slice(3, 5), d.slice(5)) : null;
  if (ctx === 1 && kind) emit(kind === 'ssn' ? 'US_SSN' : 'US_ITIN', p, end, 0.85);
  else if (ctx === 2 && kind === 'itin') emit('US_ITIN', p, end, 0.85);
  else if (ctx === 3 && n === 9) emit('US_PASSPORT', p, end, 0.7);
  else if (ctx === 4 && n === 10 && nhsValid(d)) emit('UK_NHS', p, end, 0.95);
  else if (ctx === 5 && n <= 12) emit('US_DRIVER_LICENSE', p, end, 0.6);
  else if (ctx === 6 && n >= 8 && !before(text, p, NOT_BANK_CTX)) emit('US_BANK_NUMBER', p, end, abaValid(d) ? 0.8 : 0.6);
}

function tryIpv4(text: string, p: number, emit: Sink): void {
  const m = at(IPV4_Y, text, p);
  if (!m) return;
  const octets = m[0].split('.');
  if (!octets.every((o) => Number(o) <= 255 && (o.length === 1 || o[0] !== '0'))) return;
  if (before(text, p, VERSION_BEFORE, 16)) return;
  emit('IP_ADDRESS', p, p + m[0].length, before(text, p, IP_CTX) ? 0.95 : 0.85);
}

/**
 * North American numbers are the common case and libphonenumber's matcher
 * costs ~60 µs a call, so a plain NPA-NXX-XXXX is checked with
 * isValidPhoneNumber, memoised on its first seven digits (the metadata's
 * NANP patterns are no more specific than that). Bounded; a pure function's cache.
 */
const NANP_VALID = new Map<string, boolean>();
function nanpValid(national: string): boolean {
  const key = national.slice(0, 7);
  let valid = NANP_VALID.get(key);
  if (valid === undefined) {
    valid = isValidPhoneNumber('+1' + national);
    if (NANP_VALID.size >= 4096) NANP_VALID.clear();
    NANP_VALID.set(key, valid);
  }
  return valid;
}

/** Returns where the phone candidate at p ends (so later group starts inside it are skipped), or p. */
function tryPhone(text: string, p: number, emit: Sink): number {
  const pc = p > 0 ? text.charCodeAt(p - 1) : 32;
  const s = pc === 43 || pc === 40 ? p - 1 : p; // '+' or '('
  const bc = s > 0 ? text.charCodeAt(s - 1) : 32;
  if (isWordChar(bc) || bc === 43 || bc === 46 || bc === 45 || bc === 47) return p;
  const m = at(PHONE_Y, text, s);
  if (!m) return p;
  const cand = m[0];
  let digits = 0;
  for (let i = 0; i < cand.length; i++) if (isDigit(cand.charCodeAt(i))) digits++;
  const plus = cand[0] === '+';
  // Without '+' only national US numbers can match: ten digits in NANP shape.
  if (digits < 7 || (!plus && (digits < 10 || !NANP_SHAPE.test(cand)))) return p;
  const ctx = before(text, s, PHONE_CTX);
  if (digits === cand.length && !ctx) return p;
  if (!plus && before(text, s, NHS_CTX)) return p; // "NHS number 943 476 5919" is never a US phone // a bare digit run is an id until someone says "phone"
  const conf = (raw: string): number => (ctx ? 0.85 : raw[0] === '+' ? 0.7 : 0.6);
  const nanp = at(NANP_Y, text, s);
  if (nanp) {
    if (!nanpValid((nanp[1] ?? nanp[2])! + nanp[3]! + nanp[4]!)) return p;
    emit('PHONE_NUMBER', s, s + nanp[0].length, conf(nanp[0]));
    return s + nanp[0].length;
  }
  // A few characters past the candidate let libphonenumber see a time suffix (":30") and drop timestamps.
  const window = text.slice(s, Math.min(text.length, s + cand.length + 3));
  let reached = p;
  for (const found of findPhoneNumbersInText(window, { defaultCountry: 'US' })) {
    const raw = window.slice(found.startsAt, found.endsAt);
    if (DATE_LIKE.test(raw)) continue;
    emit('PHONE_NUMBER', s + found.startsAt, s + found.endsAt, conf(raw));
    reached = s + found.endsAt;
  }
  return reached;
}

/** IBAN (two letters, two check digits) or a letter-led passport / driver's licence number. */
function tryLetterLed(text: string, cs: number, emit: Sink): number {
  const two = cs >= 2 && isUpper(text.charCodeAt(cs - 2));
  if (two) {
    const end = tryIban(text, cs - 2, emit);
    if (end > 0) return end;
  }
  const m = at(ID_Y, text, two ? cs - 2 : cs - 1);
  if (!m) return -1;
  const id = m[0];
  const end = m.index + id.length;
  if (/^[A-Z]\d{8}$/.test(id) && before(text, m.index, PASSPORT_CTX)) emit('US_PASSPORT', m.index, end, 0.75);
  else if (/^(?:[A-Z]\d{6,12}|[A-Z]{2}\d{6,8})$/.test(id) && before(text, m.index, DL_CTX)) emit('US_DRIVER_LICENSE', m.index, end, 0.65);
  return -1;
}

function tryIban(text: string, s: number, emit: Sink): number {
  const m = at(IBAN_Y, text, s);
  const want = m ? IBAN_LENGTHS[m[0].slice(0, 2).toUpperCase()] : undefined;
  if (!m || !want) return -1;
  // Exactly the country's length of characters; spaces may appear between any of them.
  let count = 0;
  let end = s;
  let compact = '';
  for (const limit = s + m[0].length; count < want && end < limit; end++) {
    if (text[end] !== ' ') { compact += text[end]; count++; }
  }
  if (count !== want || (end < text.length && isWordChar(text.charCodeAt(end))) || !ibanValid(compact.toUpperCase())) return -1;
  emit('IBAN_CODE', s, end, before(text, s, IBAN_CTX) ? 0.99 : 0.95);
  return end;
}

/** Crypto addresses start at a chunk: '0x…', '1…'/'3…' (base58check) or the '1' of 'bc1…'. */
function tryCrypto(text: string, cs: number, emit: Sink): number {
  const c0 = text.charCodeAt(cs);
  const c1 = text.charCodeAt(cs + 1);
  if (c0 === 48 && c1 === 120) {
    const m = at(ETH_Y, text, cs);
    if (m) emit('CRYPTO', cs, cs + 42, before(text, cs, CRYPTO_CTX) ? 0.95 : 0.8);
    return m ? cs + 42 : -1;
  }
  if (c0 !== 49 && c0 !== 51) return -1;
  const hrp = cs >= 2 ? text.slice(cs - 2, cs).toLowerCase() : '';
  if (c0 === 49 && (hrp === 'bc' || hrp === 'tb')) {
    const m = at(BECH32_Y, text, cs - 2);
    if (m && bech32Valid(m[0])) {
      emit('CRYPTO', cs - 2, cs - 2 + m[0].length, 0.95);
      return cs - 2 + m[0].length;
    }
    return -1;
  }
  const m = at(B58_Y, text, cs);
  if (!m || !base58checkValid(m[0])) return -1;
  emit('CRYPTO', cs, cs + m[0].length, 0.95);
  return cs + m[0].length;
}

const isMacChar = (c: number): boolean => isHex(c) || c === 45 || c === 46;

/** Dash or Cisco-dot MACs; they may start with hex letters before the chunk's first digit. */
function tryMac(text: string, cs: number, ce: number, emit: Sink): number {
  const c2 = text.charCodeAt(cs + 2);
  const c4 = text.charCodeAt(cs + 4);
  const prev = cs > 0 ? text.charCodeAt(cs - 1) : 32;
  if (c2 !== 45 && c4 !== 46 && !isMacChar(prev) && !isHex(text.charCodeAt(ce))) return -1;
  let s = cs;
  while (s > 0 && cs - s < 15 && isMacChar(text.charCodeAt(s - 1))) s--;
  for (const start of s === cs ? [cs] : [s, cs]) {
    const dash = at(MAC_DASH_Y, text, start);
    if (dash) {
      emit('MAC_ADDRESS', start, start + 17, 0.85);
      return start + 17;
    }
    const dot = at(MAC_DOT_Y, text, start);
    if (dot && /[a-f]/i.test(dot[0])) {
      emit('MAC_ADDRESS', start, start + 14, 0.8);
      return start + 14;
    }
  }
  return -1;
}

function plausibleDate(m: RegExpExecArray): boolean {
  if (m[1]) return Number(m[1]) >= 1900 && Number(m[2]) >= 1 && Number(m[2]) <= 12 && Number(m[3]) >= 1 && Number(m[3]) <= 31;
  if (m[4]) {
    const a = Number(m[4]);
    const b = Number(m[5]);
    return a >= 1 && b >= 1 && ((a <= 12 && b <= 31) || (a <= 31 && b <= 12));
  }
  return true;
}

/**
 * A date is a date of birth only when a birth word ends within 40 characters
 * before it, and each birth word names one date ("DOB 1985-03-14, seen
 * 2024-01-02"). Looked at only from chunks with a year's worth of digits.
 */
function tryBirthDate(text: string, cs: number, ce: number, emit: Sink): void {
  const ws = Math.max(0, cs - 64);
  const win = text.slice(ws, ce);
  DOB_CTX_RE.lastIndex = 0;
  const ctxEnds: number[] = [];
  for (let m = DOB_CTX_RE.exec(win); m; m = DOB_CTX_RE.exec(win)) ctxEnds.push(m.index + m[0].length);
  if (ctxEnds.length === 0) return;
  let k = 0;
  let claimed = -1;
  DATE_RE.lastIndex = ctxEnds[0]!;
  for (let m = DATE_RE.exec(win); m; m = DATE_RE.exec(win)) {
    while (k + 1 < ctxEnds.length && ctxEnds[k + 1]! <= m.index) k++;
    const end = ctxEnds[k]!;
    if (k === claimed || end > m.index || m.index - end > CONTEXT_WINDOW || !plausibleDate(m)) continue;
    claimed = k;
    if (ws + m.index + m[0].length > cs) emit('DATE_OF_BIRTH', ws + m.index, ws + m.index + m[0].length, 0.85);
  }
}

/** Every recogniser that can start in one numeric chunk [cs, ce). */
function scanChunk(text: string, cs: number, ce: number, emit: Sink, claimedTo: number): number {
  let reach = claimedTo;
  if (cs >= reach) {
    const prev = cs > 0 ? text.charCodeAt(cs - 1) : 32;
    if (isUpper(prev)) reach = Math.max(reach, tryLetterLed(text, cs, emit));
    else if (prev >= 97 && prev <= 122 && cs >= 2 && isWordChar(text.charCodeAt(cs - 2))) reach = Math.max(reach, tryIban(text, cs - 2, emit)); // typed in lower case
    reach = Math.max(reach, tryCrypto(text, cs, emit), tryMac(text, cs, ce, emit));
  }
  let digits = 0;
  let dots = 0;
  for (let i = cs; i < ce; i++) {
    const c = text.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (c === 46) dots++;
  }
  if (digits >= 4) tryBirthDate(text, cs, ce, emit);
  if (digits < 7 && dots < 3) return reach;
  let phoneTo = 0;
  for (let p = Math.max(cs, reach); p < ce; p++) {
    if (!isDigit(text.charCodeAt(p)) || (p > cs && isDigit(text.charCodeAt(p - 1)))) continue;
    if (dots >= 3) tryIpv4(text, p, emit);
    if (digits < 7) continue;
    tryCard(text, p, emit);
    trySsn(text, p, emit);
    tryNhs(text, p, emit);
    tryBare(text, p, emit);
    if (p >= phoneTo) phoneTo = tryPhone(text, p, emit);
  }
  return reach;
}

function findNumeric(text: string, emit: Sink): void {
  let reach = 0;
  CHUNK_RE.lastIndex = 0;
  for (let m = CHUNK_RE.exec(text); m; m = CHUNK_RE.exec(text)) {
    reach = scanChunk(text, m.index, m.index + m[0].length, emit, reach);
  }
}

// ---------------------------------------------------------------- anchored recognisers
/** RFC 4291 §2.2 text forms, including '::' compression and a trailing dotted quad. */
function ipv6Valid(s: string): boolean {
  let groups = s.split(':');
  const last = groups[groups.length - 1]!;
  let quad = 0;
  if (last.includes('.')) {
    const q = last.split('.');
    if (q.length !== 4 || !q.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) return false;
    groups = groups.slice(0, -1).concat(['0', '0']);
    quad = 1;
  }
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return false;
  if (dbl < 0) return groups.length === 8 && groups.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g));
  const nonEmpty = groups.filter((g) => g !== '');
  if (nonEmpty.length > 7 || !nonEmpty.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  // "a::b" and "1::2" are C++ scopes and Python slices far more often than addresses.
  return nonEmpty.reduce((a, g) => a + g.length, 0) + quad * 4 >= 4 || s === '::1';
}

const MAC_COLON = /^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}$/;
const isColonRunChar = (c: number): boolean => isHex(c) || c === 58 || c === 46;

/** IPv6 and colon MACs, found from each ':' with hex (or ':') on both sides. */
function findColonAddresses(text: string, emit: Sink): void {
  let floor = 0;
  for (let i = text.indexOf(':'); i >= 0; i = text.indexOf(':', i + 1)) {
    const prev = i > 0 ? text.charCodeAt(i - 1) : 58;
    const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
    if (i < floor || !(isHex(prev) || prev === 58) || !(isHex(next) || next === 58)) continue;
    let s = i;
    while (s > floor && isColonRunChar(text.charCodeAt(s - 1))) s--;
    let e = i + 1;
    while (e < text.length && isColonRunChar(text.charCodeAt(e))) e++;
    floor = e;
    i = e - 1;
    while (e > s && (text[e - 1] === '.' || (text[e - 1] === ':' && text[e - 2] !== ':'))) e--;
    while (s < e && text[s] === '.') s++;
    if (e - s > 45 || e - s < 3) continue;
    if ((s > 0 && isWordChar(text.charCodeAt(s - 1))) || (e < text.length && isWordChar(text.charCodeAt(e)))) continue;
    const run = text.slice(s, e);
    if (MAC_COLON.test(run)) emit('MAC_ADDRESS', s, e, 0.85);
    else if (ipv6Valid(run)) emit('IP_ADDRESS', s, e, before(text, s, IP_CTX) ? 0.95 : 0.85);
  }
}

const LOCAL_CHAR = /[A-Za-z0-9._%+-]/;
const DOMAIN_CHAR = /[A-Za-z0-9.-]/;
const DOMAIN_OK = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$/;

/** Emails are found from each '@' outward; RFC 5321 §4.5.3.1 length limits bound the work per '@'. */
function findEmails(text: string, emit: Sink): void {
  let floor = 0;
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let s = at;
    while (s > floor && at - s < 64 && LOCAL_CHAR.test(text[s - 1]!)) s--;
    while (s < at && text[s] === '.') s++;
    let e = at + 1;
    while (e < text.length && e - at <= 254 && DOMAIN_CHAR.test(text[e]!)) e++;
    while (e > at + 1 && (text[e - 1] === '.' || text[e - 1] === '-')) e--;
    if (s === at || text[at - 1] === '.' || !DOMAIN_OK.test(text.slice(at + 1, e))) continue;
    emit('EMAIL_ADDRESS', s, e, 0.9);
    floor = e;
    at = e - 1;
  }
}

const URL_BODY = /[^\s<>"'`{}|\\^]*/y;
const URL_TRAIL = /[.,;:!?)\]*_]+$/;
const URL_HOST = /[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*/y;

/** A URL from its scheme (or "www.") at s; trailing punctuation and an unbalanced ')' are not part of it. */
function emitUrl(text: string, s: number, hostStart: number, www: boolean, emit: Sink): number {
  const stop = hostStart + at(URL_BODY, text, hostStart)![0].length;
  let e = stop;
  const trail = URL_TRAIL.exec(text.slice(Math.max(hostStart, stop - 8), stop))?.[0] ?? '';
  if (trail) {
    e -= trail.length;
    // Keep a closing paren the URL itself opened: https://en.example.org/wiki/Foo_(bar)
    const body = text.slice(s, e);
    if (trail[0] === ')' && body.split('(').length > body.split(')').length) e++;
  }
  const host = at(URL_HOST, text, hostStart)?.[0] ?? '';
  if (host && hostStart + host.length <= e && (!www || host.includes('.'))) emit('URL', s, e, www ? 0.5 : 0.6);
  return stop;
}

function findUrls(text: string, emit: Sink): void {
  let floor = 0;
  for (let i = text.indexOf('://'); i >= 0; i = text.indexOf('://', i + 3)) {
    const s = text[i - 1] === 's' || text[i - 1] === 'S' ? i - 5 : i - 4;
    if (s < floor || s < 0 || text.slice(s, s + 4).toLowerCase() !== 'http' || (s > 0 && isWordChar(text.charCodeAt(s - 1)))) continue;
    floor = emitUrl(text, s, i + 3, false, emit);
  }
  for (const www of ['www.', 'WWW.']) {
    for (let i = text.indexOf(www); i >= 0; i = text.indexOf(www, i + 4)) {
      const pc = i > 0 ? text.charCodeAt(i - 1) : 32;
      if (isWordChar(pc) || pc === 46 || pc === 47 || pc === 64) continue; // inside a host, a path, an email
      emitUrl(text, i, i + 4, true, emit);
    }
  }
}

// ---------------------------------------------------------------- overlaps
/** Tie-break among equal confidence: checksummed and specific types first. */
const TYPE_RANK: Record<PiiType, number> = {
  CREDIT_CARD: 0, IBAN_CODE: 0, CRYPTO: 0, EMAIL_ADDRESS: 1, UK_NHS: 2, US_SSN: 2, US_ITIN: 2,
  MAC_ADDRESS: 3, IP_ADDRESS: 3, PHONE_NUMBER: 4, DATE_OF_BIRTH: 5, URL: 6, US_PASSPORT: 6,
  US_DRIVER_LICENSE: 6, US_BANK_NUMBER: 7,
};

/** Index of the first finding in a start-sorted, non-overlapping list that ends after pos. */
function firstEndingAfter(list: Finding[], pos: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.end <= pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Keep the strongest claim on each span (a Luhn card over a phone, an IBAN
 * over a bank number, an email over the "www." inside it). A URL may still
 * contain what was found inside it (an IP host, an email in the query).
 * Kept URLs and kept others are each non-overlapping, so every check is a
 * binary search and many findings stay O(n log n).
 */
function resolveOverlaps(found: Finding[]): Finding[] {
  found.sort((a, b) => a.start - b.start);
  let maxEnd = -1;
  let overlapping = false;
  for (const f of found) {
    if (f.start < maxEnd) overlapping = true;
    maxEnd = Math.max(maxEnd, f.end);
  }
  if (!overlapping) return found;
  found.sort((a, b) => b.confidence - a.confidence || TYPE_RANK[a.type as PiiType] - TYPE_RANK[b.type as PiiType] || a.start - b.start);
  const urls: Finding[] = [];
  const others: Finding[] = [];
  for (const f of found) {
    const isUrl = f.type === 'URL';
    const same = isUrl ? urls : others;
    const cross = isUrl ? others : urls;
    const i = firstEndingAfter(same, f.start);
    if (i < same.length && same[i]!.start < f.end) continue;
    const j = firstEndingAfter(cross, f.start);
    let k = j;
    while (k < cross.length && cross[k]!.start < f.end) k++;
    if (k > j) {
      const first = cross[j]!;
      const nested = isUrl
        ? first.start >= f.start && cross[k - 1]!.end <= f.end
        : k - j === 1 && first.start <= f.start && f.end <= first.end;
      if (!nested) continue;
    }
    same.splice(i, 0, f);
  }
  return urls.concat(others).sort((a, b) => a.start - b.start || a.end - b.end);
}

// ---------------------------------------------------------------- detector
export class PiiDetector implements Detector {
  readonly name = 'pii';

  detect(text: string): Finding[] {
    const found: Finding[] = [];
    const emit: Sink = (type, start, end, confidence) => {
      found.push({ type, category: 'pii', start, end, confidence });
    };
    if (text.includes('@')) findEmails(text, emit);
    if (text.includes('://') || text.includes('www.') || text.includes('WWW.')) findUrls(text, emit);
    if (text.includes(':')) findColonAddresses(text, emit);
    findNumeric(text, emit);
    return found.length > 1 ? resolveOverlaps(found) : found;
  }
}
