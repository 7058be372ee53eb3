/**
 * WebGPU in Node (docs/ARCHITECTURE.md, "Backends"): tfjs-backend-webgpu on Dawn's Node bindings
 * (the `webgpu` package), on whatever adapter Vulkan gives — SwiftShader (a CPU Vulkan driver from
 * Debian's chromium) on a machine without a GPU. Skipped with the reason when the package or an
 * adapter is missing; CI installs both (.ci/run: libvulkan1, chromium; npm ci: webgpu), so under
 * CI=true a missing one fails instead. Micro-sized throughout: SwiftShader is slow.
 *
 * Readbacks are async (`data()`): tfjs's synchronous WebGPU readback needs OffscreenCanvas, which
 * Node lacks.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADD_N_MAX_INPUTS, WEBGPU_SUBMIT_BATCH_SIZE } from '../backend';
import { bertEncoder, bertPooler, classifierLogits, meanPool } from '../bert/model';
import { disposeBertParams } from '../bert/params';
import { batchTensors, readGolden, readGoldenConfig, readGoldenWeights, type GoldenTensor } from '../bert/test-golden';
import { loadBertParams } from '../bert/weights';
import { memoryLimitsFromAdapter } from '../studio';
import { planMemory } from '../studio/memory';
import { globalNorm } from '../train/optim';
import { initNodeBackend, nodeBackendReport, openNodeWebGpu } from './node';

const opened = await openNodeWebGpu();
const unavailable = opened.ok ? null : opened.reason;
if (unavailable && !process.env.CI) console.warn(`skipping the Node WebGPU tests: ${unavailable}`);

/** Max |actual - expected|, read back asynchronously; throws on a shape mismatch. */
async function maxAbsDiffAsync(actual: tf.Tensor, expected: GoldenTensor): Promise<number> {
  expect(actual.shape).toEqual(expected.shape);
  const data = await actual.data();
  let m = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const d = Math.abs(data[i] - expected.data[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

describe.skipIf(unavailable !== null && !process.env.CI)('WebGPU in Node (Dawn)', () => {
  beforeAll(async () => {
    await initNodeBackend('webgpu');
  });

  it('finds an adapter and runs tfjs on it with the browser settings', async () => {
    expect(unavailable).toBeNull();
    expect(tf.getBackend()).toBe('webgpu');
    expect(tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE')).toBe(WEBGPU_SUBMIT_BATCH_SIZE);
    expect((globalThis.navigator as Navigator).gpu).toBeDefined();
    const report = nodeBackendReport()!;
    expect(report.backend).toBe('webgpu');
    expect(report.adapter!.vendor + report.adapter!.description).not.toBe('');
    expect(report.label).toMatch(/^webgpu \(.+\)$/);
    expect(report.limits!.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(report.limits!.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16384); // WebGPU's minimum
    const product = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]));
    expect(Array.from(await product.data())).toEqual([19, 22, 43, 50]);
  });

  it('tf.addN and the gradient norm are right past the 8 storage buffers of one shader', async () => {
    const n = 6 * ADD_N_MAX_INPUTS + 3;
    const grads = Array.from({ length: n }, (_, i) => tf.fill([3], i + 1));
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    device.pushErrorScope('validation');
    expect(Array.from(await tf.addN(grads).data())).toEqual([1, 1, 1].map(() => (n * (n + 1)) / 2));
    expect(await device.popErrorScope()).toBeNull();
    const expectedNorm = Math.sqrt(3 * grads.reduce((s, _, i) => s + (i + 1) ** 2, 0));
    expect(Math.abs((await globalNorm(grads).data())[0] - expectedNorm) / expectedNorm).toBeLessThan(1e-6);
  });

  it('matches the PyTorch golden forward pass of the micro model within 1e-4', async () => {
    const golden = readGolden();
    const config = readGoldenConfig();
    const { params } = loadBertParams(readGoldenWeights(), config);
    const b = batchTensors(golden.inputs);
    const hidden = bertEncoder(params, config, b);
    const pooled = bertPooler(params, hidden);
    expect(tf.getBackend()).toBe('webgpu');
    expect(await maxAbsDiffAsync(hidden, golden.last_hidden_state)).toBeLessThan(1e-4);
    expect(await maxAbsDiffAsync(pooled, golden.pooled_output)).toBeLessThan(1e-4);
    expect(await maxAbsDiffAsync(classifierLogits(params, config, pooled), golden.classifier_logits)).toBeLessThan(
      1e-4,
    );
    expect(await maxAbsDiffAsync(meanPool(hidden, b.attentionMask), golden.mean_pooled)).toBeLessThan(1e-4);
    disposeBertParams(params, config);
  });

  it('plans training with the adapter limits: a model too large for them is refused before allocating', () => {
    const limits = nodeBackendReport()!.limits!;
    const memoryLimits = memoryLimitsFromAdapter(limits)!;
    expect(memoryLimits.maxBufferBytes).toBe(limits.maxStorageBufferBindingSize);
    // A word embedding one row larger than one storage binding may hold (only the plan: nothing
    // is allocated). Even batch 1 cannot fit, so the plan refuses with the existing clear error.
    const hidden = 1024;
    const tooLarge = {
      ...readGoldenConfig(),
      hidden_size: hidden,
      vocab_size: Math.ceil(limits.maxStorageBufferBindingSize / (4 * hidden)) + 1,
    };
    expect(() => planMemory(tooLarge, 1e6, 8, 1, 32, memoryLimits)).toThrow(/more than this device allows/);
    // The micro model fits as asked.
    expect(planMemory(readGoldenConfig(), 25_697, 8, 1, 32, memoryLimits).batchSize).toBe(8);
  });
});
