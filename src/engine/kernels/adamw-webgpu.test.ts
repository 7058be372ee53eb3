/**
 * The fused AdamW kernels against their reference, the stock-op update (docs/ARCHITECTURE.md,
 * "Own kernels"), both on WebGPU in Node (Dawn; SwiftShader without a GPU). Skipped with the reason
 * when the `webgpu` package or an adapter is missing outside CI; under CI=true that fails instead.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend, openNodeWebGpu } from '../tf/node';
import { Counters } from '../bench/instrument';
import { AdamW } from '../train/optim';
import { kernelMode, setKernelMode } from './mode';

const opened = await openNodeWebGpu();
const unavailable = opened.ok ? null : opened.reason;
if (unavailable && !process.env.CI) console.warn(`skipping the fused AdamW tests: ${unavailable}`);

/** Odd sizes on purpose: not multiples of the workgroup, a single element, a LayerNorm-like bias. */
const SHAPES: Record<string, number[]> = {
  'encoder.layer.0.attention.self.query.weight': [5, 7],
  'encoder.layer.0.attention.self.query.bias': [7],
  'encoder.layer.0.output.LayerNorm.weight': [1],
  'classifier.weight': [3, 67],
};

/** Runs `steps` AdamW steps with seeded gradients in `mode`; the parameters and moments after. */
async function train(mode: 'fused' | 'stock', steps: number, maxGradNorm: number) {
  setKernelMode(mode);
  const params = Object.entries(SHAPES).map(([name, shape], i) => ({
    name,
    variable: tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 100 + i), true, `${mode}/${name}`),
  }));
  const optimizer = new AdamW(params, { lr: 3e-2, weightDecay: 0.1, maxGradNorm });
  const norms: number[] = [];
  for (let step = 0; step < steps; step++) {
    const grads = tf.tidy(() =>
      Object.fromEntries(
        params.map((p, i) => [p.name, tf.randomNormal(p.variable.shape, 0, 2, 'float32', 1000 * (step + 1) + i)]),
      ),
    );
    const { gradNorm } = optimizer.step(grads);
    if (gradNorm) norms.push((await gradNorm.data())[0]);
    gradNorm?.dispose();
    tf.dispose(Object.values(grads));
  }
  const state = await optimizer.exportState();
  const values = await Promise.all(params.map(async (p) => Array.from(await p.variable.data())));
  optimizer.dispose();
  params.forEach((p) => p.variable.dispose());
  return { values, state, norms };
}

const maxRelDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1e-6, Math.abs(b[i])));
  return worst;
};

describe.skipIf(unavailable !== null && !process.env.CI)('fused AdamW on WebGPU', () => {
  const before = kernelMode();
  beforeAll(async () => {
    await initNodeBackend('webgpu');
  });
  afterAll(() => setKernelMode(before));

  for (const maxGradNorm of [0, 0.5]) {
    it(`matches the stock-op update over 5 steps (clipping ${maxGradNorm ? `at ${maxGradNorm}` : 'off'})`, async () => {
      const fused = await train('fused', 5, maxGradNorm);
      const stock = await train('stock', 5, maxGradNorm);
      // The fused norm sums the squares in another order (global-norm-webgpu.ts): float32 rounding only.
      expect(fused.norms).toHaveLength(stock.norms.length);
      expect(maxRelDiff(fused.norms, stock.norms)).toBeLessThan(1e-6);
      fused.values.forEach((v, i) => expect(maxRelDiff(v, stock.values[i]), `param ${i}`).toBeLessThan(1e-4));
      fused.state.slots.forEach((s, i) => {
        expect(maxRelDiff(s.m, stock.state.slots[i].m), `m ${s.name}`).toBeLessThan(1e-4);
        expect(maxRelDiff(s.v, stock.state.slots[i].v), `v ${s.name}`).toBeLessThan(1e-4);
      });
      // It trained: the parameters moved from where they started.
      const start = Array.from(tf.randomNormal(SHAPES['classifier.weight'], 0, 1, 'float32', 103).dataSync());
      expect(maxRelDiff(fused.values[3], start)).toBeGreaterThan(1e-3);
    });
  }

  it('takes 3 dispatches per parameter where the stock ops take many more', async () => {
    const dispatches = async (mode: 'fused' | 'stock') => {
      setKernelMode(mode);
      const params = Object.entries(SHAPES).map(([name, shape]) => ({ name, variable: tf.variable(tf.ones(shape)) }));
      const optimizer = new AdamW(params, { maxGradNorm: 0 });
      const grads = Object.fromEntries(params.map((p) => [p.name, tf.onesLike(p.variable)]));
      await await tf.zeros([1]).data(); // settle pending work before counting
      const counters = Counters.install();
      optimizer.step(grads);
      const counted = counters.snapshot().dispatches;
      counters.uninstall();
      tf.dispose(Object.values(grads));
      optimizer.dispose();
      params.forEach((p) => p.variable.dispose());
      return counted;
    };
    const parameters = Object.keys(SHAPES).length;
    expect(await dispatches('fused')).toBe(3 * parameters);
    expect(await dispatches('stock')).toBeGreaterThan(3 * 3 * parameters);
  });
});
