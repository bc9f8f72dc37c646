import { describe, expect, it } from 'vitest';
import { f1, readCorpus, scoreCorpus } from './corpus.js';
import type { Finding } from './finding.js';
import { PiiDetector } from './pii.js';

const detector = new PiiDetector();

/** [type, matched text] pairs, in order. */
function found(text: string): Array<[string, string]> {
  return detector.detect(text).map((f) => [f.type, text.slice(f.start, f.end)]);
}

describe('PiiDetector: each entity type with its span', () => {
  const cases: Array<[string, string, string]> = [
    ['CREDIT_CARD', 'charged twice on 4539 1488 0343 6467 yesterday', '4539 1488 0343 6467'],
    ['CREDIT_CARD', 'amex 3714-496353-98431 expired', '3714-496353-98431'],
    ['IBAN_CODE', 'IBAN: GB82 WEST 1234 5698 7654 32, thanks', 'GB82 WEST 1234 5698 7654 32'],
    ['IBAN_CODE', 'pay DE89370400440532013000.', 'DE89370400440532013000'],
    ['US_SSN', 'My SSN is 536-22-1947.', '536-22-1947'],
    ['US_ITIN', 'ITIN 912-78-3456 on the form', '912-78-3456'],
    ['US_BANK_NUMBER', 'checking account 4820193377 please', '4820193377'],
    ['US_PASSPORT', 'passport number C12345678', 'C12345678'],
    ['US_DRIVER_LICENSE', "driver's license D1234567", 'D1234567'],
    ['EMAIL_ADDRESS', 'write to jane.doe+billing@mail.example.co.uk.', 'jane.doe+billing@mail.example.co.uk'],
    ['PHONE_NUMBER', 'call (415) 555-0132 after 5', '(415) 555-0132'],
    ['PHONE_NUMBER', 'office +44 20 7946 0958', '+44 20 7946 0958'],
    ['IP_ADDRESS', 'failed login from 203.0.113.9 at 03:12', '203.0.113.9'],
    ['IP_ADDRESS', 'block 2001:db8:85a3::8a2e:370:7334 now', '2001:db8:85a3::8a2e:370:7334'],
    ['IP_ADDRESS', 'link-local fe80::1ff:fe23:4567:890a here', 'fe80::1ff:fe23:4567:890a'],
    ['MAC_ADDRESS', 'ether 3c:22:fb:0a:91:7e mtu', '3c:22:fb:0a:91:7e'],
    ['MAC_ADDRESS', 'BSSID A4-5E-60-C2-11-9F channel 6', 'A4-5E-60-C2-11-9F'],
    ['MAC_ADDRESS', 'cisco 001a.2b3c.4d5e.', '001a.2b3c.4d5e'],
    ['CRYPTO', 'send to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 please', '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2'],
    ['CRYPTO', 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq is mine', 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq'],
    ['CRYPTO', 'taproot bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297', 'bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297'],
    ['CRYPTO', 'eth 0x742d35Cc6634C0532925a3b844Bc454e4438f44e', '0x742d35Cc6634C0532925a3b844Bc454e4438f44e'],
    ['URL', 'see https://example.com/docs?q=1).', 'https://example.com/docs?q=1'],
    ['URL', 'details (https://en.example.org/wiki/Foo_(bar))', 'https://en.example.org/wiki/Foo_(bar)'],
    ['URL', 'visit www.example.org.', 'www.example.org'],
    ['DATE_OF_BIRTH', 'DOB: 1985-03-14, visit 2024-01-02', '1985-03-14'],
    ['DATE_OF_BIRTH', 'I was born on 14 March 1985 in Leeds', '14 March 1985'],
    ['UK_NHS', 'NHS number 943 476 5919', '943 476 5919'],
    ['UK_NHS', 'nhs 9434765919', '9434765919'],
  ];
  for (const [type, text, span] of cases) {
    it(`finds ${type} in "${text}"`, () => {
      expect(found(text)).toEqual([[type, span]]);
    });
  }

  it('reports findings with category pii, UTF-16 offsets and a confidence in 0..1', () => {
    const text = 'ünïcødé 😀 mail jane@example.com';
    const [f] = detector.detect(text) as [Finding];
    expect(f).toMatchObject({ type: 'EMAIL_ADDRESS', category: 'pii' });
    expect(text.slice(f.start, f.end)).toBe('jane@example.com');
    expect(f.confidence).toBeGreaterThan(0);
    expect(f.confidence).toBeLessThanOrEqual(1);
  });

  it('gives checksummed types high confidence (>= 0.9)', () => {
    for (const text of ['4539 1488 0343 6467', 'GB82 WEST 1234 5698 7654 32', '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2']) {
      expect(detector.detect(text)[0]!.confidence).toBeGreaterThanOrEqual(0.9);
    }
  });

  it('reports documented test cards but with lower confidence', () => {
    const [f] = detector.detect('use the test card 4111 1111 1111 1111');
    expect(f?.type).toBe('CREDIT_CARD');
    expect(f!.confidence).toBeLessThan(0.9);
  });
});

