/**
 * Differentiable building blocks with gradients that work on every backend (cpu, wasm, webgpu).
 * Every op used here has a backward kernel on all three; gather's backward needs
 * `registerWasmKernels()` on wasm (see kernels.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { fusedScatterAddRows } from '../kernels/embedding-webgpu';
import { fusedLayerNorm } from '../kernels/layernorm-webgpu';
import { fusedLinearWeightGrads } from '../kernels/matmul-webgpu';
import { dropoutUnsupported, dropoutWebGpu } from '../kernels/dropout-webgpu';
import { geluWebGpu } from '../kernels/gelu-webgpu';
import { fusedKernelsActive } from '../kernels/program';
import { counterDropoutMultiplier, dropoutSeedU32 } from '../kernels/rng';

const SQRT1_2 = Math.SQRT1_2; // 1/√2
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI); // 1/√(2π)
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI); // √(2/π)

/**
 * Exact GELU, x·Φ(x) = 0.5·x·(1 + erf(x/√2)) (PyTorch `F.gelu`, HF `gelu`), with an analytic
 * gradient Φ(x) + x·φ(x). tfjs `erf` is exact to ~1.5e-7 on cpu/webgpu (Abramowitz–Stegun 7.1.26)
 * and uses libm on wasm, so GELU is within ~1e-6 of PyTorch for |x| < 10. The custom gradient keeps
 * only x for the backward pass (autodiff through erf would keep three intermediates).
 */
const geluErfGrad = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  save([x]);
  const value = tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, SQRT1_2))))); // same shape as x
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs] = saved;
      const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(xs, SQRT1_2)))); // Φ(x)
      const pdf = tf.mul(INV_SQRT_2PI, tf.exp(tf.mul(tf.square(xs), -0.5))); // φ(x)
      return [tf.mul(dy, tf.add(cdf, tf.mul(xs, pdf)))];
    },
  };
});

function geluErfStock<T extends tf.Tensor>(x: T): T {
  return geluErfGrad(x) as T;
}

/** Exact GELU; one fused program each way on webgpu with fused kernels (kernels/gelu-webgpu.ts). */
export function geluErf<T extends tf.Tensor>(x: T): T {
  return fusedKernelsActive() ? geluWebGpu(x, 'erf', geluErfStock) : geluErfStock(x);
}

/**
 * tanh-approximated GELU (HF `gelu_new`, `gelu_pytorch_tanh`); plain ops, autodiff gradient, or one
 * fused program each way on webgpu with fused kernels (kernels/gelu-webgpu.ts).
 */
export function geluTanh(x: tf.Tensor): tf.Tensor {
  return fusedKernelsActive() ? geluWebGpu(x, 'tanh', geluTanhStock) : geluTanhStock(x);
}

function geluTanhStock(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(SQRT_2_OVER_PI, tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))); // same shape as x
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  });
}

/**
 * LayerNorm over the last axis: (x - mean) / sqrt(var + eps) · gamma + beta, biased variance like
 * PyTorch. x [..., H], gamma/beta [H]. On webgpu with the fused kernels on, one WGSL program forward and
 * three backward (kernels/layernorm-webgpu.ts; docs/ARCHITECTURE.md, "Own kernels"); elsewhere, and
 * for inputs that kernel does not take, the stock ops below.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  if (fusedKernelsActive()) {
    const fused = fusedLayerNorm(x, null, gamma, beta, eps); // [..., H], or null: not supported
    if (fused) return fused;
  }
  return stockLayerNorm(x, gamma, beta, eps);
}

/** The stock-op LayerNorm: the reference of the fused kernel and the path on cpu and wasm. */
function stockLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true); // [..., 1]
    const centered = tf.sub(x, mean); // [..., H]
    const variance = tf.mean(tf.square(centered), -1, true); // [..., 1]
    const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, eps))); // [..., H]
    return tf.add(tf.mul(normed, gamma), beta); // [..., H]
  });
}

/**
 * LayerNorm(dropout(x) + residual): the post-LN residual connection, the sublayer's output dropout
 * included when `dropoutSite` is given (its rate and seed: the mask `dropout(x, rate, seed)` makes).
 * x, residual [..., H], gamma/beta [H]. Fused into the LayerNorm programs on webgpu (neither the
 * masked x nor the sum is stored); otherwise exactly `layerNorm(tf.add(dropout(x), residual), …)`
 * with the stock ops.
 */
