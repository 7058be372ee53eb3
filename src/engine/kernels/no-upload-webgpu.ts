/**
 * Ops whose stock gradient uploads a constant every step, with gradients that upload nothing
 * (docs/ARCHITECTURE.md, "Own kernels"): a training step should upload only its batch.
 * - mean of a whole tensor (the losses): tfjs's Mean gradient multiplies by a new `ones` tensor and
 *   divides by a new scalar, two uploads; ours is one program, dy / n.
 * - tanh (the pooler): tfjs's gradient computes 1 − y² from a new scalar 1; ours is one program,
 *   dy · (1 − y²).
 * - the prompt method's soft-label cross-entropy and MLM's weighted mean: their stock gradients
 *   spread dy with new `ones` tensors; ours are one program each.
 * - a floor in a loss (`tf.maximum(x, 1)`, `log(max(x, 1e-30))`): a number passed to a tfjs op
 *   becomes a new tensor, an upload, every call; ours is a uniform of the program.
 * The backward pass's own seed (dL/dL = 1) is the optimizer's kept scalar (train/step.ts).
 * Each gradient computes what the stock one does, in the same order.
 *
 * Reference: each function's stock expression and tfjs's autodiff of it (`tf.mean`, `tf.tanh`, the
 * logSoftmax chain, the weighted sum, `tf.log(tf.maximum(…))`), the path on cpu, wasm and with the
 * stock kernel setting. Parity: src/engine/kernels/no-upload-webgpu.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { ElementwiseProgram, fusedKernelsActive, runProgram } from './program';

/** Mean over every element of `x` (any shape) → scalar; our gradient on webgpu, `tf.mean` elsewhere. */
export function meanOfAll(x: tf.Tensor): tf.Scalar {
  if (!fusedKernelsActive()) return tf.mean(x) as tf.Scalar;
  const mean = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    return {
      value: tf.mean(input) as tf.Scalar,
      gradFunc: (dy: tf.Tensor) => {
        const spread = new ElementwiseProgram(
          'mean_grad',
          ['dy'],
          'count : f32,',
          'setOutputAtIndex(index, dy[0] / uniforms.count);',
          input.shape,
        );
        return runProgram(spread, [dy], [{ type: 'float32', value: input.size }]); // [x's shape]
      },
    };
  });
  return mean(x) as tf.Scalar;
}

/** tanh of `x` (any shape); on webgpu its gradient is our program, elsewhere `tf.tanh`. */
export function tanhActivation<T extends tf.Tensor>(x: T): T {
  if (!fusedKernelsActive()) return tf.tanh(x);
  const tanh = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    const value = tf.tanh(input);
    save([value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, [y]: tf.Tensor[]) => {
        const program = new ElementwiseProgram(
          'tanh_grad',
          ['dy', 'y'],
          '',
          'let t = y[index]; setOutputAtIndex(index, dy[index] * (1.0 - t * t));',
          input.shape,
        );
        return runProgram(program, [dy, y]); // [x's shape]
      },
    };
  });
  return tanh(x) as T;
}

/** Widest row the soft-label gradient program loops over per element (label sets, not vocabularies). */
const SOFT_LABEL_MAX_WIDTH = 256;

/**
 * −mean over rows of Σ_l labels · logSoftmax(scores): the prompt method's loss with soft labels.
 * `scores` [B, L], `labels` [B, L] (data: no gradient) → scalar. On webgpu (L ≤ 256) the gradient
 * is one program, dy-spread and logSoftmax's backward together; elsewhere the stock ops.
 */
