/**
 * AdamW's update as three WGSL programs per parameter on the webgpu backend (docs/ARCHITECTURE.md,
 * "Own kernels"): the first moment, the second moment, then the parameter, each reading the
 * gradient (times the clipping coefficient, still on the GPU) once. Stock tfjs ops take 13 dispatches
 * per parameter for the same update (measured; clipping adds one more and the norm). Elementwise, so
 * no tiling and no shape limits; the arithmetic is the stock path's, in the same order, so the two
 * agree to float32 rounding (an FMA a shader compiler may form is the only difference).
 *
 * Reference: `AdamW.applyUpdate` in train/optim.ts (the stock path, still used on cpu and wasm and with
 * the `stock` kernel setting). Parity: src/engine/kernels/adamw-webgpu.test.ts (Node on Dawn) and
 * e2e/engine-webgpu.spec.ts (Chromium).
 */
import * as tf from '@tensorflow/tfjs';
import { ElementwiseProgram, runProgram } from './program';

/** Constants of one AdamW step, as the stock path rounds them to float32. */
export interface AdamWStepConstants {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  eps: number;
  /** 1 − lr·wd, or 1 for a parameter without decay. */
  decayFactor: number;
  /** lr / (1 − β1^t). */
  stepSize: number;
  /** sqrt(1 − β2^t). */
  sqrtBias2: number;
}

/**
 * The updated m, v and parameter for one parameter: `grad` [any shape], `clip` [2] (the gradient
 * norm and the clipping coefficient, global-norm-webgpu.ts; [0, 1] when clipping is off), `m`, `v`, `param` of the parameter's shape. Returns new
 * tensors (the caller assigns them); on webgpu only.
 */
export function fusedAdamWUpdate(
  param: tf.Tensor,
  grad: tf.Tensor,
  clip: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  c: AdamWStepConstants,
): { param: tf.Tensor; m: tf.Tensor; v: tf.Tensor } {
  const shape = param.shape;
  const firstMoment = new ElementwiseProgram(
    'adamw_m',
    ['grad', 'moment', 'clip'],
    'beta : f32, oneMinusBeta : f32,',
    'let g = grad[index] * clip[1]; setOutputAtIndex(index, moment[index] * uniforms.beta + g * uniforms.oneMinusBeta);',
    shape,
  );
  const secondMoment = new ElementwiseProgram(
    'adamw_v',
    ['grad', 'moment', 'clip'],
    'beta : f32, oneMinusBeta : f32,',
    'let g = grad[index] * clip[1]; setOutputAtIndex(index, moment[index] * uniforms.beta + (g * g) * uniforms.oneMinusBeta);',
    shape,
  );
  const update = new ElementwiseProgram(
    'adamw_p',
    ['param', 'firstMoment', 'secondMoment'],
    'decayFactor : f32, sqrtBias2 : f32, eps : f32, stepSize : f32,',
    'let denom = sqrt(secondMoment[index]) / uniforms.sqrtBias2 + uniforms.eps; ' +
      'setOutputAtIndex(index, param[index] * uniforms.decayFactor - (firstMoment[index] / denom) * uniforms.stepSize);',
    shape,
  );
  const f32 = (...values: number[]) => values.map((value) => ({ type: 'float32' as const, value }));
  const mNew = runProgram(firstMoment, [grad, m, clip], f32(c.beta1, c.oneMinusBeta1));
  const vNew = runProgram(secondMoment, [grad, v, clip], f32(c.beta2, c.oneMinusBeta2));
  const pNew = runProgram(update, [param, mNew, vNew], f32(c.decayFactor, c.sqrtBias2, c.eps, c.stepSize));
  return { param: pNew, m: mNew, v: vNew };
}
