/**
 * Parity cases of the fused (residual +) LayerNorm (docs/ARCHITECTURE.md, "Own kernels"): the fused
 * programs against the stock-op reference, both on the active backend (webgpu), on seeded random
 * inputs. Used by kernels/layernorm-webgpu.test.ts (Node on Dawn); a browser harness can call
 * `layerNormParity()` as is.
 */
import * as tf from '@tensorflow/tfjs';
import { Counters } from '../bench/instrument';
import { addLayerNorm, layerNorm } from '../tf/ops';
import { kernelMode, setKernelMode } from './mode';
import { relativeDifference as relativeDiff, type ParityResult } from './program';

interface LayerNormCase {
  shape: number[];
  residual: boolean;
  eps: number;
  /** Added to x: a row mean far from 0 catches a one-pass (E[v²] − E[v]²) variance. */
  offset: number;
  /** Dropout rate on x before the residual add (the encoder's sublayer outputs); 0: none. */
  dropout?: number;
}

/** Odd sizes on purpose: a single element, rows narrower and wider than the 64-thread workgroup. */
const SHAPES = [
  [1, 1],
  [5, 7],
  [33, 32],
  [130, 257],
  [2, 3, 40],
];

export const LAYER_NORM_CASES: LayerNormCase[] = SHAPES.flatMap((shape, i): LayerNormCase[] =>
  [false, true].map((residual) => ({
    shape,
    residual,
    eps: i % 2 === 0 ? 1e-12 : 1e-5, // BERT's eps and PyTorch's default
    offset: i >= 2 ? 100 : 0,
  })),
).concat(
  // Dropout in the residual LayerNorm: BERT's rate, and a high one (more zeros in the mask).
  [
    { shape: [5, 7], residual: true, eps: 1e-12, offset: 0, dropout: 0.1 },
    { shape: [130, 257], residual: true, eps: 1e-12, offset: 100, dropout: 0.5 },
    { shape: [2, 3, 40], residual: true, eps: 1e-5, offset: 0, dropout: 0.1 },
  ],
);

/** The dropout seed of the cases with dropout (any fixed one: both paths derive the same mask). */
const DROPOUT_SEED = 4242;

/** The op under test on [x, residual?, gamma, beta] in the current kernel mode. */
function apply(c: LayerNormCase, args: tf.Tensor[]): tf.Tensor {
  const site = c.dropout ? { rate: c.dropout, seed: DROPOUT_SEED } : null;
  return c.residual
    ? addLayerNorm(args[0], args[1], args[2], args[3], c.eps, site)
    : layerNorm(args[0], args[1], args[2], c.eps);
}

/** Output and gradients (dy = seeded random weights) of one case in `mode`; dispatches counted. */
async function runCase(c: LayerNormCase, seed: number, mode: 'fused' | 'stock') {
  setKernelMode(mode);
  const H = c.shape[c.shape.length - 1];
  const args = tf.tidy(() => {
    const x = tf.add(tf.randomNormal(c.shape, 0, 1, 'float32', seed), c.offset); // [..., H]
    const r = tf.randomNormal(c.shape, 0, 1, 'float32', seed + 1); // [..., H]
    const gamma = tf.randomNormal([H], 1, 0.5, 'float32', seed + 2); // [H]
    const beta = tf.randomNormal([H], 0, 0.5, 'float32', seed + 3); // [H]
    return c.residual ? [x, r, gamma, beta] : [x, gamma, beta];
  });
  const dy = tf.randomNormal(c.shape, 0, 1, 'float32', seed + 4); // [..., H]
  await tf.zeros([1]).data(); // settle pending work before counting
  const counters = Counters.install();
  const y = apply(c, args);
  const forwardDispatches = counters.snapshot().dispatches;
  const grads = tf.grads((...a: tf.Tensor[]) => apply(c, a))(args, dy);
  const totalDispatches = counters.snapshot().dispatches - forwardDispatches;
  counters.uninstall();
  const out = {
    y: await y.data(),
    grads: await Promise.all(grads.map((g) => g.data())),
    forwardDispatches,
    dispatches: totalDispatches,
  };
  tf.dispose([y, dy, ...grads, ...args]);
  return out;
}

export function caseName(c: LayerNormCase): string {
  const drop = c.dropout ? `, dropout ${c.dropout}` : '';
  return `[${c.shape.join(', ')}] ${c.residual ? 'with' : 'without'} residual, eps ${c.eps}, offset ${c.offset}${drop}`;
}

/** Every case: fused vs stock. Restores the kernel mode it found. */
export async function layerNormParity(): Promise<ParityResult[]> {
  const before = kernelMode();
  const results: ParityResult[] = [];
  try {
    for (const [i, c] of LAYER_NORM_CASES.entries()) {
      const fused = await runCase(c, 1000 + 10 * i, 'fused');
      const stock = await runCase(c, 1000 + 10 * i, 'stock');
      results.push({
        case: caseName(c),
        forward: relativeDiff(fused.y, stock.y),
        gradient: Math.max(...fused.grads.map((g, k) => relativeDiff(g, stock.grads[k]))),
        fusedDispatches: fused.dispatches,
      });
    }
  } finally {
    setKernelMode(before);
  }
  return results;
}

/** Dispatches of the fused op alone, forward outside a tape (inference) and forward + backward. */
export async function layerNormDispatches(residual: boolean): Promise<{ forward: number; total: number }> {
  const before = kernelMode();
  try {
    const fused = await runCase({ shape: [9, 48], residual, eps: 1e-12, offset: 0 }, 7, 'fused');
    return { forward: fused.forwardDispatches, total: fused.dispatches };
  } finally {
    setKernelMode(before);
  }
}
