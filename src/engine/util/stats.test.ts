import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { formatAccuracyWithInterval, wilsonInterval } from './stats';

describe('wilsonInterval (95 %)', () => {
  // Hand computation for 8/10: z² = 3.8415, denominator 1 + z²/n = 1.38415,
  // centre (0.8 + 0.19207) / 1.38415 = 0.71674, half-width (1.95996 / 1.38415) ·
  // √(0.016 + 0.0096037) = 0.22658 → [0.49016, 0.94332].
  it('matches hand-computed values', () => {
    const { low, high } = wilsonInterval(8, 10);
    expect(low).toBeCloseTo(0.49016, 4);
    expect(high).toBeCloseTo(0.94332, 4);
    // 4/4 ("100 % on 4 rows"): low = n / (n + z²) = 4 / 7.8415 = 0.51011, high = 1.
    const all = wilsonInterval(4, 4);
    expect(all.low).toBeCloseTo(0.51011, 4);
    expect(all.high).toBe(1);
    // 0/5: high = z² / (n + z²) = 3.8415 / 8.8415 = 0.43448.
    const none = wilsonInterval(0, 5);
    expect(none.low).toBe(0);
    expect(none.high).toBeCloseTo(0.43448, 4);
  });

  it('narrows with more rows and knows nothing on none', () => {
    const small = wilsonInterval(8, 10);
    const large = wilsonInterval(800, 1000);
    expect(large.high - large.low).toBeLessThan((small.high - small.low) / 5);
    expect(wilsonInterval(0, 0)).toEqual({ low: 0, high: 1 });
  });

  it('refuses impossible counts', () => {
    expect(() => wilsonInterval(5, 4)).toThrow(EngineError);
    expect(() => wilsonInterval(-1, 4)).toThrow(EngineError);
    expect(() => wilsonInterval(1.5, 4)).toThrow(EngineError);
  });
});

describe('formatAccuracyWithInterval', () => {
  it('says the accuracy, the ± in points and the rows', () => {
    // 10/12: Wilson [0.5520, 0.9530] → half-width 20.05 points.
    expect(formatAccuracyWithInterval(10 / 12, 12)).toBe('83 % ± 20 (on 12 dev rows)');
    expect(formatAccuracyWithInterval(1, 4)).toBe('100 % ± 24 (on 4 dev rows)');
    expect(formatAccuracyWithInterval(1, 1)).toMatch(/on 1 dev row\)$/);
  });
});