describe('PiiDetector: checksum failures are rejected', () => {
  it.each([
    ['a card failing Luhn', 'card 4539 1488 0343 6468'],
    ['an IBAN failing mod-97', 'IBAN GB83 WEST 1234 5698 7654 32'],
    ['an IBAN of the wrong length for its country', 'IBAN GB82 WEST 1234 5698 7654 3'],
    ['an NHS number failing mod-11', 'NHS number 943 476 5918'],
    ['a base58 address with a broken checksum', 'send to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3'],
    ['a bech32 address with a broken checksum', 'to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp'],
    ['an SSN in an area the SSA never issues', 'SSN 666-22-1947 and 000-12-3456 and 536-00-1947'],
    ['an IPv4 with an octet over 255', 'host 256.10.0.1'],
  ])('rejects %s', (_what, text) => {
    expect(found(text)).toEqual([]);
  });
});

describe('PiiDetector: context-dependent types need their context', () => {
  it.each([
    ['US_SSN', 'SSN 536221947', 'ticket 536221947'],
    ['US_BANK_NUMBER', 'account number 4820193377', 'order number 4820193377'],
    ['US_PASSPORT', 'passport 123456789', 'batch 123456789'],
    ['US_DRIVER_LICENSE', 'DL D1234567', 'part D1234567'],
    ['DATE_OF_BIRTH', 'date of birth 03/14/1985', 'meeting on 03/14/1985'],
    ['UK_NHS', 'NHS no 9434765919', 'ref 9434765919'],
    ['PHONE_NUMBER', 'phone 4155550132', 'order 4155550132'],
  ])('%s: found with context, not without', (type, withCtx, without) => {
    expect(found(withCtx).map(([t]) => t)).toEqual([type]);
    expect(found(without)).toEqual([]);
  });

  it('does not take a cloud account id for a bank account', () => {
    expect(found('AWS account 123456789012 owns the bucket')).toEqual([]);
  });
});

describe('PiiDetector: hard negatives', () => {
  it.each([
    ['version strings', 'upgrade to version 1.2.3.4 or v10.0.0.1, build 4.18.2.7'],
    ['a UUID', 'request 3f2b8c1e-9d4a-4c7b-a1e2-5f6d7c8b9a0e done'],
    ['a git SHA', 'revert e83c5163316f89bfbde7d9ab23ca2e25604af290'],
    ['a transaction hash', 'tx 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060'],
    ['timestamps', 'at 2024-03-14T09:26:53Z and 2024-03-14 09:26:53'],
    ['a date without birth context', 'due 2024-12-01'],
    ['order and invoice ids', 'Order #48213377, invoice INV-2024-00981'],
    ['C++ scopes and Python slices', 'std::vector<int> v; a[1::2]'],
    ['times', 'at 12:30:45, ratio 16:9'],
    ['@mentions and npm scopes', 'ping @jane, npm i @types/node'],
    ['an invalid phone-like sequence', 'dial 555-0132 or (000) 123-4567'],
    ['the placeholder SSN', 'use 123-45-6789 in the mockups'],
    ['bare domains', 'see example.com'],
  ])('does not report %s', (_what, text) => {
    expect(found(text)).toEqual([]);
  });
});

