import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { Rng } from '../util/rng';
import {
  buildLabelVocab,
  countDistinctShapes,
  makeBatches,
  stratifiedSplit,
  validateTrainingData,
  type EncodedExample,
  type Example,
} from './data';

const ex = (text: string, label: string | null, textPair?: string): Example => ({
  text,
  label,
  ...(textPair !== undefined ? { textPair } : {}),
});

function dataset(counts: Record<string, number>): Example[] {
  const out: Example[] = [];
  // interleave classes so input order is not grouped
  const max = Math.max(...Object.values(counts));
  for (let i = 0; i < max; i++)
    for (const [label, n] of Object.entries(counts)) if (i < n) out.push(ex(`${label} text ${i}`, label));
  return out;
}

describe('buildLabelVocab', () => {
  it('keeps first-seen order and skips unlabeled rows', () => {
    const data = [ex('a', 'neg'), ex('b', null), ex('c', 'pos'), ex('d', 'neg'), ex('e', 'neutral'), ex('f', 'pos')];
    expect(buildLabelVocab(data)).toEqual(['neg', 'pos', 'neutral']);
    expect(buildLabelVocab([])).toEqual([]);
  });
});

describe('stratifiedSplit', () => {
  const data = [...dataset({ a: 50, b: 20, c: 10, d: 2, e: 1 }), ex('unlabeled', null)];

  it('holds out round(n·devFraction) per class, keeps >= 1 train per class', () => {
    const s = stratifiedSplit(data, { devFraction: 0.2, seed: 1 });
    const byLabel = Object.fromEntries(s.perClass.map((c) => [c.label, c]));
    expect(byLabel.a).toEqual({ label: 'a', total: 50, train: 40, dev: 10 });
    expect(byLabel.b).toEqual({ label: 'b', total: 20, train: 16, dev: 4 });
    expect(byLabel.c).toEqual({ label: 'c', total: 10, train: 8, dev: 2 });
    expect(byLabel.d).toEqual({ label: 'd', total: 2, train: 2, dev: 0 }); // round(0.4) = 0
    expect(byLabel.e).toEqual({ label: 'e', total: 1, train: 1, dev: 0 });
    for (const label of ['a', 'b', 'c', 'd', 'e']) {
      expect(s.train.filter((x) => x.label === label).length).toBe(byLabel[label].train);
      expect(s.dev.filter((x) => x.label === label).length).toBe(byLabel[label].dev);
    }
    // partition: every labeled row exactly once; unlabeled reported separately
    const all = [...s.trainIndices, ...s.devIndices].sort((x, y) => x - y);
    expect(all).toEqual(data.map((_, i) => i).filter((i) => data[i].label !== null));
    expect(s.unlabeledIndices).toEqual([data.length - 1]);
    expect(s.notes.join(' ')).toMatch(/"d" \(2\)/);
    expect(s.notes.join(' ')).toMatch(/"e" \(1\)/);
    expect(s.notes.join(' ')).toMatch(/1 unlabeled/);
  });

  it('keeps at least one train row even with a huge devFraction', () => {
    const s = stratifiedSplit(dataset({ a: 2, b: 3, c: 1 }), { devFraction: 0.9, seed: 3 });
    for (const c of s.perClass) expect(c.train).toBeGreaterThanOrEqual(1);
    expect(s.perClass.find((c) => c.label === 'a')!.dev).toBe(1);
    expect(s.perClass.find((c) => c.label === 'b')!.dev).toBe(2);
  });

  it('is deterministic per seed, differs across seeds, and is stable when a class is added', () => {
    const a = stratifiedSplit(data, { seed: 7 });
    const b = stratifiedSplit(data, { seed: 7 });
    const c = stratifiedSplit(data, { seed: 8 });
    expect(a.devIndices).toEqual(b.devIndices);
    expect(a.devIndices).not.toEqual(c.devIndices);
    // appending rows of a new class does not change which rows of other classes go to dev
    const more = [...data, ...dataset({ z: 10 })];
    const d = stratifiedSplit(more, { seed: 7 });
    expect(d.devIndices.filter((i) => i < data.length)).toEqual(a.devIndices);
  });

  it('rejects a bad devFraction with EngineError', () => {
    expect(() => stratifiedSplit(data, { devFraction: 1 })).toThrow(EngineError);
    expect(() => stratifiedSplit(data, { devFraction: -0.1 })).toThrow(/devFraction/);
  });
});

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
});