export function softLabelCrossEntropy(scores: tf.Tensor2D, labels: tf.Tensor2D): tf.Scalar {
  const [rows, width] = scores.shape;
  const loss = (logProbs: tf.Tensor2D) => tf.neg(tf.mean(tf.sum(tf.mul(labels, logProbs), -1))) as tf.Scalar;
  if (!fusedKernelsActive() || width > SOFT_LABEL_MAX_WIDTH) return loss(tf.logSoftmax(scores, -1));
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    const logProbs = tf.logSoftmax(input, -1); // [B, L]
    save([logProbs]);
    return {
      value: loss(logProbs),
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => {
        // As the stock chain: g = (−dy)/B per element, dz = g·labels, then logSoftmax's backward
        // dz − exp(logProbs)·Σ_row dz. `f32(labels[…])`: one-hot labels cast from int32 keep their
        // int32 buffer in tfjs (a cast without precision loss copies nothing).
        const program = new ElementwiseProgram(
          'soft_ce_grad',
          ['dy', 'labels', 'logProbs'],
          'rows : f32, width : i32,',
          'let g = -dy[0] / uniforms.rows; let start = (index / uniforms.width) * uniforms.width; ' +
            'var rowSum = 0.0; for (var j = 0; j < uniforms.width; j = j + 1) { rowSum = rowSum + g * f32(labels[start + j]); } ' +
            'setOutputAtIndex(index, g * f32(labels[index]) - exp(logProbs[index]) * rowSum);',
          [rows, width],
        );
        return runProgram(
          program,
          [dy, labels, saved],
          [
            { type: 'float32', value: rows },
            { type: 'int32', value: width },
          ],
        ); // [B, L]
      },
    };
  });
  return op(scores) as tf.Scalar;
}

/**
 * Σ weights · values / max(Σ weights, 1): MLM's loss over masked positions. `values` [N],
 * `weights` [N] (data: no gradient) → scalar. On webgpu the gradient is one program,
 * (dy / total) · weights; elsewhere the stock ops.
 */
export function weightedMean(values: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
  if (!fusedKernelsActive()) {
    return tf.div(tf.sum(tf.mul(values, weights)), tf.maximum(tf.sum(weights), 1)) as tf.Scalar;
  }
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor1D;
    const save = args[1] as tf.GradSaveFunc;
    const atLeastOne = new ElementwiseProgram(
      'at_least',
      ['x'],
      'floor : f32,',
      'setOutputAtIndex(index, max(x[index], uniforms.floor));',
      [],
    );
    const total = runProgram(atLeastOne, [tf.sum(weights)], [{ type: 'float32', value: 1 }]); // scalar
    save([total]);
    return {
      value: tf.div(tf.sum(tf.mul(input, weights)), total) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, [savedTotal]: tf.Tensor[]) => {
        const program = new ElementwiseProgram(
          'weighted_mean_grad',
          ['dy', 'total', 'weights'],
          '',
          'setOutputAtIndex(index, (dy[0] / total[0]) * f32(weights[index]));',
          input.shape,
        );
        return runProgram(program, [dy, savedTotal, weights]); // [N]
      },
    };
  });
  return op(values) as tf.Scalar;
}

/**
 * log(max(x, floor)) elementwise (any shape). On webgpu the floor is a uniform and the gradient one
 * program, dy / x where x ≥ floor and 0 below (the stock chain's log then maximum gradients);
 * elsewhere the stock ops.
 */
export function logAtLeast<T extends tf.Tensor>(x: T, floor: number): T {
  if (!fusedKernelsActive()) return tf.log(tf.maximum(x, floor)) as T;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    save([input]);
    const forward = new ElementwiseProgram(
      'log_at_least',
      ['x'],
      'floor : f32,',
      'setOutputAtIndex(index, log(max(x[index], uniforms.floor)));',
      input.shape,
    );
    return {
      value: runProgram(forward, [input], [{ type: 'float32', value: floor }]), // [x's shape]
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => {
        const backward = new ElementwiseProgram(
          'log_at_least_grad',
          ['dy', 'x'],
          'floor : f32,',
          'let v = x[index]; var g = 0.0; if (v >= uniforms.floor) { g = dy[index] / v; } setOutputAtIndex(index, g);',
          input.shape,
        );
        return runProgram(backward, [dy, saved], [{ type: 'float32', value: floor }]); // [x's shape]
      },
    };
  });
  return op(x) as T;
}
