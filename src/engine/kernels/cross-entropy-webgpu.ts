/**
 * Softmax cross-entropies as our own WebGPU programs (docs/ARCHITECTURE.md, "Own kernels"): one
 * workgroup per row finds the row's maximum and Σ exp in workgroup memory, so a row costs one
 * dispatch forward and one backward whatever its width (2 labels or a 30,522-word vocabulary).
 *
 * - `fusedRowCrossEntropy(logits [N, C], labels int32 [N])` → [N] = logsumexp(row) − row[label]; its
 *   gradient (softmax − one-hot)·dy. Used by the classifier's loss (classificationLoss) and by MLM
 *   pretraining at the gathered masked positions (rowCrossEntropy).
 * - `fusedLogSoftmaxGather(logits [B, V], wordIds int32 [W])` → [B, W] = log-softmax(row)[wordIds];
 *   its gradient onehot-scatter(dy) − softmax·Σ_w dy. The prompt method's verbalizer words.
 *
 * The backward programs compute the row's maximum and sum again instead of keeping them (one output
 * per program; a row is read twice either way). References: the stock-op code at each call site
 * (logSoftmax, oneHot, gather…). Parity: kernels/cross-entropy-parity.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { runProgram } from './program';

/** Threads per row (a power of two for the tree reductions); rows are short for classifiers. */
const ROW_THREADS = 64;

/**
 * WGSL shared by the programs: the row index from the workgroup (tfjs may spread a long dispatch over
 * y and z) and the row's max and Σ exp(x − max) by a tree reduction. Barriers stay in uniform control
 * flow: a workgroup past the last row clamps its reads and writes nothing.
 */
const ROW_STATS = `
  var<workgroup> red : array<f32, ${ROW_THREADS}>;
  fn rowIndex() -> i32 {
    return i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
  }
  fn reduceMax(v : f32) -> f32 {
    let t = i32(localIndex);
    red[t] = v;
    workgroupBarrier();
    for (var stride = ${ROW_THREADS / 2}; stride > 0; stride = stride / 2) {
      if (t < stride) { red[t] = max(red[t], red[t + stride]); }
      workgroupBarrier();
    }
    let out = red[0];
    workgroupBarrier();
    return out;
  }
  fn reduceSum(v : f32) -> f32 {
    let t = i32(localIndex);
    red[t] = v;
    workgroupBarrier();
    for (var stride = ${ROW_THREADS / 2}; stride > 0; stride = stride / 2) {
      if (t < stride) { red[t] = red[t] + red[t + stride]; }
      workgroupBarrier();
    }
    let out = red[0];
    workgroupBarrier();
    return out;
  }
  // (max, Σ exp(x − max)) of row \`base\` .. \`base + width\` of \`logits\`.
  fn rowStats(base : i32, width : i32) -> vec2<f32> {
    let t = i32(localIndex);
    var m = -3.402823e38;
    for (var c = t; c < width; c = c + ${ROW_THREADS}) { m = max(m, logits[base + c]); }
    let rowMax = reduceMax(m);
    var s = 0.0;
    for (var c = t; c < width; c = c + ${ROW_THREADS}) { s = s + exp(logits[base + c] - rowMax); }
    return vec2<f32>(rowMax, reduceSum(s));
  }
`;

