/**
 * Inverted dropout with its mask made on the GPU (docs/ARCHITECTURE.md, "Own kernels"). Element `i`
 * (the flat row-major index) of a dropout site with seed `seed` is kept when
 * `dropoutUniform(seed, i) >= rate` (kernels/rng.ts), and a kept element is scaled by 1/(1 − rate):
 * `y = x · keep / (1 − rate)` (the rate is compared as the float32 the uniform holds). The mask is a pure function of the seed and the index, so the forward
 * pass is one elementwise program with nothing uploaded but uniforms (stock `tf.dropout` draws its
 * random numbers in JavaScript and uploads them with two scalars, then takes four dispatches; it
 * keeps the multiplier for its one-dispatch backward), and the backward pass
 * is the same program on `dy`: it makes the same mask again from the seed instead of keeping it.
 *
 * Reference: the stock composite `x · mask / (1 − rate)` (`tf.dropout`, still the path on cpu and wasm
 * and with the `stock` kernel setting; its mask comes from tfjs's own generator, so the parity test
 * builds the stock composite with the JS twin of our mask). Parity: kernels/dropout-parity.ts, run
 * by kernels/dropout-webgpu.test.ts (Node on Dawn).
 */
import * as tf from '@tensorflow/tfjs';
import { ElementwiseProgram, logFallbackOnce, runProgram } from './program';
import { RNG_WGSL, dropoutSeedU32 } from './rng';

/** The largest tensor the kernel takes: the counter is a u32 element index (and WGSL's index an i32). */
const MAX_ELEMENTS = 2 ** 31 - 1;

/** WGSL of the one program, forward and backward alike: `input[i] · keep(i) · scale`. */
const DROPOUT_BODY =
  'let keep = dropoutUniform(uniforms.seed, u32(index)) >= uniforms.rate; ' +
  // A multiplier of 0 (not a select of 0) so a NaN or ∞ input stays NaN where dropped, like x·0 in stock.
  'setOutputAtIndex(index, input[index] * select(0.0, uniforms.scale, keep));';

/** The program for a tensor of `shape` (sizes are uniforms, so one pipeline serves every shape). */
function dropoutProgram(shape: readonly number[]): ElementwiseProgram {
  return new ElementwiseProgram(
    'dropout',
    ['input'],
    'seed : u32, rate : f32, scale : f32,',
    DROPOUT_BODY,
    shape,
    RNG_WGSL,
  );
}

/** `input` with the mask of (`seedU32`, `rate`) applied and kept elements scaled; one dispatch. */
function applyMask(input: tf.Tensor, seedU32: number, rate: number): tf.Tensor {
  return runProgram(
    dropoutProgram(input.shape),
    [input],
    [
      { type: 'uint32', value: seedU32 },
      { type: 'float32', value: rate },
      // 1/(1 − rate) rounded once to float32; stock divides by float32(1 − rate) on the GPU (≤ 1 ulp apart).
      { type: 'float32', value: 1 / (1 - rate) },
    ],
  );
}

/**
 * Why `x` cannot take the fused dropout, or null when it can. An unsupported input runs stock
 * `tf.dropout` instead (which raises its own error for a non-float input).
 */
export function dropoutUnsupported(x: tf.Tensor, rate: number): string | null {
  if (x.dtype !== 'float32') return `dtype ${x.dtype}`;
  if (!(rate > 0 && rate < 1)) return `rate ${rate} outside (0, 1)`;
  if (x.size > MAX_ELEMENTS) return `${x.size} elements (at most ${MAX_ELEMENTS})`;
  return null;
}

/**
 * Inverted dropout of float32 `x` [any shape] at `rate` in (0, 1) with the mask of `seed` (a fresh
 * random seed when undefined), on the webgpu backend only: one dispatch forward, one backward,
 * nothing saved for the backward but the seed.
 */
export function fusedDropout<T extends tf.Tensor>(x: T, rate: number, seed: number | undefined): T {
  const seedU32 = dropoutSeedU32(seed);
  const withGrad = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: applyMask(args[0] as tf.Tensor, seedU32, rate), // same shape as x
    gradFunc: (dy: tf.Tensor) => applyMask(dy, seedU32, rate), // the same mask, made again
  }));
  return withGrad(x) as T;
}

/** `fusedDropout` where the input allows it, else stock `tf.dropout` (after a one-time log line). */
export function dropoutWebGpu<T extends tf.Tensor>(x: T, rate: number, seed: number | undefined): T {
  const unsupported = dropoutUnsupported(x, rate);
  if (unsupported === null) return fusedDropout(x, rate, seed);
  logFallbackOnce('dropout', unsupported);
  return tf.dropout(x, rate, undefined, seed) as T;
}
