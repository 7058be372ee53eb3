import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { applyColumnMapping, detectColumns } from './detect';
import { parseDatasetFile } from './parse';
import type { ParsedRow } from './types';

const fixture = (name: string) =>
  parseDatasetFile(new Uint8Array(readFileSync(resolve(process.cwd(), 'tests/fixtures/data', name))), name);

/** Rows from column arrays: rows({ a: ['x', 'y'], b: ['1', '2'] }). */
function rows(cols: Record<string, string[]>): ParsedRow[] {
  const names = Object.keys(cols);
  return cols[names[0]].map((_, i) => ({
    row: i + 2,
    line: i + 2,
    values: Object.fromEntries(names.map((n) => [n, cols[n][i]])),
  }));
}

const repeat = <T>(values: T[], n: number): T[] => Array.from({ length: n }, (_, i) => values[i % values.length]);
const sentences = (n: number, prefix = 'sentence') =>
  Array.from({ length: n }, (_, i) => `${prefix} number ${i} is a reasonably long piece of text for a classifier`);

describe('detectColumns', () => {
  it('finds text and label by name with high confidence', () => {
    const d = detectColumns(['text', 'label'], rows({ text: sentences(20), label: repeat(['pos', 'neg'], 20) }));
    expect(d).toMatchObject({ text: 'text', textPair: null, label: 'label', confidence: 'high' });
    expect(d.reasons[0]).toMatch(/^Text: "text" — a usual name/);
    expect(d.reasons[1]).toMatch(/^Label: "label" — a usual name.*2 distinct values.*"pos", "neg"/);
  });

  it('among several text-named columns takes the one with the longest cells', () => {
    const d = detectColumns(
      ['title', 'review', 'sentiment'],
      rows({ title: repeat(['Great', 'Meh'], 20), review: sentences(20), sentiment: repeat(['1', '0'], 20) }),
    );
    expect(d.text).toBe('review');
    expect(d.label).toBe('sentiment');
    expect(d.reasons[0]).toMatch(/longest cells of "title", "review"/);
  });

  it('finds the pair columns of an NLI file', () => {
    const d = detectColumns(
      ...(() => {
        const p = fixture('pair.csv');
        return [p.columns, p.rows] as const;
      })(),
    );
    expect(d).toMatchObject({ text: 'sentence1', textPair: 'sentence2', label: 'label' });
    expect(d.reasons.some((r) => r.startsWith('Second text: "sentence2"'))).toBe(true);
    const nli = detectColumns(
      ['premise', 'hypothesis', 'gold_label'],
      rows({
        premise: sentences(4),
        hypothesis: sentences(4, 'claim'),
        gold_label: ['entailment', 'neutral', 'entailment', 'contradiction'],
      }),
    );
    expect(nli).toMatchObject({ text: 'premise', textPair: 'hypothesis', label: 'gold_label' });
    const ab = detectColumns(
      ['text_a', 'text_b', 'y'],
      rows({ text_a: sentences(4), text_b: sentences(4), y: ['0', '1', '0', '1'] }),
    );
    expect(ab).toMatchObject({ text: 'text_a', textPair: 'text_b', label: 'y' });
  });

  it('falls back to statistics when no name is known', () => {
    const d = detectColumns(
      ['id', 'blurb', 'bucket'],
      rows({
        id: Array.from({ length: 30 }, (_, i) => String(i)),
        blurb: sentences(30),
        bucket: repeat(['A', 'B', 'C'], 30),
      }),
    );
    expect(d).toMatchObject({ text: 'blurb', label: 'bucket', textPair: null, confidence: 'medium' });
    expect(d.reasons[0]).toMatch(/no column has a usual text name.*longest cells/);
    expect(d.reasons[1]).toMatch(/no column has a usual label name.*3 in 30 rows/);
  });

  it('does not take an id or a unique column as the label', () => {
    const d = detectColumns(
      ['content', 'row_id', 'uuid'],
      rows({
        content: sentences(10),
        row_id: Array.from({ length: 10 }, (_, i) => String(i)),
        uuid: Array.from({ length: 10 }, (_, i) => `u${i}x`),
      }),
    );
    expect(d.label).toBeNull();
    expect(d.confidence).toBe('low'); // "uuid" is left over: the user should look
    expect(d.reasons[1]).toMatch(/^Label: none/);
  });

  it('prefers readable label names over numeric codes of the same classes', () => {
    const d = detectColumns(
      ['text', 'label', 'label_text'],
      rows({ text: sentences(8), label: repeat(['0', '1'], 8), label_text: repeat(['negative', 'positive'], 8) }),
    );
    expect(d.label).toBe('label_text');
    expect(d.reasons[1]).toMatch(/as names instead of numbers/);
  });

  it('one column: that is the text, no label', () => {
    const p = fixture('one-column.csv');
    expect(detectColumns(p.columns, p.rows)).toMatchObject({ text: 'text', label: null, textPair: null });
  });

  it('flags a label-named column with too many distinct values', () => {
    const d = detectColumns(
      ['text', 'label'],
      rows({ text: sentences(40), label: Array.from({ length: 40 }, (_, i) => `v${i}`) }),
    );
    expect(d.label).toBe('label');
    expect(d.confidence).toBe('medium');
    expect(d.reasons[1]).toMatch(/check it holds class names/);
  });

  it('works on the pipe fixture with unusual names', () => {
    const p = fixture('pipe.txt');
    expect(detectColumns(p.columns, p.rows)).toMatchObject({ text: 'review', label: 'rating_class' });
  });
});

