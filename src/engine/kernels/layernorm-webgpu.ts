/**
 * (Residual add +) LayerNorm over the last axis as WGSL programs on the webgpu backend
 * (docs/ARCHITECTURE.md, "Own kernels"), with its own gradient through `tf.customGrad`.
 *
 * Rows x [N, H] (any leading shape, flattened), an optional residual r of the same shape, gamma and
 * beta [H]. With v = x + r (or x), mean and biased variance over the row like PyTorch:
 *   y = (v − mean)·rstd·gamma + beta,  rstd = 1/√(var + eps)
 * Forward: one workgroup per row (`LN_WORKGROUP` threads, each looping over H/LN_WORKGROUP elements, so
 * there is no limit on H), two shared-memory reductions (the mean, then Σ(v − mean)², so a large mean
 * offset costs no precision), one dispatch, which also writes
 * [mean, rstd] per row for the backward (a raw dispatch with two outputs, raw-dispatch.ts).
 * Backward, two dispatches:
 *   dv = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·gamma, x̂ = (v − mean)·rstd  (workgroup per row; dv is
 *        both dx and dr)
 *   dgamma = Σ_rows dy·x̂ and dbeta = Σ_rows dy together (a thread per (column, row lane),
 *        `COL_LANES` lanes stride over the rows and are summed in shared memory; fine for N up to
 *        tens of thousands, each thread reads N/COL_LANES rows)
 *
 * Limits (else the caller's stock ops run, with one `logFallbackOnce` line): float32 inputs; gamma and
 * beta exactly [H]; the residual exactly x's shape; at least one element; N·H < 2³¹ (i32 indexing).
 *
 * Reference: the stock-op `layerNorm` in tf/ops.ts (still the path on cpu, wasm and with the `stock`
 * kernel setting). Parity: kernels/layernorm-parity.ts (run by layernorm-webgpu.test.ts on Node's
 * WebGPU).
 */
import * as tf from '@tensorflow/tfjs';
import { logFallbackOnce } from './program';
import { dispatchRaw, emptyTensor, type RawBinding, type RawUniform } from './raw-dispatch';
import { RNG_WGSL } from './rng';

/** Threads per row in the per-row programs: BERT rows are 128–1024 wide, so 2–16 elements per thread. */
const LN_WORKGROUP = 64;
/** Columns per workgroup of the column reductions (consecutive threads read consecutive columns). */
const COL_WIDTH = 32;
/** Row lanes per column in the column reductions; COL_WIDTH·COL_LANES = 256 threads per workgroup. */
const COL_LANES = 8;
/** Largest element count indexed with i32 in WGSL. */
const MAX_ELEMENTS = 2 ** 31 - 1;

/** Dropout on x before the residual add: the rate and the counter RNG's seed (rng.ts). */
export interface LayerNormDropout {
  rate: number;
  /** `dropoutSeedU32` of the site's seed: the same mask forward and backward, and as the stock ops'. */
  seedU32: number;
}

/**
 * WGSL reading v = x (+ residual) at a flat index; with `dropout`, v = x·mask + residual, the mask
 * made from the counter RNG at that index (dropout-webgpu.ts's; `dropScale` is its multiplier).
 */
const loadValue = (residual: boolean, dropout = false) =>
  dropout
    ? `${RNG_WGSL}
fn dropScale(i : i32) -> f32 { return select(0.0, uniforms.scale, dropoutUniform(uniforms.seed, u32(i)) >= uniforms.rate); }
fn lnValue(i : i32) -> f32 { return x[i] * dropScale(i) + residual[i]; }`
    : `fn lnValue(i : i32) -> f32 { return ${residual ? 'x[i] + residual[i]' : 'x[i]'}; }`;

/** The uniforms a dropout shader reads (`seed`, `rate`, `scale`), or none. */
const dropoutUniforms = (dropout: LayerNormDropout | null): RawUniform[] =>
  dropout
    ? [
        { name: 'seed', type: 'u32', value: dropout.seedU32 },
        { name: 'rate', type: 'f32', value: dropout.rate },
        // 1/(1 − rate) rounded once to float32, as the dropout kernel and the stock mask use.
        { name: 'scale', type: 'f32', value: 1 / (1 - dropout.rate) },
      ]
    : [];