export function addLayerNorm(
  x: tf.Tensor,
  residual: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
  dropoutSite: { rate: number; seed: number | undefined } | null = null,
): tf.Tensor {
  const rate = dropoutSite?.rate ?? 0;
  if (fusedKernelsActive() && (rate === 0 || dropoutUnsupported(x, rate) === null)) {
    // Dropout, the residual add and LayerNorm in the same dispatches (kernels/layernorm-webgpu.ts).
    const drop = rate > 0 ? { rate, seedU32: dropoutSeedU32(dropoutSite!.seed) } : null;
    const fused = fusedLayerNorm(x, residual, gamma, beta, eps, drop); // [..., H], or null: not supported
    if (fused) return fused;
  }
  return tf.tidy(() => {
    const dropped = rate > 0 ? dropout(x, rate, dropoutSite!.seed) : x; // same mask as the fused path
    return stockLayerNorm(tf.add(dropped, residual), gamma, beta, eps); // [..., H]
  });
}

/**
 * Transposed-operand matmuls run a slow path on tfjs-backend-wasm (measured on BERT-tiny, dW =
 * xᵀ·dy for [4096, 512]ᵀ × [4096, 128]: ~400 ms with transposeA, several times less after an
 * explicit transpose). WebGPU and cpu handle the flags inside the kernel, so only wasm pays for
 * the extra transpose.
 */
function matMulT(a: tf.Tensor2D, b: tf.Tensor2D, transposeA: boolean, transposeB: boolean): tf.Tensor2D {
  if (tf.getBackend() !== 'wasm') return tf.matMul(a, b, transposeA, transposeB);
  return tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b);
}

/**
 * x [N, in] · w [in, out] + b [out] → [N, out], as one fused matmul+bias dispatch, with its own
 * gradient: dx = dy·wᵀ, dw = xᵀ·dy, db = Σ_N dy (the stock fused-matMul gradient uses the
 * transposed-operand path that is slow on wasm, see `matMulT`). With our kernels on, dw and db come
 * from one dispatch (kernels/matmul-webgpu.ts).
 */
const linearWithGrad = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.fused.matMul({ a: x, b: w, bias: b }) as tf.Tensor2D, // [N, out]
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as tf.Tensor2D[];
      const g = dy as tf.Tensor2D; // [N, out]
      // Ours: dw and db in one dispatch (db is the product's row of ones), no transpose of g.
      if (fusedKernelsActive()) return [matMulT(g, sw, false, true), ...fusedLinearWeightGrads(sx, g)];
      return [matMulT(g, sw, false, true), matMulT(sx, g, true, false), tf.sum(g, 0)]; // [N, in], [in, out], [out]
    },
  };
}) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/** x [N, in] · w [in, out] + b [out] → [N, out]. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return linearWithGrad(x, w, b); // [N, out]
}

/**
 * Rows of `table` [V, H] at `ids` int32 [N] → [N, H] (an embedding lookup). With our kernels on
 * (docs/ARCHITECTURE.md, "Own kernels") its gradient is our scatter-add of dy into [V, H]: a fill
 * and one program (kernels/embedding-webgpu.ts). tfjs's own gather gradient transposes dy and the
 * result twice around its `unsortedSegmentSum` (which itself transposes both again), and on WebGPU
 * those transposes of the [V, H] gradient were the costliest programs of a small model's step after
 * the matmuls (timed with research/kernels/kernel-times.ts). The stock path stays `tf.gather`.
 */
export function embeddingLookup(table: tf.Tensor2D, ids: tf.Tensor1D): tf.Tensor2D {
  if (!fusedKernelsActive()) return tf.gather(table, ids); // [N, H]
  const rows = table.shape[0];
  const lookup = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: tf.gather(args[0] as tf.Tensor2D, ids), // [N, H]
    gradFunc: (dy: tf.Tensor) => fusedScatterAddRows(dy as tf.Tensor2D, ids, rows), // [V, H]
  }));
  return lookup(table) as tf.Tensor2D;
}

/**
 * Inverted dropout (train only): zeroes each element with probability `rate` and scales the rest
 * by 1/(1-rate). `seed` makes the mask reproducible (a fresh random one when undefined). The mask is
 * the counter-based one of kernels/rng.ts everywhere (docs/ARCHITECTURE.md, "Own kernels"): made on
 * the GPU by our kernel on webgpu (kernels/dropout-webgpu.ts), in JavaScript by the same function on
 * cpu, wasm and with the stock kernel setting, so a seed drops the same elements on every backend.
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, seed?: number): T {
  if (rate <= 0) return x;
  if (fusedKernelsActive()) return dropoutWebGpu(x, rate, seed);
  // tf.dropout raises its own errors for what the counter mask does not take (non-float input, rate ≥ 1).
  if (x.dtype !== 'float32' || rate >= 1) return tf.dropout(x, rate, undefined, seed) as T;
  return tf.tidy(() => {
    const multiplier = counterDropoutMultiplier(dropoutSeedU32(seed), rate, x.size); // 0 or 1/(1 − rate)
    return tf.mul(x, tf.tensor(multiplier, x.shape, 'float32')); // same shape as x
  }) as T;
}