describe('PiiDetector: overlaps', () => {
  it('keeps an email over the www. host inside it', () => {
    expect(found('mail jane@www.example.com')).toEqual([['EMAIL_ADDRESS', 'jane@www.example.com']]);
  });

  it('keeps a URL and the IP that is its host', () => {
    expect(found('open http://10.0.0.5:8080/health')).toEqual([
      ['URL', 'http://10.0.0.5:8080/health'],
      ['IP_ADDRESS', '10.0.0.5'],
    ]);
  });

  it('keeps an IBAN over the digit groups inside it', () => {
    expect(found('bank account IBAN DE89 3704 0044 0532 0130 00')).toEqual([['IBAN_CODE', 'DE89 3704 0044 0532 0130 00']]);
  });

  it('keeps a phone number after a country code, not an NHS-shaped tail', () => {
    expect(found('hotline +1 404 555 0178')).toEqual([['PHONE_NUMBER', '+1 404 555 0178']]);
  });
});

describe('PiiDetector: pathological input runs in linear time', () => {
  const inputs: Array<[string, string]> = [
    ["200 KB of '@'", '@'.repeat(200_000)],
    ["'a' x 200 KB then '@'", 'a'.repeat(200_000) + '@'],
    ["'a@' repeated", 'a@'.repeat(100_000)],
    ['digits with separators', '1-2 3.4('.repeat(25_000)],
    ['spaced digits', '1 '.repeat(100_000)],
    ["'1.' repeated", '1.'.repeat(50_000)],
    ["':' repeated", ':'.repeat(200_000)],
    ['hex and colons', 'a:'.repeat(100_000)],
    ['one long digit run', '7'.repeat(200_000)],
    ['many IPs in one URL', 'http://' + '1.1.1.1/'.repeat(25_000)],
    ['many short IPs', '10.0.0.1 '.repeat(20_000)],
    ['birth words and years', 'born 1985 '.repeat(20_000)],
    ['uppercase and digits', 'GB82 '.repeat(40_000)],
  ];
  for (const [what, text] of inputs) {
    it(`${what} finishes in under 1 s`, () => {
      const t0 = performance.now();
      detector.detect(text);
      expect(performance.now() - t0).toBeLessThan(1000);
    });
  }
});


describe('PiiDetector: labelled corpus eval/guard/pii.jsonl', () => {
  const rows = readCorpus(new URL('../../../../eval/guard/pii.jsonl', import.meta.url));
  const stats = scoreCorpus(rows, (text) => detector.detect(text));
  const f1Of = (t: string): number => f1(stats.get(t) ?? { tp: 0, fp: 0, fn: 0 });

  it('has at least 700 lines, 200 hard negatives and 30 positives of each main type', () => {
    expect(rows.length).toBeGreaterThanOrEqual(700);
    expect(rows.filter((r) => r.spans.length === 0).length).toBeGreaterThanOrEqual(200);
    for (const t of ['CREDIT_CARD', 'IBAN_CODE', 'US_SSN', 'EMAIL_ADDRESS', 'PHONE_NUMBER', 'IP_ADDRESS', 'URL', 'CRYPTO', 'UK_NHS']) {
      expect(rows.flatMap((r) => r.spans).filter((s) => s.type === t).length, t).toBeGreaterThanOrEqual(30);
    }
  });

  it.each(['CREDIT_CARD', 'IBAN_CODE', 'UK_NHS', 'CRYPTO'])('%s F1 >= 0.95', (type) => {
    expect(f1Of(type)).toBeGreaterThanOrEqual(0.95);
  });

  it.each(['EMAIL_ADDRESS', 'PHONE_NUMBER', 'IP_ADDRESS', 'MAC_ADDRESS', 'URL', 'US_SSN'])('%s F1 >= 0.90', (type) => {
    expect(f1Of(type)).toBeGreaterThanOrEqual(0.9);
  });
});