const variant = (residual: boolean, dropout: LayerNormDropout | null) =>
  dropout ? 'drop' : residual ? 'res' : 'nores';

/** The tree sum over one workgroup of `LN_WORKGROUP` threads; every thread gets the total. */
const rawRowSum = `
var<workgroup> lnPartial : array<f32, ${LN_WORKGROUP}>;
fn lnSum(v : f32, t : u32) -> f32 {
  lnPartial[t] = v;
  workgroupBarrier();
  for (var s = ${LN_WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (t < s) { lnPartial[t] = lnPartial[t] + lnPartial[t + s]; }
    workgroupBarrier();
  }
  let total = lnPartial[0];
  workgroupBarrier();
  return total;
}`;

/** The bindings of x (and the residual) every training shader reads. */
const rowBindings = (rows: tf.Tensor[]): RawBinding[] => [
  { name: 'x', tensor: rows[0], access: 'read' },
  ...(rows.length === 2 ? [{ name: 'residual', tensor: rows[1], access: 'read' as const }] : []),
];

/**
 * Training forward in one dispatch: y [N, H] and the row statistics [N, 2] (mean, rstd) the backward
 * reads, both written by the same workgroup (tfjs's program API allows one output, so this is a raw
 * dispatch, raw-dispatch.ts). With `dropout`, x is masked as it is read. Inference runs it too and
 * drops the statistics (an [N, 2] write, against a second program to keep in step).
 */
function forwardWithStats(
  rows: tf.Tensor[],
  gamma: tf.Tensor,
  beta: tf.Tensor,
  N: number,
  H: number,
  eps: number,
  dropout: LayerNormDropout | null,
) {
  const residual = rows.length === 2;
  const y = emptyTensor([N, H]); // [N, H]
  const stats = emptyTensor([N, 2]); // [N, 2]
  dispatchRaw({
    name: `fewshot_layernorm_forward_stats_${variant(residual, dropout)}`,
    bindings: [
      ...rowBindings(rows),
      { name: 'gamma', tensor: gamma, access: 'read' },
      { name: 'beta', tensor: beta, access: 'read' },
      { name: 'y', tensor: y, access: 'read_write' },
      { name: 'stats', tensor: stats, access: 'read_write' },
    ],
    uniforms: [
      { name: 'rows', type: 'i32', value: N },
      { name: 'cols', type: 'i32', value: H },
      { name: 'eps', type: 'f32', value: eps },
      ...dropoutUniforms(dropout),
    ],
    body: `
${loadValue(residual, dropout !== null)}
${rawRowSum}
@compute @workgroup_size(${LN_WORKGROUP})
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(num_workgroups) wgCount : vec3<u32>,
        @builtin(local_invocation_index) lid : u32) {
  let H = uniforms.cols;
  let t = i32(lid);
  // One workgroup per row, looping when there are more rows than workgroups.
  for (var row = i32(wg.x); row < uniforms.rows; row += i32(wgCount.x)) {
    let base = row * H;
    var s = 0.0;
    for (var j = t; j < H; j += ${LN_WORKGROUP}) { s += lnValue(base + j); }
    let mean = lnSum(s, lid) / f32(H);
    var q = 0.0;
    for (var j = t; j < H; j += ${LN_WORKGROUP}) { let d = lnValue(base + j) - mean; q += d * d; }
    let rstd = inverseSqrt(lnSum(q, lid) / f32(H) + uniforms.eps);
    for (var j = t; j < H; j += ${LN_WORKGROUP}) {
      y[base + j] = ((lnValue(base + j) - mean) * rstd) * gamma[j] + beta[j];
    }
    if (t == 0) {
      stats[2 * row] = mean;
      stats[2 * row + 1] = rstd;
    }
  }
}`,
    workgroups: N,
  });
  return { y, stats };
}

/**
 * dv = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·gamma, per row (one workgroup each), from the kept
 * statistics: the gradient of the residual. With `dropout` the same dispatch also writes x's
 * gradient, dv·mask (the dropout's backward); without, x's gradient is dv too.
 */
