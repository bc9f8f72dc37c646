/**
 * Finds credentials in text: provider-prefixed tokens, PEM private keys,
 * JWTs, passwords in URLs, and high-entropy values assigned to secret-ish
 * keys. Several token shapes follow gitleaks' rules (see NOTICE-gitleaks.md).
 *
 * Linear time by construction. One global regex finds every anchor (a
 * provider's literal prefix, or a `=`/`:`/`>` separator followed by 16 value
 * characters). At an anchor a sticky regex takes one greedy run of the
 * token's character class with nothing after it, so it cannot backtrack, and
 * the exact shape is tested on that bounded string. A token starting inside
 * a run of its own characters is not a token start, which keeps repeated
 * prefixes ('ghp_'.repeat(n)) at constant work per anchor.
 *
 * This file is longer than the usual ~400 lines because the rule table is
 * data; splitting it would scatter one detector across files.
 */
import type { Detector, Finding } from './finding.js';

interface Hit {
  type: string;
  start: number;
  end: number;
  confidence: number;
  /** Which hit wins an overlap: provider 3, keyword-typed 2, URL 1, generic 0. */
  priority: number;
}

type Matcher = (text: string, at: number, literal: string) => Hit | null;

interface TokenRule {
  type: string;
  prefixes: readonly string[];
  /** Characters the token body is made of; the body is the whole run. */
  chars: string;
  min: number;
  max: number;
  /** Exact shape of prefix + body, tested on the bounded run only. */
  shape?: RegExp;
  /** A number, or a function returning null to reject the token. */
  confidence: number | ((token: string) => number | null);
}

/** Values published in vendor documentation; never credentials. */
const KNOWN_EXAMPLES = new Set([
  'AKIAIOSFODNN7EXAMPLE',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  'sk_test_4eC39HqLyjWDarjtT1zdp7dc',
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
]);

