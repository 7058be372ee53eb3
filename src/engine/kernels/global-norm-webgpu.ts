/**
 * The global gradient norm and the clipping coefficient of AdamW's clipping in a few dispatches
 * (docs/ARCHITECTURE.md, "Own kernels"), the multi-tensor pass of issue 23: each program sums the
 * squares of up to `gradsPerNormProgram()` gradients (6 to 14, by the device's binding limit) into a running total (one workgroup, strided loads,
 * a tree reduction in workgroup memory), and one last program turns the total into
 * `[norm, coefficient]` with `coefficient = min(maxNorm / (norm + 1e-6), 1)` as
 * `torch.nn.utils.clip_grad_norm_` does. The stock path takes a square and a sum per gradient, the
 * chunked add of all of them, a square root and the coefficient's ops (about 2 dispatches per
 * parameter); this takes ⌈P / k⌉ + 1 and uploads nothing.
 *
 * Reference: `globalNorm` and `clipByGlobalNorm` in train/optim.ts. Parity:
 * src/engine/kernels/global-norm-webgpu.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { ElementwiseProgram, runProgram } from './program';
import { deviceLimits } from './raw-dispatch';

/** Most gradients one program sums (bounds the shader's length). */
const MAX_GRADS_PER_PROGRAM = 14;

/**
 * Gradients per program on the active device: its storage buffers per shader stage minus the
 * output and the running total (6 with WebGPU's guaranteed 8; backend.ts asks for up to 16).
 */
export function gradsPerNormProgram(): number {
  const storageBuffers = deviceLimits().maxStorageBuffersPerShaderStage;
  return Math.max(1, Math.min(MAX_GRADS_PER_PROGRAM, storageBuffers - 2));
}

/** Threads of the one workgroup that reduces a chunk (a power of two for the tree reduction). */
const REDUCE_THREADS = 256;

/** Running total [1] + Σ over `count` gradients of Σ g² → [1]. */
class SumSquaresProgram implements WebGPUProgram {
  readonly outputShape = [1];
  readonly shaderKey: string;
  readonly dispatchLayout = { x: [0] };
  readonly dispatch: [number, number, number] = [1, 1, 1];
  readonly workgroupSize: [number, number, number] = [REDUCE_THREADS, 1, 1];
  readonly variableNames: string[];
  readonly uniforms: string;

  constructor(private readonly count: number) {
    this.shaderKey = `fewshot_sum_squares_${count}`;
    this.variableNames = ['total', ...Array.from({ length: count }, (_, j) => `g${j}`)];
    this.uniforms = Array.from({ length: count }, (_, j) => `n${j} : i32,`).join(' ');
  }

  getUserCode(): string {
    const loops = Array.from(
      { length: this.count },
      (_, j) => `for (var i = t; i < uniforms.n${j}; i = i + ${REDUCE_THREADS}) { let x = g${j}[i]; s = s + x * x; }`,
    ).join('\n          ');
    return `
      var<workgroup> partial : array<f32, ${REDUCE_THREADS}>;
      fn main(index : i32) {
        let t = i32(localIndex);
        var s = 0.0;
        ${loops}
        partial[t] = s;
        workgroupBarrier();
        for (var stride = ${REDUCE_THREADS / 2}; stride > 0; stride = stride / 2) {
          if (t < stride) { partial[t] = partial[t] + partial[t + stride]; }
          workgroupBarrier();
        }
        if (t == 0) { result[0] = total[0] + partial[0]; }
      }`;
  }
}

/**
 * `[norm, coefficient]` [2] of `grads` for clipping at `maxNorm` (webgpu only). `zero` is a kept [1]
 * tensor of 0 the first program starts from, so nothing is uploaded per step. Empty tensors are
 * skipped; no gradients gives norm 0 and coefficient 1.
 */
export function fusedClipState(grads: readonly tf.Tensor[], maxNorm: number, zero: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const live = grads.filter((g) => g.size > 0);
    let total: tf.Tensor = zero; // [1]
    const perProgram = gradsPerNormProgram();
    for (let start = 0; start < live.length; start += perProgram) {
      const chunk = live.slice(start, start + perProgram);
      total = runProgram(
        new SumSquaresProgram(chunk.length),
        [total, ...chunk],
        chunk.map((g) => ({ type: 'int32' as const, value: g.size })),
      );
    }
    const finish = new ElementwiseProgram(
      'clip_state',
      ['total'],
      'maxNorm : f32,',
      'let norm = sqrt(total[0]); ' +
        'if (index == 0) { setOutputAtIndex(0, norm); } ' +
        'else { setOutputAtIndex(1, min(uniforms.maxNorm / (norm + 1e-6), 1.0)); }',
      [2],
    );
    return runProgram(finish, [total], [{ type: 'float32', value: maxNorm }]) as tf.Tensor1D; // [2]
  });
}
