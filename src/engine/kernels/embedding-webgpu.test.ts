/**
 * The embedding lookup's own gradient (one scatter-add) against tfjs's gather gradient
 * (docs/ARCHITECTURE.md, "Own kernels"), on WebGPU in Node (Dawn). Skipped with the reason when the
 * `webgpu` package or an adapter is missing outside CI; under CI=true that fails instead.
 */
import { beforeAll, expect, it } from 'vitest';
import { describeOnNodeWebGpu } from '../../../tests/support/node-webgpu';
import { initNodeBackend } from '../tf/node';
import { embeddingDispatches, embeddingParity } from './embedding-parity';

const describeWebGpu = await describeOnNodeWebGpu();

describeWebGpu('embedding lookup on WebGPU', () => {
  beforeAll(async () => {
    await initNodeBackend('webgpu');
  });

  it('gives the gather gradient, repeated ids added up, with two dispatches fewer', async () => {
    const results = await embeddingParity();
    expect(results).toHaveLength(3);
    for (const r of results) {
      expect(r.forward, `${r.case} forward`).toBe(0);
      expect(r.gradient, `${r.case} gradient`).toBeLessThan(1e-6);
    }
    const fused = await embeddingDispatches('fused');
    const stock = await embeddingDispatches('stock');
    expect(stock - fused).toBeGreaterThanOrEqual(2); // the two identity transposes
  });
});
