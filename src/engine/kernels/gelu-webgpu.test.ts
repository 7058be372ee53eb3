/**
 * The fused GELU (both forms) against its reference, the stock-op `geluErf`/`geluTanh`
 * (docs/ARCHITECTURE.md, "Own kernels"), and against GELU in double precision, on WebGPU in Node
 * (Dawn; SwiftShader without a GPU). Skipped with the reason when the `webgpu` package or an adapter
 * is missing outside CI; under CI=true that fails instead.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeOnNodeWebGpu } from '../../../tests/support/node-webgpu';
import { initNodeBackend } from '../tf/node';
import { geluErf, geluTanh } from '../tf/ops';
import { geluDispatches, geluParity } from './gelu-parity';
import { kernelMode, setKernelMode } from './mode';
import { loggedFallbacks } from './program';

const describeWebGpu = await describeOnNodeWebGpu();

/**
 * erf in double precision from the series erf(z) = 2/√π · e^(−z²) · Σₙ z·(2z²)ⁿ / (2n+1)!!, whose terms
 * are all positive (no cancellation); summed until a term no longer changes the sum.
 */
function erf64(x: number): number {
  const z = Math.abs(x);
  let term = z,
    sum = z;
  for (let n = 0; term > 1e-17 * sum; n++) {
    term *= (2 * z * z) / (2 * n + 3);
    sum += term;
  }
  return Math.sign(x) * Math.min(1, (2 / Math.sqrt(Math.PI)) * Math.exp(-z * z) * sum);
}

const cdf64 = (x: number) => 0.5 * (1 + erf64(x / Math.SQRT2));
const pdf64 = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
const K = Math.sqrt(2 / Math.PI);
const tanhInner64 = (x: number) => K * (x + 0.044715 * x ** 3);
const REFERENCE: Record<'erf' | 'tanh', { y: (x: number) => number; dydx: (x: number) => number }> = {
  erf: { y: (x) => x * cdf64(x), dydx: (x) => cdf64(x) + x * pdf64(x) },
  tanh: {
    y: (x) => 0.5 * x * (1 + Math.tanh(tanhInner64(x))),
    dydx: (x) => {
      const t = Math.tanh(tanhInner64(x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * K * (1 + 3 * 0.044715 * x * x);
    },
  },
};

/** Max absolute error of `op` (in the current kernel mode) and of its gradient vs double precision. */
async function errorVsDouble(op: (x: tf.Tensor) => tf.Tensor, form: 'erf' | 'tanh') {
  const n = 20_001; // x = −10 … 10 in steps of 1e-3 (rounded to float32)
  const xs = Float32Array.from({ length: n }, (_, i) => -10 + (20 * i) / (n - 1));
  const x = tf.tensor1d(xs);
  const [y, dx] = tf.tidy(() => [op(x), tf.grad(op)(x)]);
  const [yv, dxv] = [await y.data(), await dx.data()];
  tf.dispose([x, y, dx]);
  let forward = 0,
    gradient = 0;
  for (let i = 0; i < n; i++) {
    forward = Math.max(forward, Math.abs(yv[i] - REFERENCE[form].y(xs[i])));
    gradient = Math.max(gradient, Math.abs(dxv[i] - REFERENCE[form].dydx(xs[i])));
  }
  return { forward, gradient };
}

describeWebGpu('fused GELU on WebGPU', () => {
  const before = kernelMode();
  beforeAll(async () => {
    await initNodeBackend('webgpu');
  });
  afterAll(() => setKernelMode(before));

  it('matches the stock ops forward and backward within 1e-4 relative, 2 dispatches', async () => {
    const results = await geluParity();
    expect(results.length).toBeGreaterThanOrEqual(8);
    for (const r of results) {
      expect(r.forward, r.case).toBeLessThan(1e-4);
      expect(r.gradient, r.case).toBeLessThan(1e-4);
      expect(r.fusedDispatches, r.case).toBe(2);
    }
  });

  it('runs 1 dispatch forward and 2 with the backward, where stock takes several', async () => {
    for (const op of [geluErf, geluTanh]) {
      const fused = await geluDispatches(op, [37, 129]);
      expect(fused.forward.dispatches, op.name).toBe(1);
      expect(fused.both.dispatches, op.name).toBe(2);
      expect(fused.both.uploads, op.name).toBe(0);
    }
  });

  it('is as accurate as float32 allows against GELU in double precision over [−10, 10]', async () => {
    for (const [form, op] of [
      ['erf', geluErf],
      ['tanh', geluTanh],
    ] as const) {
      setKernelMode('fused');
      const fused = await errorVsDouble(op, form);
      setKernelMode('stock');
      const stock = await errorVsDouble(op, form);
      console.log(
        `gelu ${form}: max abs error vs double, fused ${JSON.stringify(fused)}, stock ${JSON.stringify(stock)}`,
      );
      // float32 rounding of y near |x| = 10 alone is up to 4.8e-7; A&S 7.1.26 adds ≤ |x|·7.5e-8.
      expect(fused.forward, form).toBeLessThan(1.5e-6);
      expect(fused.gradient, form).toBeLessThan(1.5e-6);
    }
  });

  it('falls back to the stock ops, with a log line, for an input it does not take', async () => {
    setKernelMode('fused');
    const ints = tf.tensor2d([-2, -1, 0, 1, 2, 3], [2, 3], 'int32');
    const fused = await geluErf(ints).data();
    setKernelMode('stock');
    const stock = await geluErf(ints).data();
    expect(Array.from(fused)).toEqual(Array.from(stock));
    expect(loggedFallbacks()).toContain('gelu erf: dtype int32');
    ints.dispose();
  });
});
