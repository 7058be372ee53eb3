/**
 * Parity cases of the fused self-attention (docs/ARCHITECTURE.md, "Own kernels"): each runs the fused
 * op and its reference, `selfAttentionStock` (the stock ops of bert/model.ts), on the same seeded
 * inputs with the active backend (webgpu; Node's Dawn in vitest, Chromium in the e2e harness), and
 * reports the worst relative difference of the context and of the q, k, v gradients, and the fused
 * op's dispatch counts. With dropout on, the reference multiplies the probabilities by the mask the
 * kernel draws, built in JavaScript from the RNG's twin (`dropoutUniform`), so both drop the same
 * elements.
 */
import * as tf from '@tensorflow/tfjs';
import { relativeDifference, type ParityResult } from './program';
import { Counters } from '../bench/instrument';
import { attentionBias, selfAttentionStock } from '../bert/model';
import { fusedSelfAttention, type AttentionDropout } from './attention-webgpu';
import { kernelMode, setKernelMode } from './mode';
import { dropoutUniform } from './rng';

/** A parity case (program.ts) with the fused forward's own dispatches. */
export interface AttentionParityResult extends ParityResult {
  /** Dispatches of the fused forward alone. */
  forwardDispatches: number;
}

interface AttentionCase {
  name: string;
  B: number;
  T: number;
  A: number;
  D: number;
  /** Real tokens per sequence (the rest is trailing padding); absent: no mask at all. */
  lengths?: number[];
  /** The mask's dtype (the model gets int32 from the tokenizer, float32 from callers that cast). */
  maskDtype?: 'int32' | 'float32';
  dropout?: AttentionDropout;
}

/** Odd sizes, a row longer than a workgroup (64 lanes), padding with one row fully real, and dropout. */
export const ATTENTION_CASES: AttentionCase[] = [
  { name: 'B2 T7 A2 D3, no mask', B: 2, T: 7, A: 2, D: 3 },
  { name: 'B2 T7 A2 D3, padded', B: 2, T: 7, A: 2, D: 3, lengths: [7, 4] },
  { name: 'B3 T16 A4 D8, padded', B: 3, T: 16, A: 4, D: 8, lengths: [16, 11, 3], maskDtype: 'float32' },
  { name: 'B1 T70 A3 D5, padded', B: 1, T: 70, A: 3, D: 5, lengths: [61] },
  {
    name: 'B3 T16 A4 D8, padded, dropout 0.1',
    B: 3,
    T: 16,
    A: 4,
    D: 8,
    lengths: [16, 11, 3],
    dropout: { rate: 0.1, seed: 1234567 },
  },
  {
    name: 'B2 T7 A2 D3, padded, dropout 0.3',
    B: 2,
    T: 7,
    A: 2,
    D: 3,
    lengths: [5, 7],
    dropout: { rate: 0.3, seed: 42 },
  },
];

/** The dropout multiplier [B, A, T, T] the kernel applies: 1/(1 − rate) where kept, 0 where dropped. */
export function attentionDropoutMultiplier(B: number, A: number, T: number, dropout: AttentionDropout): tf.Tensor4D {
  const keepScale = 1 / (1 - dropout.rate);
  const values = new Float32Array(B * A * T * T);
  for (let i = 0; i < values.length; i++) values[i] = dropoutUniform(dropout.seed, i) >= dropout.rate ? keepScale : 0;
  return tf.tensor4d(values, [B, A, T, T]);
}

/** The [B, T] mask of `lengths` (1 for the first lengths[b] tokens, 0 after). */
function paddingMask(B: number, T: number, lengths: number[], dtype: 'int32' | 'float32'): tf.Tensor2D {
  const values = Array.from({ length: B * T }, (_, i) => (i % T < lengths[Math.floor(i / T)] ? 1 : 0));
  return tf.tensor2d(values, [B, T], dtype);
}

/** Context and input gradients of one implementation, with the upstream gradient `dy`; the
 * gradients flattened one after another (q, k, v apart or packed: the same values in the same order). */
