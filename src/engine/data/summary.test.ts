import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyColumnMapping } from './detect';
import { parseDatasetFile } from './parse';
import { lengthStats } from '../util/stats';
import { summarizeDataset } from './summary';
import { validateTrainingData } from './validate';

const examplesOf = (name: string, textPair: string | null = null, text = 'text') =>
  applyColumnMapping(
    parseDatasetFile(new Uint8Array(readFileSync(resolve(process.cwd(), 'tests/fixtures/data', name))), name),
    { text, textPair, label: 'label' },
  );

describe('summarizeDataset', () => {
  it('one label only: parses fine and the summary shows one class', () => {
    const s = summarizeDataset(examplesOf('one-label.csv'));
    expect(s.labels).toEqual([{ label: 'spam', count: 3 }]);
    expect(s).toMatchObject({ total: 3, labeled: 3, unlabeled: 0, emptyTexts: [], duplicates: [], conflicts: [] });
  });

  it('counts labels in first-seen order, unlabeled rows, empty texts, duplicates and conflicts', () => {
    // dups.csv rows: 2 "same text",a | 3 "  same   text ",a | 4 other,b | 5 clash,a | 6 clash,b | 7 clash,(none) | 8 "",b | 9 "  ",a
    const s = summarizeDataset(examplesOf('dups.csv'));
    expect(s.labels).toEqual([
      { label: 'a', count: 4 },
      { label: 'b', count: 3 },
    ]);
    expect(s.unlabeled).toBe(1);
    expect(s.unlabeledRows).toEqual([7]);
    expect(s.emptyTexts).toEqual([8, 9]);
    // Whitespace runs do not make a different text for the tokenizer: rows 2 and 3 are one text.
    expect(s.duplicates).toEqual([{ text: 'same text', rows: [2, 3], labels: ['a'] }]);
    // The unlabeled row 7 is not trained on, so it is in no conflict.
    expect(s.conflicts).toEqual([{ text: 'clash', rows: [5, 6], labels: ['a', 'b'] }]);
    // Rows training uses: 2 (3 is its repeat), 4, 5, 6.
    expect(s.usable).toBe(4);
    expect(s.textPairLength).toBeNull();
  });

  it('reports exactly what training validation reports, citing file rows', () => {
    const examples = examplesOf('dups.csv');
    const s = summarizeDataset(examples);
    const training = validateTrainingData(examples);
    expect(s.issues).toEqual(training.issues);
    expect(s.usable).toBe(training.train.length);
    const duplicate = s.issues.find((i) => i.code === 'DUPLICATE_ROWS')!;
    expect(duplicate.count).toBe(s.duplicates.reduce((n, g) => n + g.rows.length - 1, 0));
    expect(duplicate.message).toMatch(/row 3\./);
    expect(s.issues.find((i) => i.code === 'EMPTY_TEXT')!.message).toMatch(/rows 8, 9\./);
  });

  it('character lengths count code points', () => {
    const s = summarizeDataset([
      { text: 'ab', label: 'x', row: 2 },
      { text: '🙂🙂🙂🙂', label: 'x', row: 3 },
      { text: 'abcdef', label: 'y', row: 4 },
    ]);
    expect(s.textLength).toEqual({ min: 2, max: 6, mean: 4, median: 4, p95: 6 });
  });

  it('pairs: duplicates compare both texts, pair lengths are reported', () => {
    const s = summarizeDataset([
      { text: 'a', textPair: 'b', label: 'x', row: 2 },
      { text: 'a', textPair: 'c', label: 'y', row: 3 },
      { text: 'a', textPair: 'b', label: 'y', row: 4 },
      { text: 'd', textPair: ' ', label: 'x', row: 5 },
    ]);
    expect(s.duplicates).toEqual([]);
    expect(s.conflicts).toEqual([{ text: 'a', textPair: 'b', rows: [2, 4], labels: ['x', 'y'] }]);
    expect(s.emptyTextPairs).toEqual([5]);
    expect(s.textPairLength).toEqual({ min: 1, max: 1, mean: 1, median: 1, p95: 1 });
  });

  it('summarizes the pair fixture and handles no examples', () => {
    const s = summarizeDataset(examplesOf('pair.csv', 'sentence2', 'sentence1'));
    expect(s.labels.map((l) => l.label)).toEqual(['entailment', 'contradiction', 'neutral']);
    expect(s.textPairLength!.max).toBe('A cat sleeps indoors.'.length);
    expect(summarizeDataset([])).toMatchObject({
      total: 0,
      labels: [],
      textLength: { min: 0, max: 0, mean: 0, median: 0, p95: 0 },
    });
  });

  it('token lengths are summarised when given', () => {
    const s = summarizeDataset(
      [
        { text: 'a', label: 'x', row: 2 },
        { text: 'b', label: 'y', row: 3 },
      ],
      { tokenLengths: [3, 9] },
    );
    expect(s.tokens).toEqual({ min: 3, max: 9, mean: 6, median: 6, p95: 9 });
    expect(summarizeDataset([{ text: 'a', label: 'x', row: 2 }]).tokens).toBeNull();
  });

  it('lengthStats: median of an even count, nearest-rank p95', () => {
    expect(lengthStats([4, 1, 3, 2])).toEqual({ min: 1, max: 4, mean: 2.5, median: 2.5, p95: 4 });
    expect(lengthStats(Array.from({ length: 100 }, (_, i) => i + 1)).p95).toBe(95);
  });
});
