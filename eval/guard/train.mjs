#!/usr/bin/env node
// `npm run train:guard`: trains the learned prompt-injection classifier
// (packages/warden/src/guard/injection-model.ts) on the development corpora
// only — injection.jsonl and train-*-injection.jsonl — never on a holdout file.
//
// Logistic regression over hashed, L2-normalised binary features, fitted by
// SGD with L2 decay. Long texts are split into windows; a benign text makes
// every window a negative example, an injection makes its most suspicious
// window (under the current weights) the positive one (multiple-instance
// learning: the label belongs to the text, the attack to one place in it).
//
// The classifier may veto a rule hit it scores below --veto (0.3), unless
// the rule score is at least --veto-unless (0.9). The threshold at which the
// classifier alone flags a text is chosen by 5-fold cross-validation: the
// lowest probability at which rules and classifier together keep the
// out-of-fold false-positive rate at or below --fpr (0.015) on the benign
// texts the rules were never tuned on (train-b, train-c). Then the model is fitted on
// all of it and written to packages/warden/src/guard/injection-model.json.
//
// Options: --bits N (2^N buckets), --chars 3,5 (character n-grams; 0,0 for
// none), --no-words, --epochs N, --l2 X, --lr X, --block-bits N (blocks of
// 2^N characters), --spans 2 (window sizes in blocks), --norm-cap N, --fpr X,
// --cv-only.
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const DIST = join(ROOT, 'packages/warden/dist/guard');
const { Features, featuresOf, sourceFeature, windowsOf } = await import(join(DIST, 'injection-model.js'));
const { InjectionDetector, INJECTION_THRESHOLD, normalisedText } = await import(join(DIST, 'injection.js'));
const { readCorpus } = await import(join(DIST, 'corpus.js'));

const { values: o } = parseArgs({
  options: {
    bits: { type: 'string', default: '16' },
    chars: { type: 'string', default: '0,0' },
    'no-words': { type: 'boolean', default: false },
    epochs: { type: 'string', default: '40' },
    l2: { type: 'string', default: '1e-5' },
    lr: { type: 'string', default: '0.5' },
    'block-bits': { type: 'string', default: '8' },
    spans: { type: 'string', default: '2' },
    'norm-cap': { type: 'string', default: '32' },
    fpr: { type: 'string', default: '0.015' },
    veto: { type: 'string', default: '0.3' },
    'veto-unless': { type: 'string', default: '0.9' },
    seed: { type: 'string', default: '7' },
    'cv-only': { type: 'boolean', default: false },
  },
});
const cfg = {
  bits: Number(o.bits),
  chars: o.chars.split(',').map(Number),
  words: !o['no-words'],
  blockBits: Number(o['block-bits']),
  spans: o.spans.split(',').map(Number),
  normCap: Number(o['norm-cap']),
};
const EPOCHS = Number(o.epochs), L2 = Number(o.l2), LR = Number(o.lr), MAX_FPR = Number(o.fpr);

// A small deterministic PRNG (mulberry32), so a retrain reproduces the same model.
let seed = Number(o.seed) >>> 0;
const rand = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const shuffle = (a) => {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
};

const files = ['injection.jsonl', ...readdirSync(HERE).filter((f) => /^train-.*-injection\.jsonl$/.test(f)).sort()];
const rules = new InjectionDetector({ model: null });
const docs = files.flatMap((f) =>
  readCorpus(join(HERE, f)).map((r) => {
    const t = normalisedText(r.text);
    const source = r.source ?? 'user';
    const src = sourceFeature(source, cfg.bits);
    const feats = featuresOf(t, cfg, new Features());
    const windows = windowsOf(t.length, cfg.blockBits, cfg.spans).map(([a, e]) => {
      const counts = new Map([[src, 1]]);
      for (let k = 0; k < feats.n; k++) {
        const block = feats.at[k] >> cfg.blockBits;
        if (block >= a && block < e) counts.set(feats.ids[k], (counts.get(feats.ids[k]) ?? 0) + 1);
      }
      let total = 0;
      for (const c of counts.values()) total += c;
      return { ids: Int32Array.from(counts.keys()), x: Float64Array.from(counts.values(), (c) => c / Math.sqrt(Math.min(total, cfg.normCap))) };
    });
    return { y: r.label === 'injection' ? 1 : 0, windows, rule: rules.score(r.text, source).score, file: f, source };
  }),
);
console.log(`${docs.length} texts from ${files.join(', ')} (${docs.filter((d) => d.y).length} injections), ${cfg.bits}-bit table, chars ${cfg.chars.join('-')}, words ${cfg.words}`);

// A window is its distinct feature ids and their counts scaled by 1/sqrt(total count), as the scorer computes.
const z = (m, win) => {
  let s = m.bias;
  for (let k = 0; k < win.ids.length; k++) s += m.w[win.ids[k]] * win.x[k];
  return s;
};
const best = (m, d) => {
  let top = d.windows[0], zt = -Infinity;
  for (const ids of d.windows) {
    const v = z(m, ids);
    if (v > zt) [zt, top] = [v, ids];
  }
  return { ids: top, z: zt };
};
const sigmoid = (x) => 1 / (1 + Math.exp(-x));

