/**
 * Parity cases of the fused dropout (docs/ARCHITECTURE.md, "Own kernels"), on the active backend
 * (webgpu), for the Node test (kernels/dropout-webgpu.test.ts) and the browser harness alike. The
 * reference is the stock composite `x · mask / (1 − rate)` (what `tf.dropout` computes) built with the
 * JavaScript twin of the GPU's mask (`dropoutUniform` in kernels/rng.ts), so a mask that differs in
 * one element shows up as a forward error of the size of that element.
 */
import * as tf from '@tensorflow/tfjs';
import { relativeDifference, valueAndGrad, type ParityResult } from './program';
import { Counters } from '../bench/instrument';
import { fusedDropout } from './dropout-webgpu';
import { kernelMode, setKernelMode } from './mode';
import { dropoutSeedU32, dropoutUniform } from './rng';

/** Odd sizes (not multiples of the 64-thread workgroup), a single element, an attention-probs shape. */
const CASES: { shape: number[]; rate: number; seed: number }[] = [
  { shape: [37, 129], rate: 0.1, seed: 7 },
  { shape: [37, 129], rate: 0.5, seed: 8 },
  { shape: [3, 5, 7], rate: 0.3, seed: 1234567.5 },
  { shape: [1], rate: 0.9, seed: 0 },
  { shape: [2, 3, 17, 17], rate: 0.1, seed: 4_000_000_123 },
];

/** The JS twin's keep mask (1 kept, 0 dropped) for `size` elements: keep when u ≥ float32(rate). */
export function jsDropoutMask(seed: number, rate: number, size: number): Float32Array {
  const seedU32 = dropoutSeedU32(seed);
  const threshold = Math.fround(rate); // the rate as the f32 uniform the kernel compares with
  const mask = new Float32Array(size);
  for (let i = 0; i < size; i++) mask[i] = dropoutUniform(seedU32, i) >= threshold ? 1 : 0;
  return mask;
}

/** The GPU's keep mask: the fused dropout of ones, read back as 1 (kept) / 0 (dropped). */
export async function gpuDropoutMask(seed: number, rate: number, shape: number[]): Promise<Float32Array> {
  const y = tf.tidy(() => fusedDropout(tf.ones(shape), rate, seed));
  const values = (await y.data()) as Float32Array;
  y.dispose();
  return values.map((v) => (v !== 0 ? 1 : 0));
}

/**
 * Dispatches, uploads and uniform writes of the fused dropout forward alone and forward + backward
 * (the backward seeded with a given dy, so nothing but the op itself runs while counting).
 */
export async function dropoutCounts(shape: number[], rate: number, seed: number) {
  const x = tf.randomNormal(shape, 0, 1, 'float32', 5);
  const dy = tf.randomNormal(shape, 0, 1, 'float32', 6);
  const run = (withGrad: boolean) =>
    withGrad
      ? tf.grads((input: tf.Tensor) => fusedDropout(input, rate, seed))([x], dy)[0]
      : fusedDropout(x, rate, seed);
  tf.dispose([run(true), run(false)]); // warm: uploads x and dy, compiles the program
  await tf.ones([1]).data(); // settle pending work before counting
  const count = async (withGrad: boolean) => {
    const counters = Counters.install();
    const out = run(withGrad);
    const c = counters.snapshot();
    counters.uninstall();
    await out.data();
    out.dispose();
    return c;
  };
  const forward = await count(false);
  const both = await count(true);
  tf.dispose([x, dy]);
  return { forward, both };
}

export async function dropoutParity(): Promise<ParityResult[]> {
  const before = kernelMode();
  const results: ParityResult[] = [];
  try {
    for (const [i, { shape, rate, seed }] of CASES.entries()) {
      const x = tf.randomNormal(shape, 0, 1, 'float32', 10 + i);
      const w = tf.randomNormal(shape, 0, 1, 'float32', 20 + i);
      setKernelMode('fused');
      const fused = await valueAndGrad((t) => fusedDropout(t, rate, seed), x, w);
      setKernelMode('stock');
      const mask = tf.tensor(jsDropoutMask(seed, rate, x.size), shape);
      // tf.dropout's own arithmetic: x · (mask / (1 − rate)), with our mask in place of its generator's.
      const stock = await valueAndGrad((t) => tf.mul(t, tf.div(mask, 1 - rate)), x, w);
      setKernelMode('fused');
      const { both } = await dropoutCounts(shape, rate, seed);
      results.push({
        case: `[${shape.join(', ')}] rate ${rate} seed ${seed}`,
        forward: relativeDifference(fused.y, stock.y),
        gradient: relativeDifference(fused.dx, stock.dx),
        fusedDispatches: both.dispatches,
      });
      tf.dispose([x, w, mask]);
    }
  } finally {
    setKernelMode(before);
  }
  return results;
}