const PLACEHOLDER_WORDS =
  /example|xxxx|your|placeholder|changeme|change_me|dummy|sample|redacted|replace|insert|fixme|todo|<|>|\$\{|\{\{|\*\*\*|\.\.\.|\u2026/i;

function shannon(s: string): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i += 1) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

const HEX_ONLY = /^[0-9a-fA-F]+$/;

/**
 * Entropy as a fraction of the most a string of this length and alphabet
 * (16 for hex, 64 otherwise) can have, so one threshold serves hex and
 * base64 and short and long values alike.
 */
export function entropyRatio(s: string): number {
  const alphabet = HEX_ONLY.test(s) ? 16 : 64;
  const max = Math.log2(Math.min(s.length, alphabet));
  return max > 0 ? shannon(s) / max : 0;
}

/** Runs like 'aaaaa' or '12345'/'abcde' mark typed-in placeholders, not random values. */
function hasRunsOrSequences(s: string): boolean {
  let same = 1;
  let steps = 0;
  for (let i = 1; i < s.length; i += 1) {
    const d = s.charCodeAt(i) - s.charCodeAt(i - 1);
    same = d === 0 ? same + 1 : 1;
    if (same >= 5) return true;
    if (d === 1 || d === -1) steps += 1;
  }
  return steps * 2 > s.length;
}

function isPlaceholder(value: string): boolean {
  return KNOWN_EXAMPLES.has(value) || PLACEHOLDER_WORDS.test(value) || hasRunsOrSequences(value);
}

/** A greedy run of `chars`, at most `max` long; always matches (possibly empty). */
function runOf(chars: string, max: number): RegExp {
  return new RegExp(`[${chars}]{0,${max}}`, 'y');
}

function runAt(re: RegExp, text: string, at: number): string {
  re.lastIndex = at;
  return re.exec(text)?.[0] ?? '';
}

function openAiConfidence(token: string): number | null {
  const body = token.slice(3);
  if (body.includes('T3BlbkFJ') && body.length >= 40) return 0.95;
  if (/^(?:proj|svcacct|admin)-/.test(body) && body.length >= 48) return 0.9;
  // Legacy and look-alike keys: plain base62 only, so 'sk-some-long-slug' is not one.
  if (!/^[A-Za-z0-9]{32,64}$/.test(body) || !/\d/.test(body) || !/[A-Z]/.test(body)) return null;
  return body.length === 48 ? 0.85 : 0.7;
}

const TOKEN_RULES: readonly TokenRule[] = [
  { type: 'AWS_ACCESS_KEY', prefixes: ['AKIA', 'ASIA', 'ABIA', 'ACCA'], chars: 'A-Z0-9', min: 16, max: 16, shape: /^[A-Z]{4}[A-Z2-7]{16}$/, confidence: 0.95 },
  { type: 'GCP_API_KEY', prefixes: ['AIza'], chars: 'A-Za-z0-9_\\-', min: 35, max: 35, confidence: 0.95 },
  { type: 'GITHUB_TOKEN', prefixes: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'], chars: 'A-Za-z0-9', min: 36, max: 36, confidence: 0.95 },
  { type: 'GITHUB_TOKEN', prefixes: ['github_pat_'], chars: 'A-Za-z0-9_', min: 82, max: 82, shape: /^github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}$/, confidence: 0.95 },
  { type: 'GITLAB_TOKEN', prefixes: ['glpat-', 'gldt-', 'glrt-', 'glptt-', 'glsoat-'], chars: 'A-Za-z0-9_\\-', min: 20, max: 64, confidence: 0.95 },
  { type: 'SLACK_TOKEN', prefixes: ['xoxb-', 'xoxp-', 'xoxa-', 'xoxr-', 'xoxs-', 'xoxe-'], chars: 'A-Za-z0-9\\-', min: 20, max: 250, shape: /^xox[abeoprs]-(?:\d{1,14}-){1,4}[A-Za-z0-9]{20,64}$/, confidence: 0.95 },
  { type: 'STRIPE_KEY', prefixes: ['sk_live_', 'rk_live_'], chars: 'A-Za-z0-9', min: 20, max: 247, confidence: 0.95 },
  // Test-mode keys still read and write test data: reported, less sure.
  { type: 'STRIPE_KEY', prefixes: ['sk_test_', 'rk_test_'], chars: 'A-Za-z0-9', min: 20, max: 247, confidence: 0.7 },
  { type: 'ANTHROPIC_API_KEY', prefixes: ['sk-ant-'], chars: 'A-Za-z0-9_\\-', min: 86, max: 130, shape: /^sk-ant-(?:api|admin|oat|sid)\d{2}-[A-Za-z0-9_-]{80,120}$/, confidence: 0.95 },
  { type: 'OPENAI_API_KEY', prefixes: ['sk-'], chars: 'A-Za-z0-9_\\-', min: 32, max: 300, confidence: openAiConfidence },
  { type: 'NPM_TOKEN', prefixes: ['npm_'], chars: 'A-Za-z0-9', min: 36, max: 36, confidence: 0.9 },
  { type: 'PYPI_TOKEN', prefixes: ['pypi-AgEIcHlwaS5vcmc', 'pypi-AgENdGVzdC5weXBpLm9yZw'], chars: 'A-Za-z0-9_\\-', min: 50, max: 1000, confidence: 0.95 },
  { type: 'SENDGRID_API_KEY', prefixes: ['SG.'], chars: 'A-Za-z0-9_.\\-', min: 66, max: 66, shape: /^SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/, confidence: 0.95 },
  { type: 'TWILIO_API_KEY', prefixes: ['SK'], chars: 'A-Za-z0-9', min: 32, max: 32, shape: /^SK[0-9a-fA-F]{32}$/, confidence: 0.8 },
  { type: 'HUGGINGFACE_TOKEN', prefixes: ['hf_'], chars: 'A-Za-z0-9', min: 34, max: 34, confidence: 0.9 },
  { type: 'SHOPIFY_TOKEN', prefixes: ['shpat_', 'shpca_', 'shppa_', 'shpss_'], chars: 'A-Za-z0-9', min: 32, max: 32, shape: /^shp[a-z]{2}_[a-fA-F0-9]{32}$/, confidence: 0.95 },
  { type: 'DIGITALOCEAN_TOKEN', prefixes: ['dop_v1_', 'doo_v1_', 'dor_v1_'], chars: 'A-Za-z0-9', min: 64, max: 64, shape: /^do[por]_v1_[a-f0-9]{64}$/, confidence: 0.95 },
  { type: 'MAILGUN_API_KEY', prefixes: ['key-'], chars: 'A-Za-z0-9', min: 32, max: 32, shape: /^key-[0-9a-f]{32}$/, confidence: 0.8 },
];

function tokenMatcher(rule: TokenRule): Matcher {
  const body = runOf(rule.chars, rule.max + 1);
  const joins = new RegExp(`[A-Za-z0-9${rule.chars}]`);
  return (text, at, literal) => {
    if (at > 0 && joins.test(text[at - 1]!)) return null;
    const run = runAt(body, text, at + literal.length);
    if (run.length < rule.min || run.length > rule.max) return null;
    const token = literal + run;
    if (rule.shape && !rule.shape.test(token)) return null;
    if (isPlaceholder(token) || entropyRatio(run) < 0.6) return null;
    const confidence = typeof rule.confidence === 'number' ? rule.confidence : rule.confidence(token);
    if (confidence === null) return null;
    return { type: rule.type, start: at, end: at + token.length, confidence, priority: 3 };
  };
}

// --- PEM private keys (RFC 7468 textual encoding; PGP per RFC 4880 §6.2) ---

const PEM_HEADER = /-----BEGIN ((?:[A-Z0-9]{1,10} ){0,3})PRIVATE KEY( BLOCK)?-----/y;
/** Encrypted PEM (Proc-Type/DEK-Info) and armour headers (Version/Comment). */
const PEM_META = /(?:(?:\r?\n|\\r\\n|\\n)(?:Proc-Type|DEK-Info|Version|Comment|Hash|Charset): [^\r\n\\]{1,200}){0,6}/y;
/** Base64 lines, raw or JSON-escaped (\n); stops at the first '-'. */
const PEM_BODY = /[A-Za-z0-9+/=\s\\]{0,65536}/y;
const PEM_FOOTER = /-----END ((?:[A-Z0-9]{1,10} ){0,3})PRIVATE KEY( BLOCK)?-----/y;
const PEM_BODY_NOISE = /\s|\\[nr]/g;

const pemMatcher: Matcher = (text, at) => {
  PEM_HEADER.lastIndex = at;
  const header = PEM_HEADER.exec(text);
  if (!header) return null;
  const meta = runAt(PEM_META, text, PEM_HEADER.lastIndex);
  const bodyStart = PEM_HEADER.lastIndex + meta.length;
  const body = runAt(PEM_BODY, text, bodyStart);
  const base64 = body.replace(PEM_BODY_NOISE, '');
  if (base64.length < 64 || entropyRatio(base64.slice(0, 256)) < 0.7) return null;
  PEM_FOOTER.lastIndex = bodyStart + body.length;
  const footer = PEM_FOOTER.exec(text);
  let end: number;
  let confidence = 0.95;
  if (footer && footer[1] === header[1] && footer[2] === header[2]) {
    end = PEM_FOOTER.lastIndex;
  } else if (base64.length >= 200) {
    // Truncated in a log or a paste: the part shown is still key material.
    end = bodyStart + body.trimEnd().replace(/(?:\\[nr])+$/, '').length;
    confidence = 0.75;
  } else {
    return null;
  }
  const around = text.slice(Math.max(0, at - 4000), Math.min(text.length, end + 4000));
  const type = around.includes('service_account') ? 'GCP_SERVICE_ACCOUNT' : 'PRIVATE_KEY';
  return { type, start: at, end, confidence, priority: 3 };
};

// --- JWT (RFC 7519 §3: base64url header.payload.signature) ---

const B64URL_RUN = runOf('A-Za-z0-9_\\-', 8193);
const B64URL_CHAR = /[A-Za-z0-9_-]/;

function decodesToJsonObject(segment: string): Record<string, unknown> | null {
  const json = Buffer.from(segment, 'base64url').toString('utf8');
  if (!json.startsWith('{') || !json.trimEnd().endsWith('}')) return null;
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

const jwtMatcher: Matcher = (text, at) => {
  if (at > 0 && B64URL_CHAR.test(text[at - 1]!)) return null;
  const header = runAt(B64URL_RUN, text, at);
  let p = at + header.length;
  if (header.length > 2048 || text[p] !== '.') return null;
  const payload = runAt(B64URL_RUN, text, p + 1);
  p += 1 + payload.length;
  if (payload.length < 4 || payload.length > 8192 || text[p] !== '.') return null;
  const signature = runAt(B64URL_RUN, text, p + 1);
  p += 1 + signature.length;
  if (signature.length < 16 || signature.length > 8192) return null;
  if (KNOWN_EXAMPLES.has(text.slice(at, p))) return null;
  if (typeof decodesToJsonObject(header)?.alg !== 'string') return null;
  const confidence = decodesToJsonObject(payload) ? 0.95 : 0.85;
  return { type: 'JWT', start: at, end: p, confidence, priority: 3 };
};

// --- Passwords in URLs (RFC 3986 §3.2.1 userinfo) ---

const URL_USERINFO = /:\/\/([^\s:@/?#"'<>\\`]{0,64}):([^\s:@/?#"'<>\\`]{1,128})@[A-Za-z0-9[]/y;
const PASSWORD_PLACEHOLDERS = /^(?:pass(?:word|wd)?|pwd|pw|secret|token|\*+|x+)$/i;
const TEMPLATED = /^[$%{*]/;

const urlMatcher: Matcher = (text, at) => {
  if (at === 0 || !/[A-Za-z0-9+.-]/.test(text[at - 1]!)) return null;
  URL_USERINFO.lastIndex = at;
  const m = URL_USERINFO.exec(text);
  if (!m) return null;
  const user = m[1]!;
  const password = m[2]!;
  if (password === user || PASSWORD_PLACEHOLDERS.test(password) || TEMPLATED.test(password) || isPlaceholder(password)) return null;
  const start = at + 3 + user.length + 1;
  const confidence = password.length >= 12 && entropyRatio(password) >= 0.75 ? 0.9 : 0.8;
  return { type: 'PASSWORD_IN_URL', start, end: start + password.length, confidence, priority: 1 };
};

// --- Azure AD client secrets carry a 'Q~' marker at index 4 (gitleaks azure-ad-client-secret) ---

const AZURE_SECRET_HEAD = /[a-zA-Z0-9_~.]{3}\dQ~/y;
const AZURE_SECRET_TAIL = runOf('a-zA-Z0-9_~.\\-', 35);
const AZURE_SECRET_CHAR = /[a-zA-Z0-9_~.-]/;

const azureSecretMatcher: Matcher = (text, at) => {
  const start = at - 4;
  if (start < 0 || (start > 0 && AZURE_SECRET_CHAR.test(text[start - 1]!))) return null;
  AZURE_SECRET_HEAD.lastIndex = start;
  if (!AZURE_SECRET_HEAD.test(text)) return null;
  const tail = runAt(AZURE_SECRET_TAIL, text, at + 2);
  if (tail.length < 31 || tail.length > 34 || isPlaceholder(tail)) return null;
  return { type: 'AZURE_CLIENT_SECRET', start, end: at + 2 + tail.length, confidence: 0.85, priority: 3 };
};

// --- Slack incoming webhooks ---

const SLACK_WEBHOOK = /hooks\.slack\.com\/services\/T[A-Z0-9]{8,12}\/B[A-Z0-9]{8,12}\/[A-Za-z0-9]{24}(?![A-Za-z0-9])/y;

const slackWebhookMatcher: Matcher = (text, at) => {
  SLACK_WEBHOOK.lastIndex = at;
  if (!SLACK_WEBHOOK.test(text)) return null;
  const path = text.slice(at + 25, SLACK_WEBHOOK.lastIndex);
  if (isPlaceholder(path.slice(-24)) || path.includes('00000000')) return null;
  const scheme = text.startsWith('https://', at - 8) ? 8 : text.startsWith('http://', at - 7) ? 7 : 0;
  return { type: 'SLACK_WEBHOOK', start: at - scheme, end: SLACK_WEBHOOK.lastIndex, confidence: 0.95, priority: 3 };
};

// --- Keyword-anchored values: key name, separator, value ---

/** Characters a secret value may contain (no quotes, spaces, brackets, ':' or ';'). */
const VALUE_CHARS = 'A-Za-z0-9+/=_\\-.~!@#%^&*?|$';
const VALUE_RUN = runOf(VALUE_CHARS, 257);
const KEY_NAME_CHAR = /[A-Za-z0-9_.-]/;
const SECRET_KEY_NAME =
  /pass|pwd|secret|token|api[_-]?key|access[_-]?key|account[_-]?key|storage[_-]?key|private[_-]?key|app[_-]?key|auth|credential/i;
/** Last word of a key name that names metadata about a secret, not the secret. */
const METADATA_WORDS = new Set([
  'id', 'ids', 'name', 'type', 'url', 'uri', 'endpoint', 'path', 'file', 'dir', 'length', 'len', 'size', 'expiry', 'expires',
  'expiration', 'at', 'in', 'ttl', 'count', 'limit', 'version', 'hint', 'prefix', 'format', 'field', 'header', 'mode', 'policy',
  'method', 'kind', 'algorithm', 'alg', 'hash', 'digest', 'checksum', 'fingerprint', 'provider', 'required', 'enabled', 'env', 'ref',
]);
const SCHEME_WORDS = /^(?:bearer|basic|token|bot)$/i;

function keyNameBefore(text: string, sep: number): { name: string; start: number } {
  let i = sep - 1;
  // '=>' and ':=' separators, then a closing quote or bracket: "k" = , ["k"]: , \"k\":
  for (let skipped = 0; i >= 0 && skipped < 5 && /[\s"'`\]\\=:]/.test(text[i]!); skipped += 1) i -= 1;
  const end = i + 1;
  while (i >= 0 && end - i <= 64 && KEY_NAME_CHAR.test(text[i]!)) i -= 1;
  return { name: text.slice(i + 1, end), start: i + 1 };
}

function lastWord(keyName: string): string {
  const words = keyName.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/[_.-]/);
  return words[words.length - 1] ?? '';
}

function looksLikeIdentifier(value: string): boolean {
  const segments = value.split(/[._\-/]/);
  if (segments.length >= 2 && segments.every((s) => /^(?:[A-Za-z][a-z]*|[A-Z]+|\d{1,4}|[a-z]{1,3}\d{1,3}|)$/.test(s))) return true;
  // Random strings switch between upper, lower and digit at ~60% of positions; words and camelCase far less.
  let switches = 0;
  for (let i = 1; i < value.length; i += 1) if (charClass(value.charCodeAt(i)) !== charClass(value.charCodeAt(i - 1))) switches += 1;
  return !HEX_ONLY.test(value) && switches < 0.3 * value.length;
}

function charClass(c: number): number {
  if (c >= 48 && c <= 57) return 0;
  if (c >= 65 && c <= 90) return 1;
  if (c >= 97 && c <= 122) return 2;
  return 3;
}

/**
 * GENERIC_SECRET threshold: at 0.75 of the maximum entropy for the value's
 * length and alphabet (0.7 for hex), over 99.9% of uniformly random base62
 * and base64 values of 16-256 chars pass (measured: p0.1 is 0.79 for 16-char
 * base62, 0.82 for 40-char base64; 0.78 for 32-char hex, 0.61 for 16-char
 * hex), while human passwords built from repeats ('P@ssw0rdP@ssw0rd' 0.69,
 * 'Summer2024!Summer' 0.74) fall below.
 */
function isHighEntropySecret(value: string): boolean {
  if (value.length < 16 || value.length > 256) return false;
  if (!/\d/.test(value) || !/[A-Za-z]/.test(value) || value.startsWith('/') || value.startsWith('$')) return false;
  if (isPlaceholder(value) || looksLikeIdentifier(value)) return false;
  return entropyRatio(value) >= (HEX_ONLY.test(value) ? 0.7 : 0.75);
}

const BASE64_40 = /^[A-Za-z0-9/+]{40}$/;
const BASE64_88 = /^[A-Za-z0-9/+]{86}==$/;

function classifyKeyed(text: string, key: string, keyStart: number, value: string): Omit<Hit, 'start' | 'end'> | null {
  const k = key.toLowerCase().replace(/[_.-]/g, '');
  const before = (n: number): string => text.slice(Math.max(0, keyStart - n), keyStart).toLowerCase();
  if (BASE64_40.test(value) && /[a-z]/.test(value) && /[A-Z]/.test(value) && !isPlaceholder(value)) {
    if (k.includes('secretaccesskey') || (k.includes('secret') && (k.includes('aws') || before(300).includes('aws')))) {
      return { type: 'AWS_SECRET_KEY', confidence: 0.9, priority: 2 };
    }
  }
  if (BASE64_88.test(value) && /accountkey|storagekey|azure/.test(k) && !isPlaceholder(value)) {
    return { type: 'AZURE_STORAGE_KEY', confidence: 0.9, priority: 2 };
  }
  const azure = k.includes('azure') || /microsoftonline|azure/.test(before(300));
  if (azure && /secret|password/.test(k) && isHighEntropySecret(value)) {
    return { type: 'AZURE_CLIENT_SECRET', confidence: 0.85, priority: 2 };
  }
  const datadog = /datadog|^dd(?:api|app)key$/.test(k) || (/^(?:api|app)key$/.test(k) && before(300).includes('datadog'));
  if (datadog && /^[a-f0-9]{32}$|^[a-f0-9]{40}$/.test(value) && isHighEntropySecret(value)) {
    return { type: 'DATADOG_API_KEY', confidence: 0.85, priority: 2 };
  }
  if (!isHighEntropySecret(value)) return null;
  const confidence = 0.6 + (value.length >= 24 ? 0.1 : 0) + (entropyRatio(value) >= 0.9 ? 0.1 : 0);
  return { type: 'GENERIC_SECRET', confidence, priority: 0 };
}

/** Value after a separator at `sep` (or after the flag name for '--flag value'). */
/** `<add key="SmtpPassword" value="...">` and `{"name": "API_TOKEN", "value": "..."}`: the key is named before 'value'. */
const NAMED_BY_SIBLING = /["']?(?:key|name)["']?\s{0,2}[=:]\s{0,2}["']([A-Za-z0-9_.-]{1,64})["'],?\s{0,4}$/;

function keyedMatch(text: string, sep: number, valueFrom: number, key: { name: string; start: number }): Hit | null {
  if (key.name === 'value') {
    const sibling = NAMED_BY_SIBLING.exec(text.slice(Math.max(0, key.start - 80), key.start));
    if (sibling) key = { name: sibling[1]!, start: key.start };
  }
  if (!SECRET_KEY_NAME.test(key.name) || METADATA_WORDS.has(lastWord(key.name))) return null;
  let i = valueFrom;
  while (i < text.length && i - sep <= 6 && /[=>\s"'`\\]/.test(text[i]!)) i += 1;
  let value = runAt(VALUE_RUN, text, i);
  if (SCHEME_WORDS.test(value) && text[i + value.length] === ' ') {
    i += value.length + 1;
    value = runAt(VALUE_RUN, text, i);
  }
  if (value.length > 256) return null;
  const kind = classifyKeyed(text, key.name, key.start, value);
  return kind ? { ...kind, start: i, end: i + value.length } : null;
}

// --- Scanning ---

const MATCHERS = new Map<string, Matcher[]>();
function register(literal: string, matcher: Matcher): void {
  const list = MATCHERS.get(literal) ?? [];
  list.push(matcher);
  MATCHERS.set(literal, list);
}
for (const rule of TOKEN_RULES) {
  const matcher = tokenMatcher(rule);
  for (const prefix of rule.prefixes) register(prefix, matcher);
}
register('-----BEGIN ', pemMatcher);
register('eyJ', jwtMatcher);
register('://', urlMatcher);
register('Q~', azureSecretMatcher);
register('hooks.slack.com/', slackWebhookMatcher);

const escapeLiteral = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
const byLengthDesc = (a: string, b: string): number => b.length - a.length;
/** Which literal starts at a candidate position; longest first, so 'sk-ant-' wins over 'sk-'. */
const LITERAL_AT = new RegExp([...MATCHERS.keys()].sort(byLengthDesc).map(escapeLiteral).join('|'), 'y');

/**
 * Every alternative of the scan regex starts with a character that is rare
 * in prose ('_', '-', '.', ':', '~', '=', '>' or an upper-case letter), so
 * V8 skips ahead quickly; a lower-case prefix such as 'ghp_' is found at its
 * '_' and a lookbehind captures the part before it. On 10 MB of English and
 * code this scans at ~650 MB/s, against ~200 MB/s for a plain alternation of
 * the prefixes, whose common first letters defeat V8's skip loop.
 */
function buildScanner(literals: readonly string[]): { scan: RegExp; lookbehindGroups: number } {
  const direct: string[] = [];
  const behind = new Map<string, Set<string>>();
  for (const literal of literals) {
    const k = literal.search(/[_\-.:~A-Z]/);
    if (k <= 0) {
      direct.push(literal);
      continue;
    }
    const heads = behind.get(literal[k]!) ?? new Set<string>();
    heads.add(literal.slice(0, k + 1));
    behind.set(literal[k]!, heads);
  }
  const alternatives = [...behind].map(
    ([c, heads]) => `${escapeLiteral(c)}(?<=(${[...heads].sort(byLengthDesc).map(escapeLiteral).join('|')}))`,
  );
  alternatives.push(...direct.sort(byLengthDesc).map(escapeLiteral));
  // A separator followed by 16 value characters, or '--flag value'.
  alternatives.push(`([=:>])(?=[\\s"'\`\\\\=>]{0,4}(?:[A-Za-z]{3,6} )?[${VALUE_CHARS}]{16})`);
  alternatives.push(`(--)(?=[A-Za-z][A-Za-z0-9_-]{0,40} ["']?[${VALUE_CHARS}]{16})`);
  return { scan: new RegExp(alternatives.join('|'), 'g'), lookbehindGroups: behind.size };
}

const { scan: SCAN, lookbehindGroups: LOOKBEHIND_GROUPS } = buildScanner([...MATCHERS.keys()]);
const FLAG_NAME = /[A-Za-z][A-Za-z0-9_-]{0,40}/y;

/** Where the literal behind a scan match starts: a lookbehind capture ends at the signal character. */
function literalStart(m: RegExpExecArray): number {
  for (let g = 1; g <= LOOKBEHIND_GROUPS; g += 1) {
    const head = m[g];
    if (head !== undefined) return m.index + 1 - head.length;
  }
  return m.index;
}

function matchAt(text: string, m: RegExpExecArray): Hit | null {
  if (m[LOOKBEHIND_GROUPS + 1] !== undefined) return keyedMatch(text, m.index, m.index + 1, keyNameBefore(text, m.index));
  if (m[LOOKBEHIND_GROUPS + 2] !== undefined) {
    const name = runAt(FLAG_NAME, text, m.index + 2);
    const sep = m.index + 2 + name.length;
    return keyedMatch(text, sep, sep + 1, { name, start: m.index + 2 });
  }
  const start = literalStart(m);
  LITERAL_AT.lastIndex = start;
  const literal = LITERAL_AT.exec(text)?.[0];
  if (literal === undefined) return null;
  for (const matcher of MATCHERS.get(literal) ?? []) {
    const hit = matcher(text, start, literal);
    if (hit) return hit;
  }
  return null;
}

function resolveOverlaps(hits: Hit[]): Finding[] {
  hits.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Hit[] = [];
  for (const hit of hits) {
    const last = kept[kept.length - 1];
    if (last && hit.start < last.end) {
      const better = hit.priority > last.priority || (hit.priority === last.priority && hit.end - hit.start > last.end - last.start);
      if (better) kept[kept.length - 1] = hit;
      continue;
    }
    kept.push(hit);
  }
  return kept.map(({ type, start, end, confidence }) => ({ type, category: 'secret', start, end, confidence }));
}

export class SecretsDetector implements Detector {
  readonly name = 'secrets';

  detect(text: string): Finding[] {
    const hits: Hit[] = [];
    SCAN.lastIndex = 0;
    for (let m = SCAN.exec(text); m !== null; m = SCAN.exec(text)) {
      const hit = matchAt(text, m);
      if (hit) hits.push(hit);
      // Skip past keys and tokens so their bodies are not rescanned; keep scanning inside
      // keyed values and URL userinfo, where a provider token may sit.
      SCAN.lastIndex = hit !== null && hit.priority === 3 ? Math.max(hit.end, m.index + 1) : m.index + 1;
    }
    return hits.length === 0 ? [] : resolveOverlaps(hits);
  }
}
