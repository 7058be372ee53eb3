import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import {
  MAX_EPOCHS,
  MAX_TOKENS_PER_BATCH,
  MAX_TOTAL_STEPS,
  MIN_EPOCHS,
  defaultBatchSize,
  defaultEarlyStoppingPatience,
  defaultEpochs,
  defaultEvalEvery,
  defaultLearningRate,
  defaultMaxLength,
  suggestTrainingConfig,
} from './defaults';
import { percentileNearestRank } from '../util/stats';

describe('defaults', () => {
  it('learning rate shrinks as the model gets wider', () => {
    expect(defaultLearningRate(768)).toBe(5e-5);
    expect(defaultLearningRate(128)).toBeGreaterThan(defaultLearningRate(256));
    expect(defaultLearningRate(256)).toBeGreaterThan(defaultLearningRate(768));
    expect(defaultLearningRate(1024)).toBeLessThan(defaultLearningRate(768));
    expect(() => defaultLearningRate(0)).toThrow(EngineError);
  });

  it('batch size grows with data, fits the token budget and never exceeds the dataset', () => {
    expect(defaultBatchSize(3)).toBe(3);
    expect(defaultBatchSize(20)).toBe(4);
    expect(defaultBatchSize(200)).toBe(8);
    expect(defaultBatchSize(100000)).toBe(32);
    expect(defaultBatchSize(100000, 512)).toBe(8);
    for (const n of [1, 10, 100, 1000, 100000]) {
      for (const T of [16, 128, 512]) {
        const bs = defaultBatchSize(n, T);
        expect(bs).toBeGreaterThanOrEqual(1);
        expect(bs).toBeLessThanOrEqual(n);
        expect(bs * T <= MAX_TOKENS_PER_BATCH || bs === 1).toBe(true);
      }
    }
  });

  it('epochs: many for tiny sets, few for big ones, bounded total steps', () => {
    expect(defaultEpochs(16, 4)).toBe(38); // 4 steps/epoch -> ceil(150/4)
    expect(defaultEpochs(1000, 16)).toBe(MIN_EPOCHS);
    expect(defaultEpochs(4, 4)).toBe(MAX_EPOCHS);
    expect(defaultEpochs(1_000_000, 32)).toBe(1);
    for (const n of [1, 8, 50, 500, 5000, 50000]) {
      const bs = defaultBatchSize(n);
      const e = defaultEpochs(n, bs);
      const steps = e * Math.ceil(n / bs);
      expect(e).toBeGreaterThanOrEqual(1);
      expect(e).toBeLessThanOrEqual(MAX_EPOCHS);
      expect(steps <= MAX_TOTAL_STEPS || e === 1).toBe(true);
    }
    // fewer examples never get fewer epochs
    expect(defaultEpochs(20, 4)).toBeGreaterThanOrEqual(defaultEpochs(200, 8));
  });

  it('max length: 95th percentile rounded up to 8, capped by the model', () => {
    expect(percentileNearestRank([5, 1, 3, 2, 4], 0.95)).toBe(5);
    const lengths = [...Array.from({ length: 95 }, () => 20), ...Array.from({ length: 5 }, () => 400)];
    expect(defaultMaxLength(lengths, 512)).toBe(24); // p95 = 20 -> 24; the 5 outliers get truncated
    expect(defaultMaxLength([3, 4], 512)).toBe(8);
    expect(defaultMaxLength([1000, 2000], 512)).toBe(512);
    expect(defaultMaxLength([1000], 130)).toBe(128);
    expect(defaultMaxLength([], 512)).toBe(128);
    expect(defaultMaxLength([], 64)).toBe(64);
    for (const L of [[7], [9, 33, 17], [250, 260]]) expect(defaultMaxLength(L) % 8).toBe(0);
  });

  it('eval interval and patience', () => {
    expect(defaultEvalEvery(152)).toBe(16);
    expect(defaultEvalEvery(5)).toBe(1);
    expect(defaultEvalEvery(100000)).toBe(500);
    expect(defaultEarlyStoppingPatience(10)).toBe(3);
    expect(defaultEarlyStoppingPatience(0)).toBeNull();
  });

  it('suggestTrainingConfig is consistent', () => {
    const cfg = suggestTrainingConfig(
      { nTrain: 40, nDev: 10, tokenLengths: Array.from({ length: 40 }, (_, i) => 10 + i) },
      { hiddenSize: 128, maxPositionEmbeddings: 512 },
    );
    expect(cfg.maxLength).toBe(48); // p95 of 10..49 is 48
    expect(cfg.batchSize).toBe(8);
    expect(cfg.stepsPerEpoch).toBe(5);
    expect(cfg.totalSteps).toBe(cfg.epochs * cfg.stepsPerEpoch);
    expect(cfg.learningRate).toBe(2e-4);
    expect(cfg.evalEvery).toBeGreaterThanOrEqual(1);
    expect(cfg.earlyStoppingPatience).toBe(3);
    expect(cfg).toMatchObject({ weightDecay: 0.01, warmupRatio: 0.1, maxGradNorm: 1, devFraction: 0.2, seed: 42 });
  });
});
