import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { crossValidationAdvice, stratifiedFolds } from './folds';
import { SMALL_DEV_ROWS } from '../util/stats';

/** 3 classes of uneven size (10, 7, 5 rows), interleaved. */
const labels = [
  ...Array.from({ length: 10 }, () => 'a'),
  ...Array.from({ length: 7 }, () => 'b'),
  ...Array.from({ length: 5 }, () => 'c'),
].sort((x, y) => (x + y).localeCompare(y + x));

describe('stratifiedFolds', () => {
  it('puts every row in exactly one fold', () => {
    const folds = stratifiedFolds(labels, 4, 1);
    expect(folds).toHaveLength(4);
    const all = folds.flat().sort((a, b) => a - b);
    expect(all).toEqual(labels.map((_, i) => i));
  });

  it('spreads each class evenly: per-class counts per fold differ by at most 1', () => {
    for (const k of [2, 3, 4, 5]) {
      const folds = stratifiedFolds(labels, k, 7);
      for (const label of ['a', 'b', 'c']) {
        const counts = folds.map((f) => f.filter((row) => labels[row] === label).length);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }
      const sizes = folds.map((f) => f.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    expect(stratifiedFolds(labels, 3, 42)).toEqual(stratifiedFolds(labels, 3, 42));
    expect(stratifiedFolds(labels, 3, 42)).not.toEqual(stratifiedFolds(labels, 3, 43));
  });

  it('accepts numeric labels', () => {
    const folds = stratifiedFolds([0, 1, 0, 1, 0, 1], 3, 0);
    for (const f of folds) expect(f.map((row) => row % 2).sort()).toEqual([0, 1]);
  });

  it('refuses k below 2, non-integer k, and k above the rarest class count', () => {
    expect(() => stratifiedFolds(labels, 1, 0)).toThrow(EngineError);
    expect(() => stratifiedFolds(labels, 2.5, 0)).toThrow(/whole number of folds/);
    // "c" has 5 rows: 6 folds would leave one without any "c".
    expect(() => stratifiedFolds(labels, 6, 0)).toThrow(/"c" has 5.*at most 5 folds/);
    expect(() => stratifiedFolds([], 2, 0)).toThrow(EngineError);
    try {
      stratifiedFolds(labels, 6, 0);
    } catch (e) {
      expect((e as EngineError).code).toBe('FOLDS_BAD_K');
    }
  });
});

describe('crossValidationAdvice', () => {
  const labels = (counts: Record<string, number>) =>
    Object.entries(counts).flatMap(([label, n]) => Array.from({ length: n }, () => label));

  it('recommends it below SMALL_DEV_ROWS dev rows, with at most 5 folds and never more than the rarest label', () => {
    const small = crossValidationAdvice(labels({ a: 8, b: 3 }), 2, false);
    expect(small).toMatchObject({ recommended: true, maxFolds: 3, folds: 3 });
    expect(small.reason).toMatch(/only 2 rows.*every one of the 11 rows once/);
    expect(crossValidationAdvice(labels({ a: 40, b: 40 }), 16, false)).toMatchObject({
      recommended: true,
      maxFolds: 10,
      folds: 5,
    });
  });

  it('does not recommend it from 20 dev rows on, or with a dev set of the user, and says why', () => {
    const big = crossValidationAdvice(labels({ a: 60, b: 60 }), SMALL_DEV_ROWS, false);
    expect(big).toMatchObject({ recommended: false, folds: 5 });
    expect(big.reason).toMatch(/holds 20 rows/);
    const given = crossValidationAdvice(labels({ a: 8, b: 8 }), 3, true);
    expect(given.recommended).toBe(false);
    expect(given.reason).toMatch(/dev set was given/);
  });

  it('is impossible with one row of a label or a single label', () => {
    expect(crossValidationAdvice(labels({ a: 9, b: 1 }), 2, false)).toMatchObject({ folds: 0, recommended: false });
    expect(crossValidationAdvice(labels({ a: 9 }), 2, false).reason).toMatch(/at least two labels/);
  });
});