function backwardRows(
  rows: tf.Tensor[],
  gamma: tf.Tensor,
  stats: tf.Tensor,
  dy: tf.Tensor,
  N: number,
  H: number,
  dropout: LayerNormDropout | null,
) {
  const residual = rows.length === 2;
  const dv = emptyTensor([N, H]); // [N, H]
  const dx = dropout ? emptyTensor([N, H]) : null; // [N, H]
  dispatchRaw({
    name: `fewshot_layernorm_backward_${variant(residual, dropout)}`,
    bindings: [
      ...rowBindings(rows),
      { name: 'gamma', tensor: gamma, access: 'read' },
      { name: 'stats', tensor: stats, access: 'read' },
      { name: 'dy', tensor: dy, access: 'read' },
      { name: 'dv', tensor: dv, access: 'read_write' },
      ...(dx ? [{ name: 'dx', tensor: dx, access: 'read_write' as const }] : []),
    ],
    uniforms: [
      { name: 'rows', type: 'i32', value: N },
      { name: 'cols', type: 'i32', value: H },
      ...dropoutUniforms(dropout),
    ],
    body: `
${loadValue(residual, dropout !== null)}
${rawRowSum}
@compute @workgroup_size(${LN_WORKGROUP})
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(num_workgroups) wgCount : vec3<u32>,
        @builtin(local_invocation_index) lid : u32) {
  let H = uniforms.cols;
  let t = i32(lid);
  for (var row = i32(wg.x); row < uniforms.rows; row += i32(wgCount.x)) {
    let base = row * H;
    let mean = stats[2 * row];
    let rstd = stats[2 * row + 1];
    var a = 0.0;
    var b = 0.0;
    for (var j = t; j < H; j += ${LN_WORKGROUP}) {
      let g = dy[base + j] * gamma[j];
      a += g;
      b += g * ((lnValue(base + j) - mean) * rstd);
    }
    let meanG = lnSum(a, lid) / f32(H);
    let meanGX = lnSum(b, lid) / f32(H);
    for (var j = t; j < H; j += ${LN_WORKGROUP}) {
      let g = dy[base + j] * gamma[j];
      let xhat = (lnValue(base + j) - mean) * rstd;
      let d = rstd * (g - meanG - xhat * meanGX);
      dv[base + j] = d;
      ${dropout ? 'dx[base + j] = d * dropScale(base + j);' : ''}
    }
  }
}`,
    workgroups: N,
  });
  return { dv, dx: dx ?? dv };
}

/**
 * dgamma = Σ_rows dy·x̂ and dbeta = Σ_rows dy, both [H], in one dispatch (two outputs: a raw
 * dispatch). 32 columns per workgroup, 8 row lanes each.
 */
function gammaBetaGrads(
  rows: tf.Tensor[],
  stats: tf.Tensor,
  dy: tf.Tensor,
  N: number,
  H: number,
  dropout: LayerNormDropout | null,
) {
  const residual = rows.length === 2;
  const dgamma = emptyTensor([H]); // [H]
  const dbeta = emptyTensor([H]); // [H]
  const threads = COL_WIDTH * COL_LANES;
  dispatchRaw({
    name: `fewshot_layernorm_dgamma_dbeta_${variant(residual, dropout)}`,
    bindings: [
      ...rowBindings(rows),
      { name: 'stats', tensor: stats, access: 'read' },
      { name: 'dy', tensor: dy, access: 'read' },
      { name: 'dgamma', tensor: dgamma, access: 'read_write' },
      { name: 'dbeta', tensor: dbeta, access: 'read_write' },
    ],
    uniforms: [
      { name: 'rows', type: 'i32', value: N },
      { name: 'cols', type: 'i32', value: H },
      ...dropoutUniforms(dropout),
    ],
    body: `
${loadValue(residual, dropout !== null)}
var<workgroup> partialGamma : array<f32, ${threads}>;
var<workgroup> partialBeta : array<f32, ${threads}>;
@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_index) lid : u32) {
  let H = uniforms.cols;
  let t = i32(lid);
  let col = i32(wg.x) * ${COL_WIDTH} + t % ${COL_WIDTH};
  let lane = t / ${COL_WIDTH};
  var sg = 0.0;
  var sb = 0.0;
  if (col < H) {
    for (var i = lane; i < uniforms.rows; i += ${COL_LANES}) {
      sg += dy[i * H + col] * ((lnValue(i * H + col) - stats[2 * i]) * stats[2 * i + 1]);
      sb += dy[i * H + col];
    }
  }
  partialGamma[t] = sg;
  partialBeta[t] = sb;
  workgroupBarrier();
  if (lane == 0 && col < H) {
    var tg = 0.0;
    var tb = 0.0;
    for (var l = 0; l < ${COL_LANES}; l++) {
      tg += partialGamma[l * ${COL_WIDTH} + t];
      tb += partialBeta[l * ${COL_WIDTH} + t];
    }
    dgamma[col] = tg;
    dbeta[col] = tb;
  }
}`,
    workgroups: Math.ceil(H / COL_WIDTH),
  });
  return { dgamma, dbeta };
}

