/**
 * Parity cases of the cross-entropy kernels (cross-entropy-webgpu.ts) against the stock ops they
 * replace, on the active backend (webgpu: Node's Dawn in Vitest, Chromium in the e2e harness).
 * docs/ARCHITECTURE.md, "Own kernels".
 */
import * as tf from '@tensorflow/tfjs';
import { Counters } from '../bench/instrument';
import { fusedLogSoftmaxGather, fusedRowCrossEntropy } from './cross-entropy-webgpu';
import { relativeDifference, type ParityResult } from './program';

/** Forward values, gradient of Σ out·weights, and the dispatches of the forward alone. */
async function measure(
  f: (x: tf.Tensor2D) => tf.Tensor,
  x: tf.Tensor2D,
  weights: tf.Tensor,
): Promise<{ out: Float32Array; grad: Float32Array; dispatches: number }> {
  await x.data(); // settle pending work so the count below is the op's alone
  const counters = Counters.install();
  const out = f(x);
  const dispatches = counters.snapshot().dispatches;
  counters.uninstall();
  const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t as tf.Tensor2D), weights)))(x);
  const result = { out: (await out.data()) as Float32Array, grad: (await grad.data()) as Float32Array, dispatches };
  tf.dispose([out, grad]);
  return result;
}

/** Logits with a spread of scales, and one row shifted by +80 (exp overflows without the row max). */
function logits(rows: number, width: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    const x = tf.mul(tf.randomNormal([rows, width], 0, 1, 'float32', seed), 4);
    const shift = tf.concat([tf.fill([1, width], 80), tf.zeros([rows - 1, width])], 0);
    return tf.add(x, shift) as tf.Tensor2D;
  });
}

const stockRowCrossEntropy = (x: tf.Tensor2D, labels: tf.Tensor1D) =>
  tf.neg(tf.sum(tf.mul(tf.oneHot(labels, x.shape[1]).toFloat(), tf.logSoftmax(x, -1)), -1)); // [N]

const stockLogSoftmaxGather = (x: tf.Tensor2D, wordIds: tf.Tensor1D) => tf.gather(tf.logSoftmax(x, -1), wordIds, 1); // [B, W]

export async function crossEntropyParity(): Promise<ParityResult[]> {
  const results: ParityResult[] = [];
  for (const [rows, width] of [
    [1, 2],
    [7, 3],
    [33, 67],
    [5, 3001],
  ]) {
    const x = logits(rows, width, rows * 100 + width);
    const labels = tf.tensor1d(
      Array.from({ length: rows }, (_, i) => (i * 7 + 3) % width),
      'int32',
    );
    const weights = tf.randomUniform([rows], 0.5, 1.5, 'float32', width);
    const fused = await measure((t) => fusedRowCrossEntropy(t, labels), x, weights);
    const stock = await measure((t) => stockRowCrossEntropy(t, labels), x, weights);
    results.push({
      case: `row cross-entropy [${rows}, ${width}]`,
      forward: relativeDifference(fused.out, stock.out),
      gradient: relativeDifference(fused.grad, stock.grad),
      fusedDispatches: fused.dispatches,
    });
    tf.dispose([x, labels, weights]);
  }
  for (const [rows, width, words] of [
    [4, 50, [3, 7, 3]],
    [3, 3001, [0, 5, 2999, 3000, 17]],
  ] as const) {
    const x = logits(rows, width, rows + width);
    const wordIds = tf.tensor1d([...words], 'int32');
    const weights = tf.randomUniform([rows, words.length], 0.5, 1.5, 'float32', rows);
    const fused = await measure((t) => fusedLogSoftmaxGather(t, wordIds), x, weights);
    const stock = await measure((t) => stockLogSoftmaxGather(t, wordIds), x, weights);
    results.push({
      case: `log-softmax gather [${rows}, ${width}] words ${words.length}`,
      forward: relativeDifference(fused.out, stock.out),
      gradient: relativeDifference(fused.grad, stock.grad),
      fusedDispatches: fused.dispatches,
    });
    tf.dispose([x, wordIds, weights]);
  }
  return results;
}