async function run(
  attend: (...inputs: tf.Tensor[]) => tf.Tensor2D,
  inputs: tf.Tensor[],
  dy: tf.Tensor2D,
): Promise<{ out: Float32Array; grads: Float32Array }> {
  const out = tf.tidy(() => attend(...inputs));
  const grads = tf.tidy(() => tf.grads((...a: tf.Tensor[]) => attend(...a))(inputs, dy));
  const parts = (await Promise.all(grads.map((g) => g.data()))) as Float32Array[];
  const flat = new Float32Array(parts.reduce((n, g) => n + g.length, 0));
  parts.reduce((at, g) => (flat.set(g, at), at + g.length), 0);
  const result = { out: (await out.data()) as Float32Array, grads: flat };
  tf.dispose([out, ...grads]);
  return result;
}

/** Dispatches of `work` (its tensors disposed), after settling whatever was queued before. */
async function countDispatches(work: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  await tf.zeros([1]).data(); // settle pending work before counting
  const counters = Counters.install();
  const produced = tf.tidy(work);
  const counted = counters.snapshot().dispatches;
  counters.uninstall();
  tf.dispose(produced);
  return counted;
}

/** The i-th third of flattened q, k, v gradients (dq, dk or dv). */
function third(grads: Float32Array, i: number): Float32Array {
  const n = grads.length / 3;
  return grads.subarray(i * n, (i + 1) * n);
}

async function parityCase(c: AttentionCase, seed: number): Promise<AttentionParityResult> {
  const { B, T, A, D } = c;
  const H = A * D;
  const inputs = [0, 1, 2].map((i) => tf.randomNormal([B * T, H], 0, 1, 'float32', seed + i)) as [
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor2D,
  ];
  const dy = tf.randomNormal([B * T, H], 0, 1, 'float32', seed + 3) as tf.Tensor2D; // [B·T, H]
  const mask = c.lengths ? paddingMask(B, T, c.lengths, c.maskDtype ?? 'int32') : null; // [B, T]
  const bias = mask ? attentionBias(mask) : null; // [B, 1, 1, T]
  const multiplier = c.dropout ? attentionDropoutMultiplier(B, A, T, c.dropout) : null; // [B, A, T, T]
  const dropout = c.dropout ?? null;

  const packed = tf.stack(inputs) as tf.Tensor3D; // [3, B·T, H], as fusedQkvProjection writes q, k, v
  const fusedOp = (qkv: tf.Tensor) => fusedSelfAttention(qkv as tf.Tensor3D, mask, B, T, A, dropout);
  const stockOp = (...[q, k, v]: tf.Tensor[]) =>
    selfAttentionStock(q as tf.Tensor2D, k as tf.Tensor2D, v as tf.Tensor2D, bias, B, T, A, (p) =>
      multiplier ? tf.mul(p, multiplier) : p,
    );

  const before = kernelMode();
  try {
    setKernelMode('fused');
    const fused = await run(fusedOp, [packed], dy);
    const forwardDispatches = await countDispatches(() => fusedOp(packed));
    const fusedDispatches = await countDispatches(() => tf.grads(fusedOp)([packed], dy));
    setKernelMode('stock');
    const stock = await run(stockOp, inputs, dy);
    return {
      case: c.name,
      forward: relativeDifference(fused.out, stock.out),
      gradient: Math.max(...[0, 1, 2].map((i) => relativeDifference(third(fused.grads, i), third(stock.grads, i)))),
      fusedDispatches,
      forwardDispatches,
    };
  } finally {
    setKernelMode(before);
    tf.dispose([...inputs, packed, dy, ...[mask, bias, multiplier].filter((t) => t !== null)]);
  }
}

/** Every case of ATTENTION_CASES on the active backend (webgpu). */
export async function attentionParity(): Promise<AttentionParityResult[]> {
  const results: AttentionParityResult[] = [];
  for (const [i, c] of ATTENTION_CASES.entries()) results.push(await parityCase(c, 100 + 10 * i));
  return results;
}
