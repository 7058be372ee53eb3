/**
 * The cross-entropy kernels against the stock ops they replace (docs/ARCHITECTURE.md, "Own kernels"),
 * on WebGPU in Node (Dawn). Skipped with the reason when the `webgpu` package or an adapter is
 * missing outside CI; under CI=true that fails instead.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeOnNodeWebGpu } from '../../../tests/support/node-webgpu';
import { initNodeBackend } from '../tf/node';
import { crossEntropyParity } from './cross-entropy-parity';

const describeWebGpu = await describeOnNodeWebGpu();

describeWebGpu('cross-entropy kernels on WebGPU', () => {
  beforeAll(async () => {
    await initNodeBackend('webgpu');
  });

  it('match the stock ops forward and backward in one dispatch each way', async () => {
    const results = await crossEntropyParity();
    expect(results).toHaveLength(6);
    for (const r of results) {
      expect(r.forward, `${r.case} forward`).toBeLessThan(1e-5);
      expect(r.gradient, `${r.case} gradient`).toBeLessThan(1e-4);
      expect(r.fusedDispatches, `${r.case} dispatches`).toBe(1);
    }
  });
});
