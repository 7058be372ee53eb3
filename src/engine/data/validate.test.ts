import { describe, expect, it } from 'vitest';
import { validateTrainingData } from './validate';
import { ex, dataset } from './test-support';

describe('validateTrainingData', () => {
  it('reports empty, unlabeled, duplicate and conflicting rows with row numbers and drops what it says', () => {
    const train = [
      ex('good one', 'pos'), // 0
      ex('   ', 'pos'), // 1 empty
      ex('bad one', 'neg'), // 2
      ex('good one ', 'pos'), // 3 duplicate of 0 (trimmed)
      ex('same text', 'pos'), // 4 conflict
      ex('same text', 'neg'), // 5 conflict
      ex('no label', null), // 6 unlabeled
      ex('pair a', 'pos', 'x'), // 7
      ex('pair a', 'pos', 'y'), // 8 differs in pair -> not a duplicate
    ];
    const r = validateTrainingData(train, undefined, { rowBase: 2 });
    const byCode = Object.fromEntries(r.issues.map((i) => [i.code, i]));
    expect(r.ok).toBe(true);
    expect(byCode.EMPTY_TEXT.rows).toEqual([1]);
    expect(byCode.EMPTY_TEXT.severity).toBe('warning');
    expect(byCode.EMPTY_TEXT.message).toMatch(/row 3\b/); // rowBase 2
    expect(byCode.EMPTY_TEXT.action).toMatch(/dropped/);
    expect(byCode.DUPLICATE_ROWS.rows).toEqual([3]);
    expect(byCode.CONFLICTING_LABELS.rows).toEqual([4, 5]);
    expect(byCode.CONFLICTING_LABELS.message).toMatch(/rows 6, 7/);
    expect(byCode.UNLABELED_ROWS.rows).toEqual([6]);
    expect(byCode.UNLABELED_ROWS.severity).toBe('info');
    expect(r.trainRows).toEqual([0, 2, 4, 5, 7, 8]);
    expect(r.train.map((e) => e.text)).toEqual(['good one', 'bad one', 'same text', 'same text', 'pair a', 'pair a']);
    for (const i of r.issues) expect(i.count).toBe(i.rows.length);
  });

  it('errors on a single class and on no labeled rows', () => {
    const one = validateTrainingData([ex('a', 'x'), ex('b', 'x'), ex('', 'y')]);
    expect(one.ok).toBe(false);
    expect(one.issues.find((i) => i.code === 'SINGLE_CLASS')?.severity).toBe('error');
    expect(one.issues.find((i) => i.code === 'SINGLE_CLASS')?.message).toMatch(/"x"/);
    const none = validateTrainingData([ex('a', null), ex(' ', 'y')]);
    expect(none.ok).toBe(false);
    expect(none.issues.map((i) => i.code)).toContain('NO_LABELED_ROWS');
  });

  it('checks dev: classes missing from train, train leaks, empty rows', () => {
    const train = [ex('t1', 'a'), ex('t2', 'b'), ex('t3', 'a')];
    const dev = [ex('d1', 'a'), ex('t2', 'b'), ex('d3', 'c'), ex('', 'a'), ex('d5', 'c')];
    const r = validateTrainingData(train, dev);
    expect(r.ok).toBe(false);
    const missing = r.issues.find((i) => i.code === 'CLASS_MISSING_FROM_TRAIN')!;
    expect(missing.severity).toBe('error');
    expect(missing.rows).toEqual([2, 4]);
    expect(missing.message).toMatch(/"c".*rows 3, 5/);
    expect(r.issues.find((i) => i.code === 'DEV_DUPLICATES_TRAIN')!.rows).toEqual([1]);
    expect(r.issues.find((i) => i.code === 'EMPTY_TEXT' && i.set === 'dev')!.rows).toEqual([3]);
    expect(r.devRows).toEqual([0, 2, 4]);
  });

  it('counts over-long texts given a token-length function', () => {
    const train = [ex('a b c', 'x'), ex('a b c d e f g', 'y'), ex('a', 'x')];
    const r = validateTrainingData(train, undefined, {
      tokenLength: (e) => e.text.split(' ').length + 2,
      maxLength: 6,
    });
    const long = r.issues.find((i) => i.code === 'TEXT_TOO_LONG')!;
    expect(long.rows).toEqual([1]);
    expect(long.severity).toBe('info');
    expect(long.action).toMatch(/truncated to 6/);
    expect(r.ok).toBe(true);
  });

  it('produces no issues for clean data and truncates long row lists in messages', () => {
    expect(validateTrainingData(dataset({ a: 3, b: 3 })).issues).toEqual([]);
    const many = [...dataset({ a: 3, b: 3 }), ...Array.from({ length: 15 }, () => ex('', 'a'))];
    const issue = validateTrainingData(many).issues[0];
    expect(issue.count).toBe(15);
    expect(issue.message).toMatch(/and 5 more/);
  });

  it('reports missing-value label markers as unlabeled and numerically equal labels as two classes', () => {
    const rows = [
      { ...ex('a', null), missingLabel: 'NaN', row: 2 },
      { ...ex('b', null), missingLabel: 'N/A', row: 3 },
      { ...ex('c', '1'), row: 4 },
      { ...ex('d', '1.0'), row: 5 },
      { ...ex('e', '2'), row: 6 },
    ];
    const result = validateTrainingData(rows);
    const markers = result.issues.find((i) => i.code === 'MISSING_LABEL_MARKERS')!;
    expect(markers.message).toMatch(/2 training rows have the label "NaN", "N\/A", read as no label: rows 2, 3\./);
    const same = result.issues.find((i) => i.code === 'LABELS_SAME_NUMBER')!;
    expect(same.severity).toBe('warning');
    expect(same.message).toMatch(/"1" and "1\.0" are the same number written differently.*rows 4, 5\./);
    expect(result.train.map((r) => r.label)).toEqual(['1', '1.0', '2']);
  });
});