/** Why the fused kernel cannot take these inputs, or null when it can. */
function unsupported(x: tf.Tensor, residual: tf.Tensor | null, gamma: tf.Tensor, beta: tf.Tensor): string | null {
  const tensors = residual ? [x, residual, gamma, beta] : [x, gamma, beta];
  if (tensors.some((t) => t.dtype !== 'float32')) return 'non-float32 input';
  if (x.rank < 1 || x.size === 0) return 'empty or scalar input';
  const H = x.shape[x.rank - 1];
  if (gamma.rank !== 1 || gamma.shape[0] !== H || beta.rank !== 1 || beta.shape[0] !== H) return 'gamma/beta not [H]';
  if (residual && !tf.util.arraysEqual(residual.shape, x.shape)) return 'residual shape differs from x';
  if (x.size > MAX_ELEMENTS) return 'more than 2^31 elements';
  return null;
}

/**
 * LayerNorm(x + residual) (residual may be null), or LayerNorm(dropout(x) + residual) with `dropout`
 * (a residual needed), with the fused programs; null (after one log line) when the inputs are
 * outside the limits above, and the caller runs the stock ops. webgpu only.
 */
export function fusedLayerNorm(
  x: tf.Tensor,
  residual: tf.Tensor | null,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
  dropout: LayerNormDropout | null = null,
): tf.Tensor | null {
  const why = unsupported(x, residual, gamma, beta) ?? (dropout && !residual ? 'dropout without a residual' : null);
  if (why) {
    logFallbackOnce('layerNorm', why);
    return null;
  }
  const shape = x.shape;
  const H = shape[shape.length - 1];
  const N = x.size / H;
  const hasResidual = residual !== null;

  const run = (rows: tf.Tensor[], g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const { y, stats } = forwardWithStats(rows, g, b, N, H, eps, dropout); // [N, H], [N, 2]
    // The statistics only matter when a gradient will be taken (a tape is recording).
    if (tf.engine().state.gradientDepth > 0) save([...rows, g, stats]);
    stats.dispose(); // save keeps its own reference
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const rowsSaved = saved.slice(0, rows.length); // x (and residual) [N, H]
        const [gSaved, stats] = saved.slice(rows.length); // [H], [N, 2]
        const dyRows = tf.reshape(dy, [N, H]); // [N, H]
        const { dv, dx } = backwardRows(rowsSaved, gSaved, stats, dyRows, N, H, dropout); // [N, H] each
        const { dgamma, dbeta } = gammaBetaGrads(rowsSaved, stats, dyRows, N, H, dropout); // [H], [H]
        // Without dropout dx and dresidual are the same values; the reshape shares the buffer (no dispatch).
        const dRows = hasResidual ? [dx, tf.reshape(dv, [N, H])] : [dv];
        return [...dRows, dgamma, dbeta];
      },
    };
  };

  return tf.tidy(() => {
    const x2 = tf.reshape(x, [N, H]); // [N, H]
    let out: tf.Tensor;
    if (residual) {
      const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
        const [a, r, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
        return run([a, r], g, b, save);
      });
      out = f(x2, tf.reshape(residual, [N, H]), gamma, beta); // [N, H]
    } else {
      const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
        const [a, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
        return run([a], g, b, save);
      });
      out = f(x2, gamma, beta); // [N, H]
    }
    return tf.reshape(out, shape); // x's shape
  });
}