describe('applyColumnMapping', () => {
  it('maps rows to examples: trimmed labels, empty label → null (kept), row numbers', () => {
    const p = parseDatasetFile(new TextEncoder().encode('text,label\n hello ,  pos \nworld,\n,neg\n'), 'm.csv');
    expect(applyColumnMapping(p, { text: 'text', textPair: null, label: 'label' })).toEqual([
      { text: ' hello ', label: 'pos', row: 2 },
      { text: 'world', label: null, row: 3 },
      { text: '', label: 'neg', row: 4 },
    ]);
  });

  it('maps a pair and a label-less mapping', () => {
    const p = fixture('pair.csv');
    const ex = applyColumnMapping(p, { text: 'sentence1', textPair: 'sentence2', label: 'label' });
    expect(ex[0]).toEqual({
      text: 'A man is playing a guitar.',
      textPair: 'A person plays music.',
      label: 'entailment',
      row: 2,
    });
    const unlabeled = applyColumnMapping(p, { text: 'sentence1', textPair: null, label: null });
    expect(unlabeled.every((e) => e.label === null && !('textPair' in e))).toBe(true);
  });

  it('rejects unknown or repeated columns with the list of columns', () => {
    const p = fixture('pair.csv');
    const bad = () => applyColumnMapping(p, { text: 'sentence', textPair: null, label: 'label' });
    expect(bad).toThrow(EngineError);
    expect(bad).toThrow(/pair\.csv has no column "sentence".*"sentence1", "sentence2", "label"/);
    expect(() => applyColumnMapping(p, { text: 'label', textPair: null, label: 'label' })).toThrow(/mapped twice/);
  });

  it('reads missing-value markers in the label column as no label, keeping what was written', () => {
    const parsed = {
      fileName: 'f.csv',
      columns: ['text', 'label'],
      rows: ['NaN', 'null', 'None', 'N/A', '#N/A', 'nan ', 'Nancy'].map((label, i) => ({
        row: i + 2,
        line: i + 2,
        values: { text: `t${i}`, label },
      })),
    };
    const examples = applyColumnMapping(parsed, { text: 'text', textPair: null, label: 'label' });
    expect(examples.map((e) => e.label)).toEqual([null, null, null, null, null, null, 'Nancy']);
    expect(examples.map((e) => e.missingLabel)).toEqual(['NaN', 'null', 'None', 'N/A', '#N/A', 'nan', undefined]);
  });
});
