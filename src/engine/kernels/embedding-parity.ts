/**
 * Parity cases of the embedding lookup's own gradient (`embeddingLookup` in tf/ops.ts: one
 * scatter-add, no transposes) against tfjs's gather gradient, on the active backend (webgpu: Node's
 * Dawn in Vitest, Chromium in the e2e harness). docs/ARCHITECTURE.md, "Own kernels".
 */
import * as tf from '@tensorflow/tfjs';
import { Counters } from '../bench/instrument';
import { embeddingLookup } from '../tf/ops';
import { kernelMode, setKernelMode } from './mode';
import { relativeDifference, type ParityResult } from './program';

/** Values and table gradient of Σ lookup·weights in `mode`, and the dispatches of forward + backward. */
async function run(mode: 'fused' | 'stock', table: tf.Tensor2D, ids: tf.Tensor1D, weights: tf.Tensor2D) {
  const before = kernelMode();
  setKernelMode(mode);
  try {
    await table.data();
    const counters = Counters.install();
    const out = embeddingLookup(table, ids);
    const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(embeddingLookup(t as tf.Tensor2D, ids), weights)))(table);
    const dispatches = counters.snapshot().dispatches;
    counters.uninstall();
    const result = { out: await out.data(), grad: await grad.data(), dispatches };
    tf.dispose([out, grad]);
    return result;
  } finally {
    setKernelMode(before);
  }
}

export async function embeddingParity(): Promise<ParityResult[]> {
  const results: ParityResult[] = [];
  for (const [rows, width, count] of [
    [50, 7, 13],
    [3001, 32, 40],
    [2, 5, 9],
  ]) {
    const table = tf.randomNormal([rows, width], 0, 1, 'float32', rows) as tf.Tensor2D;
    // Repeated ids on purpose: their gradients must add up.
    const ids = tf.tensor1d(
      Array.from({ length: count }, (_, i) => (i * 7919) % Math.min(rows, 11)),
      'int32',
    );
    const weights = tf.randomNormal([count, width], 0, 1, 'float32', count) as tf.Tensor2D;
    const fused = await run('fused', table, ids, weights);
    const stock = await run('stock', table, ids, weights);
    results.push({
      case: `lookup [${rows}, ${width}] × ${count} ids`,
      forward: relativeDifference(fused.out, stock.out),
      gradient: relativeDifference(fused.grad, stock.grad),
      fusedDispatches: fused.dispatches,
    });
    tf.dispose([table, ids, weights]);
  }
  return results;
}

/** Dispatches of a lookup's forward + backward in `mode` (the stock gradient adds two transposes). */
export async function embeddingDispatches(mode: 'fused' | 'stock'): Promise<number> {
  const table = tf.randomNormal([64, 8], 0, 1, 'float32', 1) as tf.Tensor2D;
  const ids = tf.tensor1d([1, 5, 5, 63], 'int32');
  const weights = tf.ones([4, 8]) as tf.Tensor2D;
  await run(mode, table, ids, weights); // uploads the inputs first
  const { dispatches } = await run(mode, table, ids, weights);
  tf.dispose([table, ids, weights]);
  return dispatches;
}
