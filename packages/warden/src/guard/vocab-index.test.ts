import { describe, expect, it } from 'vitest';
import { readCorpus } from './corpus.js';
import { InjectionDetector, mlGatePositions, normalisedText, setGating, type InjectionSource } from './injection.js';
import { ML_AUTHORITY, ML_DISMISS, ML_EXTRACT, ML_FREE, ML_GIVEN, ML_HIDDEN, ML_INSTR, ML_OLD, ML_SYSPROMPT, ML_VERBATIM, ML_VOID, ML_YOUR, VOCABULARIES } from './injection-rules.js';
import { alternatives, literalPrefix, VocabIndex } from './vocab-index.js';

interface Row {
  id: string;
  text: string;
  source: InjectionSource;
}
const corpus = (name: string) => readCorpus<Row>(new URL(`../../../../eval/guard/${name}`, import.meta.url));
const rows = [...corpus('injection.jsonl'), ...corpus('train-b-injection.jsonl'), ...corpus('train-c-injection.jsonl')];
// Texts with letters beyond ASCII: where the vocabularies of other languages are looked for.
const foreign = rows.filter((r) => /[\u00c0-\u024f\u0370-\u1fff\u3040-\u9fff\uac00-\ud7af]/.test(r.text));
const index = new VocabIndex(VOCABULARIES);
// As the rules build them (injection-rules.ts): whitespace around each bar is dropped.
const list = (words: string) => words.trim().split(/\s*\|\s*/).join('|');
const latin = (words: string) => String.raw`(?<![a-z])(?:${list(words)})(?![a-z])`;

describe('VocabIndex', () => {
  it('splits an alternation only at its top level, and keys each entry by its certain literal start', () => {
    expect(alternatives(String.raw`ignorier(?:e|en sie)?|oublie[zr]?|a\|b|du (?:har )?fick`)).toEqual([String.raw`ignorier(?:e|en sie)?`, 'oublie[zr]?', String.raw`a\|b`, 'du (?:har )?fick']);
    expect(literalPrefix('ocultas?')).toBe('oculta');
    expect(literalPrefix('zapomni?j')).toBe('zapomn');
    expect(literalPrefix('kurallar[a-z]{0,4}')).toBe('kurallar');
    expect(literalPrefix('忘记')).toBe('忘记');
    expect(() => new VocabIndex([{ name: 'bad', latin: '(?:a|b)c', stems: 'x' }])).toThrow(/no literal start/);
  });

  it('finds each vocabulary exactly where its alternation matches, with the same end', () => {
    expect(foreign.length).toBeGreaterThan(300);
    let checked = 0;
    for (const row of foreign) {
      const t = normalisedText(row.text);
      const hits = index.find(t);
      VOCABULARIES.forEach((v, concept) => {
        const re = new RegExp(`${latin(v.latin)}|(?:${list(v.stems)})`, 'y');
        const expected: Array<[number, number]> = [];
        for (let i = 0; i < t.length; i++) {
          re.lastIndex = i;
          const m = re.exec(t);
          if (m) expected.push([i, i + m[0].length]);
        }
        // The first hit at a position is the one the alternation prefers.
        const found: Array<[number, number]> = [];
        for (const h of hits) if (h.concept === concept && found.at(-1)?.[0] !== h.start) found.push([h.start, h.end]);
        expect(found, `${v.name} in ${row.id}`).toEqual(expected);
        checked += expected.length;
      });
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('gates where the alternation of all vocabularies, searched left to right, finds an entry', () => {
    const gate = new RegExp(`${ML_DISMISS}|${ML_VOID}|${ML_EXTRACT}|${ML_INSTR}|${ML_YOUR}|${ML_GIVEN}|${ML_OLD}|${ML_FREE}|${ML_HIDDEN}|${ML_SYSPROMPT}|${ML_AUTHORITY}|${ML_VERBATIM}`, 'g');
    for (const row of foreign) {
      const t = normalisedText(row.text);
      const expected = [...t.matchAll(gate)].map((m) => m.index).slice(0, 64);
      expect(mlGatePositions(t), row.id).toEqual(expected);
    }
  });

  it('running a rule only where its concepts occur together, or its second words stand, changes no verdict and no signal', () => {
    const detector = new InjectionDetector({ model: null });
    const sample = rows;
    const gated = sample.map((r) => detector.score(r.text, r.source));
    setGating(false);
    try {
      sample.forEach((r, i) => expect(gated[i], r.id).toEqual(detector.score(r.text, r.source)));
    } finally {
      setGating(true);
    }
  });
});
