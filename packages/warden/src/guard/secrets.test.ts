import { describe, expect, it } from 'vitest';
import { f1, readCorpus, scoreCorpus } from './corpus.js';
import type { Finding } from './finding.js';
import { SecretsDetector } from './secrets.js';

const detector = new SecretsDetector();

// Deterministic fake values, built at run time so no format-valid token sits in the source.
let seed = 7;
function random(alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i += 1) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    s += alphabet[Math.floor((seed / 2 ** 32) * alphabet.length)];
  }
  return s;
}
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const B62 = UPPER + UPPER.toLowerCase() + '0123456789';
const B64 = B62 + '+/';
const B64URL = B62 + '-_';
const HEX = '0123456789abcdef';
const b64url = (s: string): string => Buffer.from(s).toString('base64url');
const pemLines = (n: number, nl = '\n'): string => Array.from({ length: n }, () => random(B64, 64)).join(nl);

/** Text with the secret between `before` and `after`, and where the finding must be. */
function sample(before: string, secret: string, after = ''): { text: string; start: number; end: number } {
  return { text: before + secret + after, start: before.length, end: before.length + secret.length };
}

const jwt = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url('{"sub":"42","iat":1700000000}')}.${random(B64URL, 43)}`;
const rsaKey = `-----BEGIN RSA PRIVATE KEY-----\n${pemLines(6)}\n-----END RSA PRIVATE KEY-----`;
const gcpKey = `-----BEGIN PRIVATE KEY-----\\n${pemLines(6, '\\n')}\\n-----END PRIVATE KEY-----`;

const positives: [string, { text: string; start: number; end: number }][] = [
  ['AWS_ACCESS_KEY', sample('aws_access_key_id = ', 'AKIA' + random('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16))],
  ['AWS_SECRET_KEY', sample('aws_secret_access_key = ', 'aQ3/' + random(B64, 36))],
  ['GCP_API_KEY', sample('?key=', 'AIza' + random(B64URL, 35), '&callback=init')],
  ['GCP_SERVICE_ACCOUNT', sample('{"type": "service_account", "private_key": "', gcpKey, '\\n"}')],
  ['AZURE_STORAGE_KEY', sample('AccountName=acme;AccountKey=', random(B64, 86) + '==', ';EndpointSuffix=core.windows.net')],
  ['AZURE_CLIENT_SECRET', sample('AZURE_CLIENT_SECRET=', 'a_B7Q~' + random(B62, 34))],
  ['GITHUB_TOKEN', sample('export GITHUB_TOKEN=', 'ghp_' + random(B62, 36))],
  ['GITHUB_TOKEN', sample('token: ', `github_pat_${random(B62, 22)}_${random(B62, 59)}`)],
  ['GITLAB_TOKEN', sample('PRIVATE-TOKEN: ', 'glpat-' + random(B64URL, 20))],
  ['SLACK_TOKEN', sample('token="', `xoxb-${random('0123456789', 11)}-${random('0123456789', 13)}-${random(B62, 24)}`, '"')],
  ['SLACK_WEBHOOK', sample('url: ', `https://hooks.slack.com/services/T${random(UPPER, 9)}/B${random(UPPER, 9)}/${random(B62, 24)}`)],
  ['STRIPE_KEY', sample("require('stripe')('", 'sk_live_' + random(B62, 24), "')")],
  ['OPENAI_API_KEY', sample('OPENAI_API_KEY=', `sk-proj-${random(B64URL, 64)}T3BlbkFJ${random(B64URL, 64)}`)],
  ['ANTHROPIC_API_KEY', sample('x-api-key: ', `sk-ant-api03-${random(B64URL, 93)}AA`)],
  ['PRIVATE_KEY', sample('key: |\n', rsaKey, '\n')],
  ['JWT', sample('Authorization: Bearer ', jwt)],
  ['PASSWORD_IN_URL', sample('postgres://app:', 'Zq8' + random(B62, 12), '@db.internal:5432/orders')],
  ['GENERIC_SECRET', sample('SESSION_SECRET=', random(B62, 32))],
  ['NPM_TOKEN', sample('//registry.npmjs.org/:_authToken=', 'npm_' + random(B62, 36))],
  ['PYPI_TOKEN', sample('password = ', 'pypi-AgEIcHlwaS5vcmc' + random(B64URL, 120))],
  ['SENDGRID_API_KEY', sample('SendGridAPIClient("', `SG.${random(B64URL, 22)}.${random(B64URL, 43)}`, '")')],
  ['TWILIO_API_KEY', sample('Client("', 'SK' + random(HEX, 32), '", secret)')],
  ['HUGGINGFACE_TOKEN', sample('--token ', 'hf_' + random(UPPER + UPPER.toLowerCase(), 34))],
  ['SHOPIFY_TOKEN', sample('X-Shopify-Access-Token: ', 'shpat_' + random(HEX, 32))],
  ['DIGITALOCEAN_TOKEN', sample('--access-token ', 'dop_v1_' + random(HEX, 64))],
  ['MAILGUN_API_KEY', sample("--user 'api:", 'key-' + random(HEX, 32), "'")],
  ['DATADOG_API_KEY', sample('DD_API_KEY=', random(HEX, 32))],
];