/** A program with one workgroup of ROW_THREADS threads per row of `rows`. */
abstract class RowProgram implements WebGPUProgram {
  readonly dispatchLayout = { x: [0] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [ROW_THREADS, 1, 1];
  abstract readonly variableNames: string[];
  abstract readonly shaderKey: string;
  readonly uniforms = 'rows : i32, width : i32, words : i32,';

  constructor(
    readonly outputShape: number[],
    rows: number,
  ) {
    this.dispatch = [rows, 1, 1];
  }

  abstract getUserCode(): string;
}

class RowCrossEntropyProgram extends RowProgram {
  readonly variableNames = ['logits', 'labels'];
  readonly shaderKey = 'fewshot_row_ce';
  getUserCode(): string {
    return `${ROW_STATS}
      fn main(index : i32) {
        let row = min(rowIndex(), uniforms.rows - 1);
        let base = row * uniforms.width;
        let stats = rowStats(base, uniforms.width);
        if (localIndex == 0u && rowIndex() < uniforms.rows) {
          result[row] = log(stats.y) + stats.x - logits[base + labels[row]];
        }
      }`;
  }
}

class RowCrossEntropyGradProgram extends RowProgram {
  readonly variableNames = ['logits', 'labels', 'dy'];
  readonly shaderKey = 'fewshot_row_ce_grad';
  getUserCode(): string {
    return `${ROW_STATS}
      fn main(index : i32) {
        let row = min(rowIndex(), uniforms.rows - 1);
        let base = row * uniforms.width;
        let stats = rowStats(base, uniforms.width);
        if (rowIndex() < uniforms.rows) {
          let label = labels[row];
          let g = dy[row];
          for (var c = i32(localIndex); c < uniforms.width; c = c + ${ROW_THREADS}) {
            let p = exp(logits[base + c] - stats.x) / stats.y;
            result[base + c] = (p - select(0.0, 1.0, c == label)) * g;
          }
        }
      }`;
  }
}

class LogSoftmaxGatherProgram extends RowProgram {
  readonly variableNames = ['logits', 'wordIds'];
  readonly shaderKey = 'fewshot_log_softmax_gather';
  getUserCode(): string {
    return `${ROW_STATS}
      fn main(index : i32) {
        let row = min(rowIndex(), uniforms.rows - 1);
        let base = row * uniforms.width;
        let stats = rowStats(base, uniforms.width);
        let lse = stats.x + log(stats.y);
        if (rowIndex() < uniforms.rows) {
          for (var w = i32(localIndex); w < uniforms.words; w = w + ${ROW_THREADS}) {
            result[row * uniforms.words + w] = logits[base + wordIds[w]] - lse;
          }
        }
      }`;
  }
}

class LogSoftmaxGatherGradProgram extends RowProgram {
  readonly variableNames = ['logits', 'wordIds', 'dy'];
  readonly shaderKey = 'fewshot_log_softmax_gather_grad';
  getUserCode(): string {
    return `${ROW_STATS}
      fn main(index : i32) {
        let row = min(rowIndex(), uniforms.rows - 1);
        let base = row * uniforms.width;
        let stats = rowStats(base, uniforms.width);
        var dySum = 0.0;
        for (var w = 0; w < uniforms.words; w = w + 1) { dySum = dySum + dy[row * uniforms.words + w]; }
        if (rowIndex() < uniforms.rows) {
          for (var c = i32(localIndex); c < uniforms.width; c = c + ${ROW_THREADS}) {
            var picked = 0.0;
            for (var w = 0; w < uniforms.words; w = w + 1) {
              if (wordIds[w] == c) { picked = picked + dy[row * uniforms.words + w]; }
            }
            result[base + c] = picked - exp(logits[base + c] - stats.x) / stats.y * dySum;
          }
        }
      }`;
  }
}

const sizes = (rows: number, width: number, words = 0) =>
  [rows, width, words].map((value) => ({ type: 'int32' as const, value }));

/** logsumexp(row) − row[label] per row: logits [N, C] float32, labels int32 [N] → [N] (webgpu only). */
export function fusedRowCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const [N, C] = logits.shape;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    save([x]);
    return {
      value: runProgram(new RowCrossEntropyProgram([N], N), [x, labels], sizes(N, C)) as tf.Tensor1D, // [N]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        runProgram(new RowCrossEntropyGradProgram([N, C], N), [saved[0], labels, dy], sizes(N, C)), // [N, C]
    };
  });
  return op(logits) as tf.Tensor1D;
}

/** log-softmax(row)[wordIds]: logits [B, V] float32, wordIds int32 [W] → [B, W] (webgpu only). */
export function fusedLogSoftmaxGather(logits: tf.Tensor2D, wordIds: tf.Tensor1D): tf.Tensor2D {
  const [B, V] = logits.shape;
  const W = wordIds.shape[0];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    save([x]);
    return {
      value: runProgram(new LogSoftmaxGatherProgram([B, W], B), [x, wordIds], sizes(B, V, W)) as tf.Tensor2D, // [B, W]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        runProgram(new LogSoftmaxGatherGradProgram([B, V], B), [saved[0], wordIds, dy], sizes(B, V, W)), // [B, V]
    };
  });
  return op(logits) as tf.Tensor2D;
}
