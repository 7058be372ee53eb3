/**
 * The fused global norm and clipping coefficient against their reference, `globalNorm` and the
 * coefficient formula of `clipByGlobalNorm` (docs/ARCHITECTURE.md, "Own kernels"), on WebGPU in Node
 * (Dawn). Skipped with the reason when the `webgpu` package or an adapter is missing outside CI.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { Counters } from '../bench/instrument';
import { describeOnNodeWebGpu } from '../../../tests/support/node-webgpu';
import { initNodeBackend } from '../tf/node';
import { globalNorm } from '../train/optim';
import { fusedClipState, gradsPerNormProgram } from './global-norm-webgpu';

const describeWebGpu = await describeOnNodeWebGpu();

/** Gradients of odd sizes, one bigger than many workgroup strides. */
function gradients(count: number, seed: number): tf.Tensor[] {
  const shapes = [[5, 7], [1], [70_001], [3, 67], [256], [2, 3, 5]];
  return Array.from({ length: count }, (_, i) =>
    tf.randomNormal(shapes[i % shapes.length], 0, 1 + i, 'float32', seed + i),
  );
}

describeWebGpu('fused global norm on WebGPU', () => {
  beforeAll(async () => {
    await initNodeBackend('webgpu');
  });

  // Chunk boundaries for every device: 6 gradients per program (WebGPU's guaranteed 8 bindings) up
  // to 14 (16 bindings).
  for (const count of [0, 1, 6, 7, 14, 15, 31]) {
    it(`gives the reference norm and coefficient for ${count} gradients`, async () => {
      const grads = gradients(count, 10 * count);
      const zero = tf.zeros([1]);
      const reference = (await globalNorm(grads).data())[0];
      for (const maxNorm of [1, reference * 2 + 1]) {
        const state = fusedClipState(grads, maxNorm, zero);
        const [norm, coef] = Array.from(await state.data());
        state.dispose();
        expect(Math.abs(norm - reference) / Math.max(reference, 1e-6), `norm, maxNorm ${maxNorm}`).toBeLessThan(1e-6);
        const expected = Math.min(maxNorm / (reference + 1e-6), 1);
        expect(Math.abs(coef - expected) / expected, `coefficient, maxNorm ${maxNorm}`).toBeLessThan(1e-6);
      }
      if (count > 2) expect(reference).toBeGreaterThan(1); // the case clips at maxNorm 1
      tf.dispose([...grads, zero]);
    });
  }

  it('takes one dispatch per chunk of gradients the device can bind plus one, and uploads nothing', async () => {
    const perProgram = gradsPerNormProgram();
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    expect(perProgram).toBe(Math.min(14, device.limits.maxStorageBuffersPerShaderStage - 2));
    expect(perProgram).toBeGreaterThanOrEqual(6);
    const count = 3 * perProgram + 2;
    const grads = gradients(count, 7);
    const zero = tf.zeros([1]);
    // A first call uploads the test's CPU-made tensors; in training the gradients are already on the GPU.
    await fusedClipState(grads, 1, zero).data();
    const counters = Counters.install();
    const state = fusedClipState(grads, 1, zero);
    const counted = counters.snapshot();
    counters.uninstall();
    expect(counted.dispatches).toBe(Math.ceil(count / perProgram) + 1);
    expect(counted.uploads).toBe(0);
    tf.dispose([state, ...grads, zero]);
  });
});
