/**
 * (Residual add +) LayerNorm over the last axis as WGSL programs on the webgpu backend
 * (docs/ARCHITECTURE.md, "Own kernels"), with its own gradient through `tf.customGrad`.
 *
 * Rows x [N, H] (any leading shape, flattened), an optional residual r of the same shape, gamma and
 * beta [H]. With v = x + r (or x), mean and biased variance over the row like PyTorch:
 *   y = (v − mean)·rstd·gamma + beta,  rstd = 1/√(var + eps)
 * Forward: one workgroup per row (`LN_WORKGROUP` threads, each looping over H/LN_WORKGROUP elements, so
 * there is no limit on H), two shared-memory reductions (the mean, then Σ(v − mean)², so a large mean
 * offset costs no precision), one dispatch. Under a gradient tape a second per-row program keeps
 * [mean, rstd] per row for the backward (2 dispatches); outside one (inference) it does not run.
 * Backward, three dispatches:
 *   dv = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·gamma, x̂ = (v − mean)·rstd  (workgroup per row; dv is
 *        both dx and dr)
 *   dgamma = Σ_rows dy·x̂, dbeta = Σ_rows dy  (one program each: a thread per (column, row lane),
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
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { logFallbackOnce, runProgram, type ProgramUniform } from './program';

/** Threads per row in the per-row programs: BERT rows are 128–1024 wide, so 2–16 elements per thread. */
const LN_WORKGROUP = 64;
/** Columns per workgroup of the column reductions (consecutive threads read consecutive columns). */
const COL_WIDTH = 32;
/** Row lanes per column in the column reductions; COL_WIDTH·COL_LANES = 256 threads per workgroup. */
const COL_LANES = 8;
/** Largest element count indexed with i32 in WGSL. */
const MAX_ELEMENTS = 2 ** 31 - 1;

type RowMode = 'forward' | 'stats' | 'backward';

/** WGSL reading v = x (+ residual) at a flat index. */
const loadValue = (residual: boolean) =>
  `fn lnValue(i : i32) -> f32 { return ${residual ? 'x[i] + residual[i]' : 'x[i]'}; }`;

/**
 * One workgroup per row. `forward` writes y [N, H], `stats` writes [mean, rstd] per row [N, 2],
 * `backward` writes dv [N, H] from dy and the kept statistics.
 */
class RowProgram implements WebGPUProgram {
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [LN_WORKGROUP, 1, 1];
  readonly variableNames: string[];
  readonly uniforms = 'rows : i32, cols : i32, eps : f32,';

  constructor(
    private readonly mode: RowMode,
    private readonly residual: boolean,
    rows: number,
    cols: number,
  ) {
    this.outputShape = mode === 'stats' ? [rows, 2] : [rows, cols];
    this.shaderKey = `fewshot_layernorm_${mode}_${residual ? 'res' : 'nores'}`;
    this.dispatchLayout = { x: [0, 1] };
    // One workgroup per row; tfjs spreads x over y and z past the per-dimension limit (row index below).
    this.dispatch = [rows, 1, 1];
    const r = residual ? ['residual'] : [];
    this.variableNames =
      mode === 'forward'
        ? ['x', ...r, 'gamma', 'beta']
        : mode === 'stats'
          ? ['x', ...r]
          : ['x', ...r, 'gamma', 'stats', 'dy'];
  }

  getUserCode(): string {
    const W = LN_WORKGROUP;
    // The statistics: recomputed per row in forward/stats, read back from the stats tensor in backward.
    const statistics =
      this.mode === 'backward'
        ? `let srow = min(row, uniforms.rows - 1);
           let mean = stats[2 * srow];
           let rstd = stats[2 * srow + 1];`
        : `var s = 0.0;
           for (var j = t; j < n; j += ${W}) { s += lnValue(base + j); }
           let mean = lnSum(s) / f32(H);
           var q = 0.0;
           for (var j = t; j < n; j += ${W}) { let d = lnValue(base + j) - mean; q += d * d; }
           let rstd = inverseSqrt(lnSum(q) / f32(H) + uniforms.eps);`;
    const body =
      this.mode === 'forward'
        ? `for (var j = t; j < n; j += ${W}) {
             setOutputAtIndex(base + j, ((lnValue(base + j) - mean) * rstd) * gamma[j] + beta[j]);
           }`
        : this.mode === 'stats'
          ? `if (t == 0 && n > 0) {
               setOutputAtIndex(2 * row, mean);
               setOutputAtIndex(2 * row + 1, rstd);
             }`
          : `var a = 0.0;
             var b = 0.0;
             for (var j = t; j < n; j += ${W}) {
               let g = dy[base + j] * gamma[j];
               a += g;
               b += g * ((lnValue(base + j) - mean) * rstd);
             }
             let meanG = lnSum(a) / f32(H);
             let meanGX = lnSum(b) / f32(H);
             for (var j = t; j < n; j += ${W}) {
               let g = dy[base + j] * gamma[j];
               let xhat = (lnValue(base + j) - mean) * rstd;
               setOutputAtIndex(base + j, rstd * (g - meanG - xhat * meanGX));
             }`;
    return `
      var<workgroup> lnPartial : array<f32, ${W}>;

      ${loadValue(this.residual)}

      // Sum of v over the workgroup (a tree in shared memory); every thread gets the total.
      fn lnSum(v : f32) -> f32 {
        let t = localIndex;
        lnPartial[t] = v;
        workgroupBarrier();
        for (var s = ${W / 2}u; s > 0u; s = s >> 1u) {
          if (t < s) { lnPartial[t] = lnPartial[t] + lnPartial[t + s]; }
          workgroupBarrier();
        }
        let total = lnPartial[0];
        workgroupBarrier(); // everyone has read it before the next lnSum overwrites it
        return total;
      }

      fn main(index : i32) {
        let row = i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
        let H = uniforms.cols;
        // Workgroups past the last row (a spread dispatch) loop over nothing but join the barriers.
        let n = select(0, H, row < uniforms.rows);
        let base = row * H;
        let t = i32(localIndex);
        ${statistics}
        ${body}
      }`;
  }
}

