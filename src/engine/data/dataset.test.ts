import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { buildLabelVocab, stratifiedSplit } from './dataset';
import { ex, dataset } from './test-support';

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