function train(set) {
  const m = { w: new Float64Array(1 << cfg.bits), bias: 0 };
  const pos = set.filter((d) => d.y).length, neg = set.length - pos;
  // Classes weigh the same whatever their counts.
  const cw = [set.length / (2 * neg), set.length / (2 * pos)];
  let step = 0;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    const examples = [];
    for (const d of set) {
      if (d.y) examples.push([best(m, d).ids, 1]);
      else for (const ids of d.windows) examples.push([ids, 0]);
    }
    for (const [ids, y] of shuffle(examples)) {
      const lr = LR / (1 + step++ * 1e-4);
      const g = (sigmoid(z(m, ids)) - y) * cw[y];
      m.bias -= lr * g * 0.1;
      for (let k = 0; k < ids.ids.length; k++) {
        const id = ids.ids[k];
        m.w[id] -= lr * (g * ids.x[k] + L2 * m.w[id]);
      }
    }
  }
  return m;
}

/** The int8 table the gateway ships: weight = q × scale. */
function quantise(m) {
  let max = 0;
  for (const v of m.w) max = Math.max(max, Math.abs(v));
  const scale = max / 127 || 1;
  const q = new Int8Array(m.w.length);
  for (let i = 0; i < q.length; i++) q[i] = Math.round(m.w[i] / scale);
  return { q, scale, bias: m.bias, w: Float64Array.from(q, (v) => v * scale) };
}

// 5-fold cross-validation: every text gets a probability from a model that never saw it.
const folds = 5;
const order = shuffle(docs.map((_, i) => i));
const oof = new Float64Array(docs.length);
for (let k = 0; k < folds; k++) {
  const test = new Set(order.filter((_, i) => i % folds === k));
  const m = quantise(train(docs.filter((_, i) => !test.has(i))));
  for (const i of test) oof[i] = sigmoid(best(m, docs[i]).z);
}
/** Recall and false-positive rate of `pick` over the texts for which `only` holds. */
const rate = (pick, only = () => true) => {
  let tp = 0, fn = 0, fp = 0, tn = 0;
  docs.forEach((d, i) => {
    if (!only(d)) return;
    const hit = pick(d, i);
    if (d.y && hit) tp++;
    else if (d.y) fn++;
    else if (hit) fp++;
    else tn++;
  });
  return { recall: tp / (tp + fn), fpr: fp / (fp + tn) };
};
const ruleHit = (d) => d.rule >= INJECTION_THRESHOLD;
// The classifier vetoes a rule hit it finds clearly benign, unless the rules are sure.
const VETO = Number(o.veto), VETO_UNLESS = Number(o['veto-unless']);
const kept = (d, i) => ruleHit(d) && (oof[i] >= VETO || d.rule >= VETO_UNLESS);
// As the detector does: the classifier alone never flags an operator's system prompt.
const combined = (t) => (d, i) => kept(d, i) || (oof[i] >= t && d.source !== 'system');
const candidates = [...new Set(Array.from(oof, (p) => Math.round(p * 1000) / 1000))].sort((a, b) => a - b);
// The rules were tuned on injection.jsonl and on train-d (its hard negatives: corrections addressed to
// people, chat-template code), so their false positives there say little; the false-positive budget is
// checked on the texts the rules were never tuned on (train-b, train-c), where it is honest.
const RULE_TUNED = new Set(['injection.jsonl', 'train-d-injection.jsonl']);
const fresh = (d) => !RULE_TUNED.has(d.file);
let threshold = 0.999;
for (const c of candidates) {
  if (rate(combined(c), fresh).fpr <= MAX_FPR) {
    threshold = c;
    break;
  }
}
const fmt = ({ recall, fpr }) => `recall ${recall.toFixed(3)}, FPR ${fpr.toFixed(3)}`;
console.log(`out-of-fold, rules alone:        ${fmt(rate(ruleHit))}`);
console.log(`out-of-fold, classifier at 0.5:  ${fmt(rate((d, i) => oof[i] >= 0.5))}`);
// The classifier alone at fixed false-positive rates: the figure to compare model settings by.
const benign = docs.flatMap((d, i) => (d.y ? [] : [oof[i]])).sort((a, b) => b - a);
for (const f of [0.01, 0.02]) {
  const cut = benign[Math.floor(f * benign.length)];
  console.log(`out-of-fold, classifier alone at FPR ${f}: ${fmt(rate((d, i) => oof[i] > cut))}`);
}
console.log(`out-of-fold, rules (vetoed below p ${VETO} unless >= ${VETO_UNLESS}) or p >= ${threshold.toFixed(3)}: ${fmt(rate(combined(threshold)))}`);
for (const f of files) {
  const mine = (d) => d.file === f;
  console.log(`  ${f}: rules ${fmt(rate(ruleHit, mine))}; combined ${fmt(rate(combined(threshold), mine))}`);
}

if (!o['cv-only']) {
  const m = quantise(train(docs));
  const out = {
    version: `lr-${new Date().toISOString().slice(0, 10)}-${docs.length}`,
    ...cfg,
    bias: Math.round(m.bias * 1e6) / 1e6,
    scale: m.scale,
    threshold,
    veto: VETO,
    vetoUnless: VETO_UNLESS,
    weights: Buffer.from(m.q.buffer).toString('base64'),
  };
  const file = join(ROOT, 'packages/warden/src/guard/injection-model.json');
  writeFileSync(file, JSON.stringify(out) + '\n');
  console.log(`wrote ${file} (${out.version}, threshold ${threshold})`);
}