/** Column sums over the rows: `gamma` mode Σ dy·x̂ → [H], `beta` mode Σ dy → [H]. */
class ColumnProgram implements WebGPUProgram {
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [COL_WIDTH * COL_LANES, 1, 1];
  readonly variableNames: string[];
  readonly uniforms = 'rows : i32, cols : i32,';

  constructor(
    private readonly which: 'gamma' | 'beta',
    private readonly residual: boolean,
    cols: number,
  ) {
    this.outputShape = [cols];
    this.shaderKey = `fewshot_layernorm_d${which}_${which === 'gamma' && residual ? 'res' : 'nores'}`;
    this.dispatchLayout = { x: [0] };
    this.dispatch = [Math.ceil(cols / COL_WIDTH), 1, 1];
    this.variableNames = which === 'beta' ? ['dy'] : ['x', ...(residual ? ['residual'] : []), 'stats', 'dy'];
  }

  getUserCode(): string {
    const term =
      this.which === 'beta'
        ? 'dy[i * H + col]'
        : 'dy[i * H + col] * ((lnValue(i * H + col) - stats[2 * i]) * stats[2 * i + 1])';
    return `
      var<workgroup> lnColPartial : array<f32, ${COL_WIDTH * COL_LANES}>;

      ${this.which === 'gamma' ? loadValue(this.residual) : ''}

      fn main(index : i32) {
        let H = uniforms.cols;
        let t = i32(localIndex);
        let col = i32(workgroupId.x) * ${COL_WIDTH} + t % ${COL_WIDTH};
        let lane = t / ${COL_WIDTH};
        var s = 0.0;
        if (col < H) {
          for (var i = lane; i < uniforms.rows; i += ${COL_LANES}) { s += ${term}; }
        }
        lnColPartial[t] = s;
        workgroupBarrier();
        if (lane == 0 && col < H) {
          var total = 0.0;
          for (var l = 0; l < ${COL_LANES}; l++) { total += lnColPartial[l * ${COL_WIDTH} + t]; }
          setOutputAtIndex(col, total);
        }
      }`;
  }
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

const f32 = (value: number): ProgramUniform => ({ type: 'float32', value });
const i32 = (value: number): ProgramUniform => ({ type: 'int32', value });

/**
 * LayerNorm(x + residual) (residual may be null) with the fused programs; null (after one log line)
 * when the inputs are outside the limits above, and the caller runs the stock ops. webgpu only.
 */
export function fusedLayerNorm(
  x: tf.Tensor,
  residual: tf.Tensor | null,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
): tf.Tensor | null {
  const why = unsupported(x, residual, gamma, beta);
  if (why) {
    logFallbackOnce('layerNorm', why);
    return null;
  }
  const shape = x.shape;
  const H = shape[shape.length - 1];
  const N = x.size / H;
  const hasResidual = residual !== null;
  const sizes = [i32(N), i32(H)];

  const run = (rows: tf.Tensor[], g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const y = runProgram(new RowProgram('forward', hasResidual, N, H), [...rows, g, b], [...sizes, f32(eps)]); // [N, H]
    // The statistics only matter when a gradient will be taken (a tape is recording).
    if (tf.engine().state.gradientDepth > 0) {
      const stats = runProgram(new RowProgram('stats', hasResidual, N, H), rows, [...sizes, f32(eps)]); // [N, 2]
      save([...rows, g, stats]);
      stats.dispose(); // save keeps its own reference
    }
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const rowsSaved = saved.slice(0, rows.length); // x (and residual) [N, H]
        const [gSaved, stats] = saved.slice(rows.length); // [H], [N, 2]
        const dyRows = tf.reshape(dy, [N, H]); // [N, H]
        const dv = runProgram(
          new RowProgram('backward', hasResidual, N, H),
          [...rowsSaved, gSaved, stats, dyRows],
          [...sizes, f32(eps)],
        ); // [N, H]
        const dgamma = runProgram(new ColumnProgram('gamma', hasResidual, H), [...rowsSaved, stats, dyRows], sizes); // [H]
        const dbeta = runProgram(new ColumnProgram('beta', hasResidual, H), [dyRows], sizes); // [H]
        // dx and dresidual are the same values; the reshape shares the buffer (no dispatch).
        const dRows = hasResidual ? [dv, tf.reshape(dv, [N, H])] : [dv];
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

/**
 * Σ over the rows of `g` [N, C] → [C] in one program (the `dbeta` column sum above). The linear
 * layers' bias gradient uses it on the fused path: tfjs's `sum(g, 0)` on WebGPU transposes the whole
 * [N, C] gradient first to reduce along the last axis (timed with research/kernels/kernel-times.ts;
 * docs/ARCHITECTURE.md, "Own kernels").
 */
export function fusedColumnSum(g: tf.Tensor2D): tf.Tensor1D {
  const [N, C] = g.shape;
  return runProgram(
    new ColumnProgram('beta', false, C),
    [g],
    [
      { type: 'int32', value: N },
      { type: 'int32', value: C },
    ],
  ) as tf.Tensor1D; // [C]
}
