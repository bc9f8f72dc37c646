#!/usr/bin/env node
// `npm run eval:guard`: precision, recall and F1 of Warden's guardrail detectors on the
// labelled corpora in this folder (written for this project), against the targets of the
// guardrails issue. A finding matches a labelled span when the types are equal and the
// spans overlap by at least half of the longer one; each labelled span matches once
// (packages/warden/src/guard/corpus.ts, shared with the detectors' tests).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const G = await import(join(ROOT, 'packages/warden/dist/guard/index.js'));

const CHECKSUMMED = ['CREDIT_CARD', 'IBAN_CODE', 'UK_NHS', 'CRYPTO'];
const STRUCTURED = ['EMAIL_ADDRESS', 'PHONE_NUMBER', 'IP_ADDRESS', 'MAC_ADDRESS', 'URL', 'US_SSN'];

const C = await import(join(ROOT, 'packages/warden/dist/guard/corpus.js'));
const lines = (f) => C.readCorpus(join(HERE, f));
// Each corpus labels one category (the secrets corpus does not label the emails in its .env files): score that category only.
const scoreSpans = (scanner, rows, category) => C.scoreCorpus(rows, (text) => scanner.scan(text, 0.5).filter((f) => f.category === category));

const prf = ({ tp, fp, fn }) => {
  const p = tp + fp ? tp / (tp + fp) : 1;
  const r = tp + fn ? tp / (tp + fn) : 1;
  return { p, r, f1: p + r ? (2 * p * r) / (p + r) : 0 };
};

const scanner = new G.ContentScanner([new G.SecretsDetector(), new G.PiiDetector()], Buffer.alloc(32));
const inj = new G.InjectionDetector();
// The rules without the learned classifier, for comparison; the model's own cross-validated figures are printed by `npm run train:guard`.
const rules = new G.InjectionDetector({ model: null });
const model = new G.InjectionModel();
const exists = (f) => existsSync(join(HERE, f));

/** One corpus set: `prefix` '' (the development corpora) or 'holdout-' (written apart from the detectors, never tuned on). */
function evaluate(label, prefix) {
  const out = { entities: {}, injection: {}, targets: [] };
  console.log(`\n## ${label}`);
  for (const [name, file, category] of [['PII', `${prefix}pii.jsonl`, 'pii'], ['secrets', `${prefix}secrets.jsonl`, 'secret']]) {
    if (!exists(file)) continue;
    const rows = lines(file);
    const per = scoreSpans(scanner, rows, category);
    const negatives = rows.filter((r) => r.spans.length === 0).length;
    console.log(`\n${name} (${file}): ${rows.length} samples (${negatives} hard negatives with nothing to find)\n`);
    console.log('| type | labelled | found | TP | FP | FN | precision | recall | F1 |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const [type, c] of [...per].sort()) {
      const { p, r, f1 } = prf(c);
      out.entities[type] = { ...c, precision: p, recall: r, f1 };
      console.log(`| ${type} | ${c.tp + c.fn} | ${c.tp + c.fp} | ${c.tp} | ${c.fp} | ${c.fn} | ${p.toFixed(3)} | ${r.toFixed(3)} | ${f1.toFixed(3)} |`);
    }
  }
  const file = `${prefix}injection.jsonl`;
  if (exists(file)) {
    const rows = lines(file);
    const rate = (det) => {
      let tp = 0, fn = 0, fp = 0, tn = 0;
      const fam = new Map();
      for (const row of rows) {
        const hit = det.score(row.text, row.source ?? 'user').score >= G.INJECTION_THRESHOLD;
        if (row.label === 'injection') {
          if (hit) tp++;
          else fn++;
          const f = fam.get(row.family) ?? { n: 0, hit: 0 };
          f.n++;
          if (hit) f.hit++;
          fam.set(row.family, f);
        } else if (hit) fp++;
        else tn++;
      }
      const recall = tp / (tp + fn), fpr = fp / (fp + tn), precision = tp / (tp + fp || 1);
      return { tp, fn, fp, tn, fam, injections: tp + fn, benign: fp + tn, recall, fpr, precision, f1: (2 * precision * recall) / (precision + recall || 1) };
    };
    const r = rate(inj), alone = rate(rules);
    out.injection = { injections: r.injections, benign: r.benign, recall: r.recall, fpr: r.fpr, precision: r.precision, f1: r.f1, rules: { recall: alone.recall, fpr: alone.fpr } };
    console.log(`\nprompt injection (${file}): ${r.injections} injections, ${r.benign} benign prompts (threshold ${G.INJECTION_THRESHOLD}, model ${model.version})`);
    console.log(`rules and model: recall ${r.recall.toFixed(3)}, false-positive rate on benign ${r.fpr.toFixed(3)} (${r.fp} of ${r.benign}), precision ${r.precision.toFixed(3)}, F1 ${r.f1.toFixed(3)}`);
    console.log(`rules alone:     recall ${alone.recall.toFixed(3)}, false-positive rate on benign ${alone.fpr.toFixed(3)} (${alone.fp} of ${alone.benign})`);
    console.log(`recall per family: ${[...r.fam].map(([k, v]) => `${k} ${(v.hit / v.n).toFixed(2)} (${v.n})`).join(', ')}`);
  }
  const target = (what, value, op, bound) => {
    const pass = op === '>=' ? value >= bound : value <= bound;
    out.targets.push({ what, value, bound, op, pass });
    return `${pass ? 'PASS' : 'FAIL'} ${what} ${value.toFixed(3)} (${op} ${bound})`;
  };
  console.log(`\ntargets (${label}):`);
  for (const t of CHECKSUMMED) if (out.entities[t]) console.log(`  ${target(`F1 ${t}`, out.entities[t].f1, '>=', 0.95)}`);
  for (const t of STRUCTURED) if (out.entities[t]) console.log(`  ${target(`F1 ${t}`, out.entities[t].f1, '>=', 0.9)}`);
  if (out.injection.recall !== undefined) {
    console.log(`  ${target('injection recall', out.injection.recall, '>=', 0.85)}`);
    console.log(`  ${target('false positives on benign prompts', out.injection.fpr, '<=', 0.02)}`);
  }
  return out;
}

