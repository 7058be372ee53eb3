/**
 * What every kernel of ours shares (docs/ARCHITECTURE.md, "Own kernels"): the switch that says whether
 * they run, a program class for the elementwise ones, a way to run any `WebGPUProgram` on tensors,
 * and the one-time log line a kernel writes when it falls back to the stock ops for a shape it does
 * not support.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { kernelMode } from './mode';

/** Threads per workgroup of the elementwise programs (tfjs's own elementwise default). */
export const ELEMENTWISE_WORKGROUP_SIZE = 64;

/** Whether our kernels run now: the active backend is webgpu and the kernel setting is 'fused'. */
export function fusedKernelsActive(): boolean {
  return kernelMode() === 'fused' && tf.getBackend() === 'webgpu';
}

/** One scalar handed to a program; it appears in WGSL as `uniforms.<name>` in declaration order. */
export interface ProgramUniform {
  type: 'float32' | 'int32' | 'uint32';
  value: number;
}

/**
 * One output element per thread; `body` reads the inputs at `index` and calls `setOutputAtIndex`.
 * `uniforms` is the WGSL field list (e.g. `'rate : f32, seed : u32,'`), filled in that order.
 * Shapes are not baked into the code, so one compiled pipeline serves every size.
 */
export class ElementwiseProgram implements WebGPUProgram {
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [ELEMENTWISE_WORKGROUP_SIZE, 1, 1];
  readonly size = true;

  constructor(
    name: string,
    readonly variableNames: string[],
    readonly uniforms: string,
    private readonly body: string,
    shape: readonly number[],
    /** WGSL placed before `main` (helper functions); part of the shader, so keep it constant per name. */
    private readonly prelude = '',
  ) {
    this.outputShape = [...shape];
    this.shaderKey = `fewshot_${name}`;
    this.dispatchLayout = { x: this.outputShape.map((_, i) => i) };
    const size = this.outputShape.reduce((a, b) => a * b, 1);
    // tfjs spreads a dispatch over y and z when x exceeds the device's per-dimension limit.
    this.dispatch = [Math.ceil(size / ELEMENTWISE_WORKGROUP_SIZE), 1, 1];
  }

  getUserCode(): string {
    return `
      ${this.prelude}
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${this.body}
        }
      }`;
  }
}

/** Runs `program` on `inputs` (webgpu backend only) and returns its output as a tensor the caller owns. */
export function runProgram(
  program: WebGPUProgram,
  inputs: tf.Tensor[],
  uniforms: ProgramUniform[] = [],
  dtype: tf.DataType = 'float32',
): tf.Tensor {
  const backend = tf.backend() as unknown as WebGPUBackend;
  const info = backend.runWebGPUProgram(
    program,
    inputs,
    dtype,
    uniforms.map((u) => ({ type: u.type, data: [u.value] })),
  );
  return tf.engine().makeTensorFromTensorInfo(info);
}

const fallbacksLogged = new Set<string>();

/**
 * A fused kernel that cannot take this shape says so once (per kernel and reason) and the caller runs
 * the stock ops instead: a fallback is never a wrong result, only a slower one.
 */
export function logFallbackOnce(kernel: string, reason: string): void {
  const key = `${kernel}: ${reason}`;
  if (fallbacksLogged.has(key)) return;
  fallbacksLogged.add(key);
  console.warn(`fused ${kernel} kernel not used (${reason}); running the stock ops for it`);
}

/** The fallbacks logged so far (tests check that a shape fell back, and why). */
export function loggedFallbacks(): string[] {
  return [...fallbacksLogged];
}

/**
 * One parity case of a kernel against its stock reference, both run on the active (webgpu) backend:
 * the largest |fused − stock| over the largest |stock|, forward and gradient, and the dispatches the
 * fused forward took. The `*-parity.ts` files make these for the Node tests and the browser e2e.
 */
export interface ParityResult {
  case: string;
  forward: number;
  gradient: number;
  fusedDispatches: number;
}

/** max|a − b| / max|b| over the tensor (0 when both are all zero; Infinity when only b is). */
export function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  if (diff === 0) return 0;
  return scale === 0 ? Infinity : diff / scale;
}

/** Output and gradient of sum(op(x) · w) for x, w fixed, both read back: an elementwise op's parity inputs. */
export async function valueAndGrad(op: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, w: tf.Tensor) {
  const [y, dx] = tf.tidy(() => {
    const out = op(x);
    const [grad] = tf.grads((input: tf.Tensor) => tf.sum(tf.mul(op(input), w)))([x]);
    return [out, grad];
  });
  const result = { y: await y.data(), dx: await dx.data() };
  tf.dispose([y, dx]);
  return result;
}
