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
import { dispatchRaw, RAW_WORKGROUP_SIZE } from './raw-dispatch';

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

/** Most parameters one in-place AdamW dispatch updates (bounds the shader's branch chain). */
export const MAX_PARAMS_PER_ADAMW_DISPATCH = 8;

/**
 * Parameters per in-place AdamW dispatch on a device with `storageBuffers` storage buffers per
 * shader stage: the group's packed moments, the clip state, and a (parameter, gradient) pair each.
 * WebGPU's guaranteed 8 gives 3; backend.ts asks the adapter for up to 16.
 */
export function paramsPerAdamWDispatch(storageBuffers: number): number {
  return Math.max(1, Math.min(MAX_PARAMS_PER_ADAMW_DISPATCH, Math.floor((storageBuffers - 2) / 2)));
}

/** One group of parameters whose moments share one buffer: `[2 · total]`, m and v interleaved per element. */
export interface MomentGroupPlan {
  /** Indices into the optimizer's parameter list, at most `perGroup`. */
  members: number[];
  /** Element offset of each member's first (m, v) pair, in pairs. */
  offsets: number[];
  /** Σ member sizes: the group holds 2 · total floats. */
  total: number;
}

/**
 * Groups parameters (in order) for the in-place update: up to `perGroup` per group (one dispatch
 * each, `paramsPerAdamWDispatch`), and no group's moments over `maxBindingBytes` (the device's
 * storage binding and buffer limits).
 * A parameter whose moments alone exceed it is left out (`unpacked`): it keeps separate m and v and
 * the per-parameter programs above.
 */
export function planMomentGroups(
  sizes: readonly number[],
  maxBindingBytes: number,
  perGroup: number,
): { groups: MomentGroupPlan[]; unpacked: number[] } {
  const groups: MomentGroupPlan[] = [];
  const unpacked: number[] = [];
  let open: MomentGroupPlan | null = null;
  sizes.forEach((size, i) => {
    if (8 * size > maxBindingBytes) {
      unpacked.push(i);
      return;
    }
    if (!open || open.members.length === perGroup || 8 * (open.total + size) > maxBindingBytes) {
      open = { members: [], offsets: [], total: 0 };
      groups.push(open);
    }
    open.members.push(i);
    open.offsets.push(open.total);
    open.total += size;
  });
  return { groups, unpacked };
}

/** The step's constants every parameter shares (see `AdamWStepConstants`). */
export type AdamWSharedConstants = Omit<AdamWStepConstants, 'decayFactor'>;

/** One parameter of an in-place update: its gradient, where its moments start, its decay factor. */
export interface AdamWSlot {
  param: tf.Tensor;
  grad: tf.Tensor;
  /** Offset of the parameter's first (m, v) pair in the group's moments, in pairs. */
  momentOffset: number;
  /** 1 − lr·wd, or 1 without decay. */
  decayFactor: number;
}

/**
 * AdamW for a group of parameters (`paramsPerAdamWDispatch`) in one dispatch, written in place: each
 * parameter's buffer and the group's packed moments (`moments` [2 · total], m and v interleaved)
 * are updated where they are, nothing is allocated. Same arithmetic, in the same order, as
 * `fusedAdamWUpdate` and the stock path. The caller must own the parameters' buffers alone
 * (`soleOwner` in raw-dispatch.ts). On webgpu only.
 */
export function fusedAdamWInPlace(
  moments: tf.Tensor,
  clip: tf.Tensor,
  slots: readonly AdamWSlot[],
  c: AdamWSharedConstants,
): void {
  if (slots.length === 0) return;
  if (slots.length > MAX_PARAMS_PER_ADAMW_DISPATCH) {
    throw new Error(`at most ${MAX_PARAMS_PER_ADAMW_DISPATCH} parameters per AdamW dispatch`);
  }
  // Slot j covers the flat range [end(j−1), end(j)) of the dispatch's elements.
  const ends: number[] = [];
  slots.reduce((end, s) => {
    ends.push(end + s.param.size);
    return end + s.param.size;
  }, 0);
  const total = ends[ends.length - 1];
  const branches = slots
    .map((_, j) => {
      const start = j === 0 ? '0u' : `uniforms.end${j - 1}`;
      const test = j === slots.length - 1 ? '' : `if (i < uniforms.end${j}) `;
      return `${test}{ let k = i - ${start}; p${j}[k] = adamw(uniforms.offset${j} + k, p${j}[k], g${j}[k], uniforms.decay${j}); }`;
    })
    .join(' else ');
  dispatchRaw({
    name: `fewshot_adamw_inplace_${slots.length}`,
    bindings: [
      { name: 'moments', tensor: moments, access: 'read_write' },
      { name: 'clip', tensor: clip, access: 'read' },
      ...slots.flatMap((s, j) => [
        { name: `p${j}`, tensor: s.param, access: 'read_write' as const },
        { name: `g${j}`, tensor: s.grad, access: 'read' as const },
      ]),
    ],
    uniforms: [
      ...slots.flatMap((s, j) => [
        { name: `end${j}`, type: 'u32' as const, value: ends[j] },
        { name: `offset${j}`, type: 'u32' as const, value: s.momentOffset },
        { name: `decay${j}`, type: 'f32' as const, value: s.decayFactor },
      ]),
      { name: 'beta1', type: 'f32', value: c.beta1 },
      { name: 'oneMinusBeta1', type: 'f32', value: c.oneMinusBeta1 },
      { name: 'beta2', type: 'f32', value: c.beta2 },
      { name: 'oneMinusBeta2', type: 'f32', value: c.oneMinusBeta2 },
      { name: 'eps', type: 'f32', value: c.eps },
      { name: 'stepSize', type: 'f32', value: c.stepSize },
      { name: 'sqrtBias2', type: 'f32', value: c.sqrtBias2 },
    ],
    body: `
// One element's update: m and v at pair \`pair\` of the group's moments, in place; returns the new parameter.
fn adamw(pair : u32, param : f32, rawGrad : f32, decayFactor : f32) -> f32 {
  let g = rawGrad * clip[1];
  let m = moments[2u * pair] * uniforms.beta1 + g * uniforms.oneMinusBeta1;
  let v = moments[2u * pair + 1u] * uniforms.beta2 + (g * g) * uniforms.oneMinusBeta2;
  moments[2u * pair] = m;
  moments[2u * pair + 1u] = v;
  let denom = sqrt(v) / uniforms.sqrtBias2 + uniforms.eps;
  return param * decayFactor - (m / denom) * uniforms.stepSize;
}
@compute @workgroup_size(${RAW_WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) gid : vec3<u32>, @builtin(num_workgroups) workgroupCount : vec3<u32>) {
  let stride = workgroupCount.x * ${RAW_WORKGROUP_SIZE}u;
  for (var i = gid.x; i < ${'uniforms.end' + (slots.length - 1)}; i = i + stride) {
    ${branches}
  }
}`,
    workgroups: Math.ceil(total / RAW_WORKGROUP_SIZE),
  });
}
