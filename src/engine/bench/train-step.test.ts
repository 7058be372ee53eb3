import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../tf/node';
import { benchmarkTrainStep } from './train-step';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe('benchmarkTrainStep (wasm, micro)', () => {
  it('returns sane, JSON-serialisable counts with flat memory', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const result = await benchmarkTrainStep({ preset: 'micro', batchSize: 4, seqLen: 16, warmupSteps: 1, steps: 2 });
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    expect(result.backend).toBe('wasm');
    expect(result.case).toBe('micro-b4-t16');
    expect(result.steps).toBe(2);
    expect(result.timing.stepMs).toHaveLength(2);
    expect(result.timing.meanMs).toBeGreaterThan(0);
    expect(result.timing.medianMs).toBeGreaterThan(0);
    expect(result.timing.examplesPerSecond).toBeGreaterThan(0);
    // Every step does the same work: per-step counts are exact integers.
    expect(result.perStepExact).toBe(true);
    for (const [key, value] of Object.entries(result.perStep)) {
      expect(Number.isInteger(value), key).toBe(true);
      expect(value, key).toBeGreaterThanOrEqual(0);
    }
    expect(result.perStep.kernels).toBeGreaterThan(50);
    expect(result.perStep.dispatches).toBe(result.perStep.kernels);
    // Inputs (ids, types, mask, labels) plus per-step scalars are written from JS every step.
    expect(result.perStep.uploads).toBeGreaterThanOrEqual(4);
    expect(result.shapes.distinct).toBeGreaterThan(0);
    expect(result.shapes.newAfterWarmup).toBe(0);
    expect(result.memory.flat).toBe(true);
    expect(result.memory.afterSteps.numTensors).toBe(result.memory.afterWarmup.numTensors);
    expect(Number.isFinite(result.loss.first) && Number.isFinite(result.loss.last)).toBe(true);
    expect(Math.abs(result.loss.first - Math.log(2))).toBeLessThan(0.5);
    // Everything it allocated is freed again.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  for (const objective of ['prompt', 'mlm'] as const) {
    it(`times the ${objective} step with flat memory and a loss at its starting value`, async () => {
      const tensorsBefore = tf.memory().numTensors;
      const result = await benchmarkTrainStep({
        preset: 'micro',
        objective,
        batchSize: 4,
        seqLen: 16,
        warmupSteps: 1,
        steps: 1,
      });
      expect(result.case).toBe(`micro-b4-t16-${objective}`);
      expect(result.objective).toBe(objective);
      expect(result.memory.flat).toBe(true);
      expect(result.perStep.kernels).toBeGreaterThan(50);
      // At initialisation the prompt step is a 2-way choice (ln 2) and MLM a choice over the vocabulary.
      const start = objective === 'prompt' ? Math.log(2) : Math.log(result.model.vocab);
      expect(Math.abs(result.loss.first - start)).toBeLessThan(0.5);
      // Different steps train different parameters: the MLM head (tied decoder) but no pooler/classifier.
      expect(result.model.trainableParameters).not.toBe(result.model.parameters);
      expect(tf.memory().numTensors).toBe(tensorsBefore);
    });
  }
});