const results = { development: evaluate('development corpora (the detectors were tuned on these, and the injection model trained on them: in-sample)', '') };
if (exists('holdout-pii.jsonl') || exists('holdout-injection.jsonl')) results.holdout = evaluate('held-out corpora, first set (written apart from the detectors, never tuned on; measured before the injection detector was reworked, so read by that work only through its score)', 'holdout-');
// A second held-out injection set, written after the first one had been scored and never shown to whoever changed the detector.
if (exists('holdout2-injection.jsonl')) results.holdout2 = evaluate('held-out corpora, second set (written apart from the detector and its other corpora, never tuned on)', 'holdout2-');
// A third, written after the second had been scored, before the detector's second rework was measured.
if (exists('holdout3-injection.jsonl')) results.holdout3 = evaluate('held-out corpora, third set (written apart from the detector and its other corpora, never tuned on)', 'holdout3-');
// A fourth, written while the learned classifier was being built, by a writer who never saw the detector or the other corpora; scored once, after the model was fixed.
if (exists('holdout4-injection.jsonl')) results.holdout4 = evaluate('held-out corpora, fourth set (written apart from the detector, the model and their corpora; never tuned on)', 'holdout4-');
// A fifth, written after the fourth was scored, while the classifier's veto was chosen (by cross-validation on the development corpora); scored once, after.
if (exists('holdout5-injection.jsonl')) results.holdout5 = evaluate('held-out corpora, fifth set (written apart from the detector, the model and their corpora; never tuned on)', 'holdout5-');
// A sixth, written while the rules were given their topic and engineering framings (on train-d) and the scorer its vocabulary index; scored once, after.
if (exists('holdout6-injection.jsonl')) results.holdout6 = evaluate('held-out corpora, sixth set (written apart from the detector, the model and their corpora; never tuned on)', 'holdout6-');
if (process.argv.includes('--json')) console.log(JSON.stringify(results));
process.exitCode = Object.values(results).every((r) => r.targets.every((t) => t.pass)) ? 0 : 1;
