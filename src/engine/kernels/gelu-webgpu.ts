/**
 * GELU as one elementwise program forward and one backward on the webgpu backend
 * (docs/ARCHITECTURE.md, "Own kernels"), for both forms the models use:
 *   - exact (`gelu`): y = x·Φ(x), dx = dy·(Φ(x) + x·φ(x)), φ the standard normal density;
 *   - tanh (`gelu_new`): y = x·σ(2u) = 0.5·x·(1 + tanh u), u = √(2/π)·(x + 0.044715·x³),
 *     dx = dy·(σ(2u) + 2x·σ(2u)·(1 − σ(2u))·u'), u' = √(2/π)·(1 + 3·0.044715·x²).
 * The stock ops take 5 dispatches forward and 11 backward for the exact form, 8 and 14 for the tanh
 * form through autodiff, and upload the scalars they multiply by (measured on [256, 128]: 8 and 7
 * uploads forward + backward); the fused programs upload nothing.
 *
 * WGSL has no `erf`, so Φ is computed here from Abramowitz & Stegun 7.1.26 (the form tfjs's own `erf`
 * uses): erfc(z) ≈ t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·e^(−z²), t = 1/(1 + p·z), z ≥ 0, whose
 * absolute error in erf is at most 1.5e-7; Φ(x) = ½·erfc(|x|/√2) for x < 0 and 1 − ½·erfc(x/√2)
 * otherwise, so Φ's absolute error is at most 7.5e-8 plus float32 rounding. Measured against GELU in
 * double precision over [−10, 10] (kernels/gelu-webgpu.test.ts, SwiftShader): max absolute error
 * 4.0e-7 forward and 2.4e-7 gradient (stock ops: 4.6e-7 and 2.4e-7), i.e. float32 rounding of y. Taking ½·erfc directly for
 * negative x (instead of ½·(1 + erf)) avoids the cancellation stock has there. σ is evaluated from
 * e = exp(−2|u|) only, so neither form overflows for large |x|.
 *
 * Reference: `geluErf`/`geluTanh` in tf/ops.ts with stock ops (the path on cpu and wasm and with the
 * `stock` kernel setting). Parity: kernels/gelu-parity.ts, run by kernels/gelu-webgpu.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { ElementwiseProgram, logFallbackOnce, runProgram } from './program';

export type GeluForm = 'erf' | 'tanh';

/** WGSL helpers: Φ(x) from A&S 7.1.26 (constants as published), φ(x), and the tanh form's u(x). */
const GELU_WGSL = `
  fn fewshotPhi(x : f32) -> f32 {
    let z = abs(x) * 0.7071067811865476;
    let t = 1.0 / (1.0 + 0.3275911 * z);
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let halfErfc = 0.5 * poly * exp(-z * z);
    return select(1.0 - halfErfc, halfErfc, x < 0.0);
  }
  fn fewshotPdf(x : f32) -> f32 {
    return 0.3989422804014327 * exp(-0.5 * x * x);
  }
  fn fewshotTanhInner(x : f32) -> f32 {
    return 0.7978845608028654 * (x + 0.044715 * x * x * x);
  }
`;

/** Per-element WGSL: `x` is the input, the result goes to `out` (forward: y; backward: dx/dy factor). */
const BODIES: Record<GeluForm, { forward: string; backward: string }> = {
  erf: {
    forward: 'let x = xs[index]; setOutputAtIndex(index, x * fewshotPhi(x));',
    backward: 'let x = xs[index]; setOutputAtIndex(index, dy[index] * (fewshotPhi(x) + x * fewshotPdf(x)));',
  },
  tanh: {
    // s = σ(2u) with e = exp(−2|u|): 1/(1 + e) for u ≥ 0, e/(1 + e) below; s·(1 − s) = e/(1 + e)².
    forward:
      'let x = xs[index]; let u = fewshotTanhInner(x); let e = exp(-2.0 * abs(u)); ' +
      'setOutputAtIndex(index, x * select(1.0 / (1.0 + e), e / (1.0 + e), u < 0.0));',
    backward:
      'let x = xs[index]; let u = fewshotTanhInner(x); let e = exp(-2.0 * abs(u)); ' +
      'let s = select(1.0 / (1.0 + e), e / (1.0 + e), u < 0.0); ' +
      'let du = 0.7978845608028654 * (1.0 + 3.0 * 0.044715 * x * x); ' +
      // Where e underflows to 0 the second term is 0 (and x·u' may be ∞ for huge x: no NaN from 0·∞).
      'let curve = select(2.0 * x * (e / ((1.0 + e) * (1.0 + e))) * du, 0.0, e == 0.0); ' +
      'setOutputAtIndex(index, dy[index] * (s + curve));',
  },
};

function forwardProgram(form: GeluForm, shape: readonly number[]): ElementwiseProgram {
  return new ElementwiseProgram(`gelu_${form}`, ['xs'], '', BODIES[form].forward, shape, GELU_WGSL);
}

function backwardProgram(form: GeluForm, shape: readonly number[]): ElementwiseProgram {
  return new ElementwiseProgram(`gelu_${form}_grad`, ['xs', 'dy'], '', BODIES[form].backward, shape, GELU_WGSL);
}

/** The largest tensor the kernel takes (WGSL's element index is an i32). */
const MAX_ELEMENTS = 2 ** 31 - 1;

/** Why `x` cannot take the fused GELU, or null when it can. */
export function geluUnsupported(x: tf.Tensor): string | null {
  if (x.dtype !== 'float32') return `dtype ${x.dtype}`;
  if (x.size > MAX_ELEMENTS) return `${x.size} elements (at most ${MAX_ELEMENTS})`;
  return null;
}

/** GELU of float32 `x` [any shape] in `form`; one dispatch forward, one backward (keeps only x). */
export function fusedGelu<T extends tf.Tensor>(x: T, form: GeluForm): T {
  const withGrad = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    save([input]);
    return {
      value: runProgram(forwardProgram(form, input.shape), [input]), // same shape as x
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        runProgram(backwardProgram(form, saved[0].shape), [saved[0], dy]), // same shape as x
    };
  });
  return withGrad(x) as T;
}

/** `fusedGelu` where the input allows it, else `stock(x)` after a one-time log line. */
export function geluWebGpu<T extends tf.Tensor>(x: T, form: GeluForm, stock: (x: T) => T): T {
  const unsupported = geluUnsupported(x);
  if (unsupported === null) return fusedGelu(x, form);
  logFallbackOnce(`gelu ${form}`, unsupported);
  return stock(x);
}
