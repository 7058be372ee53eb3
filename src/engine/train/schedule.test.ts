import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { warmupStepsFor } from './defaults';
import { makeLrSchedule } from './schedule';

describe('makeLrSchedule', () => {
  it('linear: warmup from 0 to peak, then linear decay to 0 (HF get_linear_schedule_with_warmup)', () => {
    // totalSteps 100, warmupRatio 0.1 -> 10 warmup steps
    const lr = makeLrSchedule({ peakLr: 1e-3, totalSteps: 100 });
    expect(lr(0)).toBe(0);
    expect(lr(5)).toBeCloseTo(5e-4, 12);
    expect(lr(10)).toBeCloseTo(1e-3, 12);
    expect(lr(55)).toBeCloseTo(5e-4, 12); // halfway through the 90 decay steps
    expect(lr(99)).toBeCloseTo(1e-3 / 90, 12);
    expect(lr(100)).toBe(0);
    expect(lr(150)).toBe(0);
    for (let s = 1; s < 10; s++) expect(lr(s)).toBeGreaterThan(lr(s - 1));
    for (let s = 11; s <= 100; s++) expect(lr(s)).toBeLessThan(lr(s - 1));
  });

  it('warmup steps are ceil(total · ratio) and can be given explicitly', () => {
    expect(warmupStepsFor(25, 0.1)).toBe(3);
    const lr = makeLrSchedule({ peakLr: 1, totalSteps: 25, warmupRatio: 0.1 });
    expect(lr(3)).toBe(1);
    expect(lr(2)).toBeCloseTo(2 / 3, 12);
    const explicit = makeLrSchedule({ peakLr: 1, totalSteps: 25, warmupSteps: 5, warmupRatio: 0.5 });
    expect(explicit(5)).toBe(1);
    expect(explicit(4)).toBeCloseTo(0.8, 12);
    const noWarmup = makeLrSchedule({ peakLr: 2, totalSteps: 4, warmupRatio: 0 });
    expect([0, 1, 2, 3, 4].map(noWarmup)).toEqual([2, 1.5, 1, 0.5, 0]);
  });

  it('constant: peak throughout, optional warmup', () => {
    const c = makeLrSchedule({ kind: 'constant', peakLr: 3e-5, totalSteps: 10 });
    expect([0, 5, 9, 20].map(c)).toEqual([3e-5, 3e-5, 3e-5, 3e-5]);
    const cw = makeLrSchedule({ kind: 'constant', peakLr: 1, totalSteps: 10, warmupSteps: 2 });
    expect([0, 1, 2, 9].map(cw)).toEqual([0, 0.5, 1, 1]);
  });

  it('rejects bad options with EngineError', () => {
    expect(() => makeLrSchedule({ peakLr: 1, totalSteps: 0 })).toThrow(EngineError);
    expect(() => makeLrSchedule({ peakLr: -1, totalSteps: 10 })).toThrow(/peakLr/);
    expect(() => makeLrSchedule({ peakLr: 1, totalSteps: 10, warmupRatio: 2 })).toThrow(/warmupRatio/);
  });
});
