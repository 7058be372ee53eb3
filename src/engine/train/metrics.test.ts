import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { computeMetrics, formatConfusionMatrix } from './metrics';

// Classes a, b, c, d. c is never predicted; d never occurs and is never predicted.
const labels = ['a', 'b', 'c', 'd'];
const yTrue = [0, 0, 1, 1, 2, 2, 0];
const probs = [
  [0.7, 0.2, 0.1, 0], // pred a (true a)
  [0.3, 0.6, 0.1, 0], // pred b (true a)
  [0.1, 0.8, 0.1, 0], // pred b (true b)
  [0.5, 0.4, 0.1, 0], // pred a (true b)
  [0.4, 0.3, 0.3, 0], // pred a (true c)
  [0.2, 0.5, 0.3, 0], // pred b (true c)
  [0.6, 0.3, 0.1, 0], // pred a (true a)
];

describe('computeMetrics', () => {
  it('matches hand-computed values, including a class never predicted and one never present', () => {
    const m = computeMetrics(yTrue, probs, labels);
    expect(m.n).toBe(7);
    expect(m.accuracy).toBeCloseTo(3 / 7, 12);
    expect(m.confusion).toEqual([
      [2, 1, 0, 0],
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [0, 0, 0, 0],
    ]);
    const [a, b, c, d] = m.perClass;
    // a: tp 2, predicted 4, support 3 -> P 1/2, R 2/3, F1 4/7
    expect(a).toMatchObject({ label: 'a', support: 3, predicted: 4 });
    expect(a.precision).toBeCloseTo(0.5, 12);
    expect(a.recall).toBeCloseTo(2 / 3, 12);
    expect(a.f1).toBeCloseTo(4 / 7, 12);
    // b: tp 1, predicted 3, support 2 -> P 1/3, R 1/2, F1 2/5
    expect(b.precision).toBeCloseTo(1 / 3, 12);
    expect(b.recall).toBeCloseTo(0.5, 12);
    expect(b.f1).toBeCloseTo(0.4, 12);
    // c: never predicted -> precision defined as 0, recall 0, F1 0
    expect(c).toMatchObject({ label: 'c', precision: 0, recall: 0, f1: 0, support: 2, predicted: 0 });
    // Per-class intervals: recall 0 of 2 is still up to 66 % (Wilson); precision on 0 predicted rows: unknown.
    expect(c.recallInterval!.low).toBe(0);
    expect(c.recallInterval!.high).toBeCloseTo(0.6576, 4);
    expect(c.precisionInterval).toEqual({ low: 0, high: 1 });
    // b: precision 1 of 3, recall 1 of 2.
    expect(b.precisionInterval!.low).toBeLessThan(1 / 3);
    expect(b.precisionInterval!.high).toBeGreaterThan(1 / 3);
    expect(b.recallInterval!.high).toBeGreaterThan(0.5);
    // d: no support, no predictions -> all 0 and left out of macro-F1
    expect(d).toMatchObject({ label: 'd', precision: 0, recall: 0, f1: 0, support: 0, predicted: 0 });
    expect(m.macroF1).toBeCloseTo((4 / 7 + 0.4 + 0) / 3, 12);
    expect(m.predictions[3]).toEqual({
      index: 3,
      trueLabel: 'b',
      predLabel: 'a',
      confidence: 0.5,
      probs: [0.5, 0.4, 0.1, 0],
    });
  });

  it('accepts a flat Float32Array [N*C] and gives the same result', () => {
    const flat = new Float32Array(probs.flat());
    const m1 = computeMetrics(yTrue, probs, labels);
    const m2 = computeMetrics(yTrue, flat, labels);
    expect(m2.confusion).toEqual(m1.confusion);
    expect(m2.macroF1).toBeCloseTo(m1.macroF1, 12);
    expect(m2.predictions[0].confidence).toBeCloseTo(0.7, 6);
  });

  it('breaks ties towards the lowest class index and handles the empty set', () => {
    const m = computeMetrics([1], [[0.5, 0.5]], ['x', 'y']);
    expect(m.predictions[0].predLabel).toBe('x');
    const empty = computeMetrics([], [], ['x', 'y']);
    expect(empty).toMatchObject({ n: 0, accuracy: 0, macroF1: 0 });
  });

  it('perfect predictions give 1s', () => {
    const m = computeMetrics(
      [0, 1, 1],
      [
        [0.9, 0.1],
        [0.2, 0.8],
        [0.4, 0.6],
      ],
      ['x', 'y'],
    );
    expect(m.accuracy).toBe(1);
    expect(m.macroF1).toBe(1);
  });

  it('rejects mismatched inputs with EngineError', () => {
    expect(() => computeMetrics([0, 1], [[1, 0]], ['x', 'y'])).toThrow(EngineError);
    expect(() => computeMetrics([0], new Float32Array(3), ['x', 'y'])).toThrow(/3 values/);
    expect(() => computeMetrics([2], [[0.5, 0.5]], ['x', 'y'])).toThrow(/yTrue\[0\] = 2/);
    expect(() => computeMetrics([-1], [[0.5, 0.5]], ['x', 'y'])).toThrow(EngineError);
    expect(() => computeMetrics([0], [[1, 0, 0]], ['x', 'y'])).toThrow(/row 0 has 3 values/);
  });
});

describe('formatConfusionMatrix', () => {
  it('renders an aligned table with true rows and predicted columns', () => {
    const text = formatConfusionMatrix(
      [
        [12, 3],
        [0, 105],
      ],
      ['negative', 'a-very-long-label-name-here'],
      { maxLabelWidth: 10 },
    );
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('true \\ pred  negative  a-very-lo…');
    expect(lines[1]).toBe(`negative${' '.repeat(11)}12${' '.repeat(11)}3`);
    expect(lines[2]).toBe(`a-very-lo…${' '.repeat(10)}0${' '.repeat(9)}105`);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });
});
