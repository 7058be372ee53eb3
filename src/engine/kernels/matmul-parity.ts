/**
 * Parity cases of our tiled products (docs/ARCHITECTURE.md, "Own kernels"): the linear layer (whose
 * weight and bias gradients come from one dispatch with our kernels on) and the packed q/k/v
 * projection, each against the stock ops (three `linear`s stacked for q/k/v) on the same seeded
 * inputs with the active backend (webgpu; Node's Dawn in vitest, Chromium in the e2e harness).
 * Odd sizes that leave every tile partly empty, a depth shorter than one step, and one row.
 */
import * as tf from '@tensorflow/tfjs';
import { Counters } from '../bench/instrument';
import { linear } from '../tf/ops';
import { fusedQkvProjection } from './matmul-webgpu';
import { kernelMode, setKernelMode } from './mode';
import { relativeDifference, type ParityResult } from './program';

interface ProductCase {
  /** Rows (tokens). */
  N: number;
  /** Input features. */
  inSize: number;
  /** Output features. */
  outSize: number;
  /** Packed q/k/v (three projections) or one linear layer. */
  qkv: boolean;
}

export const MATMUL_CASES: ProductCase[] = [
  { N: 37, inSize: 19, outSize: 45, qkv: false },
  { N: 1, inSize: 7, outSize: 5, qkv: false },
  { N: 70, inSize: 64, outSize: 33, qkv: false },
  { N: 37, inSize: 19, outSize: 45, qkv: true },
  { N: 32, inSize: 32, outSize: 32, qkv: true },
  { N: 3, inSize: 5, outSize: 9, qkv: true },
];

export function matmulCaseName(c: ProductCase): string {
  return `${c.qkv ? 'q/k/v' : 'linear'} [${c.N}, ${c.inSize}] → ${c.outSize}`;
}

/** The op of a case on inputs [x, w, b] (linear) or [x, wq, bq, wk, bk, wv, bv] (q/k/v). */
function apply(c: ProductCase, mode: 'fused' | 'stock', t: tf.Tensor[]): tf.Tensor {
  const [x, ...p] = t as [tf.Tensor2D, ...tf.Tensor[]];
  const layer = (i: number) => ({ w: p[2 * i] as tf.Tensor2D, b: p[2 * i + 1] as tf.Tensor1D });
  if (!c.qkv) return linear(x, layer(0).w, layer(0).b); // [N, out]
  if (mode === 'fused') return fusedQkvProjection(x, { query: layer(0), key: layer(1), value: layer(2) }); // [3, N, out]
  return tf.stack([0, 1, 2].map((i) => linear(x, layer(i).w, layer(i).b))); // [3, N, out]
}

/** Output, gradients of every input (dy = seeded random weights) and dispatches, in `mode`. */
async function runCase(c: ProductCase, seed: number, mode: 'fused' | 'stock') {
  setKernelMode(mode);
  const layers = c.qkv ? 3 : 1;
  const inputs = tf.tidy(() => [
    tf.randomNormal([c.N, c.inSize], 0, 1, 'float32', seed), // x [N, in]
    ...Array.from({ length: layers }, (_, i) => [
      tf.randomNormal([c.inSize, c.outSize], 0, 0.5, 'float32', seed + 2 * i + 1), // w [in, out]
      tf.randomNormal([c.outSize], 0, 0.5, 'float32', seed + 2 * i + 2), // b [out]
    ]).flat(),
  ]);
  const dy = tf.randomNormal(c.qkv ? [3, c.N, c.outSize] : [c.N, c.outSize], 0, 1, 'float32', seed + 9);
  await tf.zeros([1]).data(); // settle pending work before counting
  const counters = Counters.install();
  const y = apply(c, mode, inputs);
  const forwardDispatches = counters.snapshot().dispatches;
  const grads = tf.grads((...a: tf.Tensor[]) => apply(c, mode, a))(inputs, dy);
  const dispatches = counters.snapshot().dispatches - forwardDispatches;
  counters.uninstall();
  const out = {
    y: await y.data(),
    grads: await Promise.all(grads.map((g) => g.data())),
    forwardDispatches,
    dispatches,
  };
  tf.dispose([y, dy, ...grads, ...inputs]);
  return out;
}

/** A parity result with the fused forward's own dispatches. */
export interface MatmulParityResult extends ParityResult {
  forwardDispatches: number;
}

/** Every case: ours vs stock, worst relative difference over the output and over each gradient.
 * Restores the kernel mode it found. */
export async function matmulParity(): Promise<MatmulParityResult[]> {
  const before = kernelMode();
  const results: MatmulParityResult[] = [];
  try {
    for (const [i, c] of MATMUL_CASES.entries()) {
      const fused = await runCase(c, 500 + 20 * i, 'fused');
      const stock = await runCase(c, 500 + 20 * i, 'stock');
      results.push({
        case: matmulCaseName(c),
        forward: relativeDifference(fused.y, stock.y),
        gradient: Math.max(...fused.grads.map((g, k) => relativeDifference(g, stock.grads[k]))),
        fusedDispatches: fused.dispatches,
        forwardDispatches: fused.forwardDispatches,
      });
    }
  } finally {
    setKernelMode(before);
  }
  return results;
}
