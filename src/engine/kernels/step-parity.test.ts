/**
 * Whole training steps on our kernels against the stock ops (docs/ARCHITECTURE.md, "Own kernels"):
 * the benchmark's classifier, prompt and MLM steps on a micro model, dropout off so both settings
 * compute the same function, on WebGPU in Node (Dawn). The losses of the first and of the second
 * step agree and the fused step takes fewer dispatches. Skipped with the reason when the `webgpu`
 * package or an adapter is missing outside CI; under CI=true that fails instead.
 */
import { beforeAll, expect, it } from 'vitest';
import { benchmarkTrainStep, BENCH_OBJECTIVES } from '../bench/train-step';
import { describeOnNodeWebGpu } from '../../../tests/support/node-webgpu';
import { initNodeBackend } from '../tf/node';

const describeWebGpu = await describeOnNodeWebGpu();

describeWebGpu('training steps on fused kernels', () => {
  beforeAll(async () => {
    await initNodeBackend('webgpu');
  });

  for (const objective of BENCH_OBJECTIVES) {
    it(`${objective}: same losses as the stock ops, fewer dispatches`, async () => {
      const run = (kernels: 'fused' | 'stock') =>
        benchmarkTrainStep({
          preset: 'micro',
          objective,
          kernels,
          vocabSize: 512,
          batchSize: 4,
          seqLen: 16,
          warmupSteps: 1,
          steps: 1,
          dropout: false,
        });
      const stock = await run('stock');
      const fused = await run('fused');
      expect(fused.kernels).toBe('fused');
      expect(Math.abs(fused.loss.first - stock.loss.first)).toBeLessThan(1e-4 * Math.max(1, stock.loss.first));
      expect(Math.abs(fused.loss.last - stock.loss.last)).toBeLessThan(1e-4 * Math.max(1, stock.loss.last));
      // It trained: the first AdamW step moved the loss.
      expect(stock.loss.last).not.toBe(stock.loss.first);
      expect(fused.perStep.dispatches).toBeLessThan(stock.perStep.dispatches);
      // No tensor leaks (the GPU buffer pool needs a second warm-up step to settle, so it is not compared).
      expect(fused.memory.afterSteps.numTensors).toBe(fused.memory.afterWarmup.numTensors);
      expect(fused.memory.afterSteps.numBytes).toBe(fused.memory.afterWarmup.numBytes);
    });
  }
});