function only(text: string): Finding {
  const findings = detector.detect(text);
  expect(findings).toHaveLength(1);
  return findings[0]!;
}

describe('SecretsDetector', () => {
  it.each(positives)('finds %s with its exact span', (type, { text, start, end }) => {
    expect(only(text)).toMatchObject({ type, category: 'secret', start, end });
  });

  it('is sure (>= 0.9) of provider-prefixed tokens', () => {
    expect(only('export GITHUB_TOKEN=ghp_' + random(B62, 36)).confidence).toBeGreaterThanOrEqual(0.9);
  });

  it('is less sure (0.6-0.8) of keyword-anchored generic secrets', () => {
    const { confidence } = only('client_secret: ' + random(B62, 24));
    expect(confidence).toBeGreaterThanOrEqual(0.6);
    expect(confidence).toBeLessThanOrEqual(0.8);
  });

  it('reports Stripe test keys with lower confidence than live keys', () => {
    const test = only('sk_test_' + random(B62, 24));
    const live = only('sk_live_' + random(B62, 24));
    expect(test.type).toBe('STRIPE_KEY');
    expect(test.confidence).toBeLessThan(live.confidence);
  });

  it('reports a private key outside a service-account file as PRIVATE_KEY', () => {
    expect(only(rsaKey).type).toBe('PRIVATE_KEY');
  });

  it('reports a token in URL userinfo once, as the provider type', () => {
    const token = 'ghs_' + random(B62, 36);
    const text = `git clone https://x-access-token:${token}@github.com/acme/infra.git`;
    expect(only(text)).toMatchObject({ type: 'GITHUB_TOKEN', start: text.indexOf(token), end: text.indexOf(token) + 40 });
  });

  it('finds each of several secrets in one text', () => {
    const text = `a=${'AKIA' + random('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)} b=${'npm_' + random(B62, 36)} c=${jwt}`;
    expect(detector.detect(text).map((f) => f.type)).toEqual(['AWS_ACCESS_KEY', 'NPM_TOKEN', 'JWT']);
  });

  it.each([
    ['sk-...', 'OPENAI_API_KEY=sk-...'],
    ['x placeholder', 'OPENAI_API_KEY="sk-' + 'x'.repeat(48) + '"'],
    ['<API_KEY>', 'api_key = "<API_KEY>"'],
    ['${VAR}', 'api_key: ${OPENAI_API_KEY}'],
    ['CI reference', 'GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}'],
    ['YOUR_API_KEY', 'export ANTHROPIC_API_KEY=YOUR_API_KEY'],
    ['changeme', 'password: changeme'],
    ['repeated X', 'ghp_' + 'X'.repeat(36)],
    ['AWS example key', 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE'],
    ['AWS example secret', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    ['jwt.io example', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'],
    ['Stripe docs key', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc'],
    ['low-entropy password in prose', 'my password is hunter2'],
    ['repeated password', 'DB_PASSWORD=P@ssw0rdP@ssw0rd'],
    ['sequence', 'token: 0123456789abcdef0123'],
    ['elided PEM', '-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----'],
    ['placeholder URL password', 'postgres://user:password@localhost:5432/mydb'],
    ['short sk- string', 'pip install scikit-learn  # sk-learn'],
    ['UUID', 'request_id=3f2b8c1e-9a4d-4e6f-8b2a-1c3d5e7f9a0b'],
    ['SHA-256 digest', 'image: api@sha256:' + random(HEX, 64)],
    ['environment lookup', 'apiKey: process.env.OPENAI_API_KEY,'],
  ])('does not report a placeholder or example: %s', (_name, text) => {
    expect(detector.detect(text)).toEqual([]);
  });

  it('does not report a JWT-shaped string whose header is not JSON', () => {
    expect(detector.detect(`${b64url('{"alg" HS256')}.${b64url('{"sub":"1"}')}.${random(B64URL, 43)}`)).toEqual([]);
  });

  it('does not report a JWT whose JSON header has no "alg"', () => {
    expect(detector.detect(`${b64url('{"typ":"JWT"}')}.${b64url('{"sub":"1"}')}.${random(B64URL, 43)}`)).toEqual([]);
  });

  it.each([
    ["200 KB of 'A'", 'A'.repeat(200_000)],
    ["'ghp_' x 50,000", 'ghp_'.repeat(50_000)],
    ["'-----BEGIN ' x 20,000", '-----BEGIN '.repeat(20_000)],
    ['full PEM headers without END x 5,000', '-----BEGIN RSA PRIVATE KEY-----\n'.repeat(5_000)],
    ["'=' x 200,000", '='.repeat(200_000)],
    ["'password=' x 20,000", 'password='.repeat(20_000)],
    ["'eyJ' x 70,000", 'eyJ'.repeat(70_000)],
    ["'sk-' x 70,000", 'sk-'.repeat(70_000)],
    ["'://a:b@' x 30,000", '://a:b@'.repeat(30_000)],
    ['200 KB of base64 without a keyword', random(B64, 200_000)],
    ['200 KB of base64 after a keyword', 'secret=' + random(B64, 200_000)],
  ])('finishes a pathological input in under 1 s: %s', (_name, text) => {
    const t0 = performance.now();
    detector.detect(text);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});


describe('SecretsDetector on eval/guard/secrets.jsonl', () => {
  const rows = readCorpus(new URL('../../../../eval/guard/secrets.jsonl', import.meta.url));
  const counts = scoreCorpus(rows, (text) => detector.detect(text));

  it('has at least 350 rows, 120 of them negatives', () => {
    expect(rows.length).toBeGreaterThanOrEqual(350);
    expect(rows.filter((r) => r.spans.length === 0).length).toBeGreaterThanOrEqual(120);
  });

  it('scores F1 >= 0.90 on every type with at least 10 positives', () => {
    const weak = [...counts].filter(([, c]) => c.tp + c.fn >= 10 && f1(c) < 0.9).map(([type, c]) => `${type} ${f1(c).toFixed(3)}`);
    expect(weak).toEqual([]);
  });

  it('scores F1 >= 0.95 overall', () => {
    const total = { tp: 0, fp: 0, fn: 0 };
    for (const c of counts.values()) {
      total.tp += c.tp;
      total.fp += c.fp;
      total.fn += c.fn;
    }
    expect(f1(total)).toBeGreaterThanOrEqual(0.95);
  });
});
