import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { referenceSelfTest, runSelfTest } from './selftest';
import { initBestBackend, describeCapability } from './backend';

describe('selfTest', () => {
  it('matches the plain-JS reference on the cpu backend', async () => {
    await tf.setBackend('cpu');
    const result = await runSelfTest();
    const reference = referenceSelfTest(result.a, result.b, result.m, result.k, result.n);
    expect(result.matmul).toHaveLength(result.m * result.n);
    for (let i = 0; i < reference.matmul.length; i++) {
      expect(Math.abs(result.matmul[i] - reference.matmul[i])).toBeLessThan(1e-4);
      expect(Math.abs(result.softmax[i] - reference.softmax[i])).toBeLessThan(1e-4);
    }
  });
});

describe('initBestBackend in Node', () => {
  it('falls back from webgpu to wasm and says why', async () => {
    const report = await initBestBackend();
    expect(report.backend).toBe('wasm');
    expect(report.skipped[0].backend).toBe('webgpu');
    expect(describeCapability(report)).toMatch(/^WASM fallback: /);
  });

  it('reports an unknown override and uses the best backend', async () => {
    const report = await initBestBackend({ override: 'quantum' });
    expect(report.invalidRequest).toBe('quantum');
    expect(report.backend).toBe('wasm');
  });

  it('honours a forced cpu backend', async () => {
    const report = await initBestBackend({ override: 'cpu' });
    expect(report.backend).toBe('cpu');
    expect(describeCapability(report)).toBe('CPU (forced by ?backend=cpu)');
    expect(report.skipped.map((s) => s.backend)).toEqual(['webgpu', 'wasm']);
  });
});
