/**
 * The embedding lookup's gradient as one scatter-add program of ours (docs/ARCHITECTURE.md, "Own
 * kernels"): a thread per element of dy [N, H] adds it into row `ids[n]` of the zero-filled gradient
 * [V, H] with a float add made atomic by compare-and-swap (WGSL has integer atomics only). tfjs's
 * `unsortedSegmentSum` on WebGPU sums along the last axis, so it transposes dy in and the whole
 * [V, H] result out; for the word embeddings of a 30,522-word vocabulary those transposes were the
 * costliest programs of the step after the matmuls (research/kernels/kernel-times.ts). Like tfjs's,
 * the sum of repeated ids is in whatever order the threads land (float rounding may differ from run
 * to run in the last bits).
 *
 * Reference: tfjs's gather gradient (stock path). Parity: kernels/embedding-parity.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { ELEMENTWISE_WORKGROUP_SIZE } from './program';

class ScatterAddRowsProgram implements WebGPUProgram {
  readonly outputShape: number[];
  readonly shaderKey = 'fewshot_scatter_add_rows';
  readonly dispatchLayout: { x: number[] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [ELEMENTWISE_WORKGROUP_SIZE, 1, 1];
  readonly variableNames = ['dy', 'ids'];
  readonly uniforms = 'count : i32, cols : i32,';
  readonly atomic = true;

  constructor(rows: number, cols: number, count: number) {
    this.outputShape = [rows, cols];
    this.dispatchLayout = { x: [0, 1] };
    this.dispatch = [Math.ceil(count / ELEMENTWISE_WORKGROUP_SIZE), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.count) {
          let n = index / uniforms.cols;
          let h = index - n * uniforms.cols;
          let slot = ids[n] * uniforms.cols + h;
          let value = dy[index];
          var old = atomicLoad(&result[slot]);
          loop {
            let swapped = atomicCompareExchangeWeak(&result[slot], old, bitcast<i32>(bitcast<f32>(old) + value));
            if (swapped.exchanged) { break; }
            old = swapped.old_value;
          }
        }
      }`;
  }
}

/** Σ of the rows of dy [N, H] into rows `ids` int32 [N] of a [rows, H] zero tensor (webgpu only). */
export function fusedScatterAddRows(dy: tf.Tensor2D, ids: tf.Tensor1D, rows: number): tf.Tensor2D {
  const [N, H] = dy.shape;
  const out = tf.fill([rows, H], 0) as tf.Tensor2D; // [V, H]; a fill program (tf.zeros would upload zeros made in JS)
  if (N * H === 0) return out;
  const backend = tf.backend() as unknown as WebGPUBackend;
  // Written in place into `out` (the program's output binding is `out`'s buffer).
  backend.runWebGPUProgram(
    new ScatterAddRowsProgram(rows, H, N * H),
    [dy, ids],
    'float32',
    [
      { type: 'int32', data: [N * H] },
      { type: 'int32', data: [H] },
    ],
    { dataId: out.dataId, shape: out.shape, dtype: out.dtype },
  );
  return out;
}
