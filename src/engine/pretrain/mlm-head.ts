/**
 * The MLM head for pretraining, on masked rows only: the same function as `mlmLogitsRows`
 * (bert/model.ts; parity in mlm-head.test.ts) with a tied decoder whose matmuls are laid out for
 * speed, and a cross-entropy that never materialises log-probabilities or one-hot labels.
 *
 * Why a custom decoder: on tfjs-backend-wasm, `matMul(n [N,H], E [V,H], false, true)` and its
 * default gradient `matMul(dy, n, true, false)` run 4-5× slower than the same products with an
 * explicit transpose (measured here for N 304, V 30522, H 128: forward 1050 → 240 ms, dE 983 →
 * 178 ms per step). The explicit transpose is one cheap pass on every backend.
 */
import * as tf from '@tensorflow/tfjs';
import { activation, type BertConfig, type BertParams } from '../bert';
import { layerNorm, linear } from '../tf/ops';
import { fusedRowCrossEntropy } from '../kernels/cross-entropy-webgpu';
import { fusedKernelsActive } from '../kernels/program';

/** n [N, H] · Eᵀ → [N, V] with gradients dn = dy·E, dE = dyᵀ·n (both via explicit transposes). */
const tiedDecoder = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [n, e, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([n, e]);
  const value = tf.matMul(n as tf.Tensor2D, tf.transpose(e as tf.Tensor2D)); // [N, V]
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sn, se] = saved as tf.Tensor2D[];
      const g = dy as tf.Tensor2D; // [N, V]
      return [tf.matMul(g, se), tf.matMul(tf.transpose(g), sn)]; // [N, H], [V, H]
    },
  };
}) as (n: tf.Tensor2D, e: tf.Tensor2D) => tf.Tensor2D;

/** MLM logits for rows [N, H] → [N, V]; same values as `mlmLogitsRows`. */
export function mlmRowsLogits(params: BertParams, config: BertConfig, rows: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const m = params.mlm;
    const t = activation(linear(rows, m.transform.w, m.transform.b), config.hidden_act) as tf.Tensor2D; // [N, H]
    const n = layerNorm(t, m.ln.gamma, m.ln.beta, config.layer_norm_eps) as tf.Tensor2D; // [N, H]
    return tf.add(tiedDecoder(n, params.embeddings.word), m.bias); // [N, V]
  });
}

/**
 * Per-row cross-entropy logsumexp(logits) − logits[label]: logits [N, V], labels int32 [N] → [N].
 * Custom gradient dlogits = dy · (softmax − onehot): one pass over [N, V] (oneHot is cast: its float32 dtype argument gives zeros on wasm; the stock logSumExp
 * gradient goes through max's `Equal` mask, which alone took ~600 ms per step on wasm).
 */
export function rowCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  if (fusedKernelsActive()) return fusedRowCrossEntropy(logits, labels); // [N] (docs/ARCHITECTURE.md, "Own kernels")
  const [N, V] = logits.shape;
  const ce = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const lse = tf.logSumExp(x, 1, true); // [N, 1]
    const index = tf.add(tf.mul(tf.range(0, N, 1, 'int32'), tf.scalar(V, 'int32')), labels); // [N] flat n·V + label
    const picked = tf.gather(tf.reshape(x, [N * V]), index); // [N]
    save([x, lse]);
    return {
      value: tf.sub(tf.reshape(lse, [N]), picked), // [N]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, slse] = saved;
        const softmax = tf.exp(tf.sub(sx, slse)); // [N, V]
        return tf.mul(tf.sub(softmax, tf.cast(tf.oneHot(labels, V), 'float32')), tf.reshape(dy, [N, 1])); // [N, V]
      },
    };
  });
  return ce(logits) as tf.Tensor1D;
}