function encoded(n: number, seed = 0, maxLen = 60): EncodedExample[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const len = 2 + r.nextInt(maxLen - 1);
    return {
      inputIds: Array.from({ length: len }, (_, t) => (t === 0 ? 101 : 1000 + i)),
      tokenTypeIds: Array.from({ length: len }, (_, t) => (t > len / 2 ? 1 : 0)),
      label: i % 3,
    };
  });
}

describe('makeBatches', () => {
  const data = encoded(203);
  const opts = { batchSize: 8, seed: 1, epoch: 0, maxLength: 64 };

  it('pads each batch to a multiple of 8 with correct ids, masks and labels', () => {
    const batches = makeBatches(data, opts);
    for (const b of batches) {
      expect(b.seqLen % 8).toBe(0);
      expect(b.inputIds.length).toBe(b.batchSize * b.seqLen);
      const longest = Math.max(...Array.from(b.indices, (i) => data[i].inputIds.length));
      expect(b.seqLen).toBe(Math.ceil(longest / 8) * 8);
      b.indices.forEach((idx, row) => {
        const e = data[idx];
        const len = e.inputIds.length;
        const off = row * b.seqLen;
        expect(Array.from(b.inputIds.subarray(off, off + len))).toEqual(e.inputIds);
        expect(Array.from(b.tokenTypeIds.subarray(off, off + len))).toEqual(e.tokenTypeIds);
        expect(b.attentionMask.subarray(off, off + b.seqLen).reduce((s, x) => s + x, 0)).toBe(len);
        expect(Array.from(b.inputIds.subarray(off + len, off + b.seqLen)).every((x) => x === 0)).toBe(true);
        expect(b.labels[row]).toBe(e.label);
      });
    }
  });

  it('contains every example exactly once per epoch and bounds distinct shapes', () => {
    const batches = makeBatches(data, opts);
    const seen = batches.flatMap((b) => Array.from(b.indices)).sort((a, b) => a - b);
    expect(seen).toEqual(data.map((_, i) => i));
    expect(batches.length).toBe(Math.ceil(203 / 8));
    expect(batches.filter((b) => b.batchSize !== 8).length).toBe(1);
    // T in {8, 16, ..., 64} and B in {8, 203 % 8}: at most 8 * 2 shapes
    expect(countDistinctShapes(batches)).toBeLessThanOrEqual(16);
    const tValues = new Set(batches.map((b) => b.seqLen));
    expect(tValues.size).toBeLessThanOrEqual(8);
    // bucketing reduces padding compared to no sorting at all (window of one batch)
    const pad = (bs: ReturnType<typeof makeBatches>) =>
      bs.reduce((s, b) => s + b.attentionMask.length - b.attentionMask.reduce((a, x) => a + x, 0), 0);
    expect(pad(batches)).toBeLessThan(pad(makeBatches(data, { ...opts, sortWindowBatches: 1 })));
  });

  it('is seeded: same seed+epoch identical, other epoch or seed different', () => {
    const order = (o: Partial<typeof opts>) =>
      makeBatches(data, { ...opts, ...o }).flatMap((b) => Array.from(b.indices));
    expect(order({})).toEqual(order({}));
    expect(order({ epoch: 1 })).not.toEqual(order({}));
    expect(order({ seed: 2 })).not.toEqual(order({}));
  });

  it('without shuffle sorts by length over the whole set; dropLast drops the short batch', () => {
    const batches = makeBatches(data, { ...opts, shuffle: false });
    const lens = batches.flatMap((b) => Array.from(b.indices, (i) => data[i].inputIds.length));
    expect(lens).toEqual(lens.slice().sort((a, b) => a - b));
    const dropped = makeBatches(data, { ...opts, dropLast: true });
    expect(dropped.every((b) => b.batchSize === 8)).toBe(true);
    expect(dropped.length).toBe(Math.floor(203 / 8));
  });

  it('caps T at maxLength when maxLength is not a multiple of padMultiple', () => {
    const d = [{ inputIds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], label: 0 }];
    expect(makeBatches(d, { batchSize: 4, maxLength: 10 })[0].seqLen).toBe(10);
    expect(makeBatches(d, { batchSize: 4, maxLength: 64, padMultiple: 16 })[0].seqLen).toBe(16);
  });

  it('rejects over-long examples and bad options with EngineError', () => {
    expect(() => makeBatches([{ inputIds: new Array(70).fill(1), label: 0 }], opts)).toThrow(
      /example 0 has 70 tokens.*maxLength is 64/,
    );
    expect(() => makeBatches(data, { ...opts, batchSize: 0 })).toThrow(EngineError);
    expect(() => makeBatches([{ inputIds: [1, 2], tokenTypeIds: [0], label: 0 }], opts)).toThrow(/same length/);
    expect(makeBatches([], opts)).toEqual([]);
  });
});
