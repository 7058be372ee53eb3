/**
 * Self-attention as our own WGSL programs on the webgpu backend (docs/ARCHITECTURE.md, "Own kernels"):
 * from the projected rows q, k, v packed [3, B·T, H] (as `fusedQkvProjection` writes them, before
 * any head transpose) and the [B, T] padding mask to the merged context [B·T, H], with dropout on the probabilities drawn by the counter-based RNG
 * (rng.ts). Forward: one dispatch, a workgroup per (b, a, i) row keeping its T scores in workgroup
 * memory — the probabilities P [B, A, T, T] (scores, 1/√D, mask bias, softmax), then the context
 * dropout(P)·V written straight into [B·T, H] (a raw dispatch with two outputs, raw-dispatch.ts). Backward (`tf.customGrad`): two — dS per row (the
 * softmax gradient of dO·Vᵀ through the same dropout mask), then dQ, dK and dV together, a thread per
 * element of each, written packed [3, B·T, H] like the input (a raw dispatch, raw-dispatch.ts). The stock ops take 9 dispatches forward and 22 forward+backward per layer, 13 and 27 with
 * dropout (measured; three transposes in and one out, the scale, the mask add, the softmax, dropout,
 * two batched matmuls, and their gradients).
 *
 * Limits: T ≤ ATTENTION_MAX_SEQ (the row of scores in workgroup memory); any B, A and D = H/A (scalar
 * loops, no vector widths). `fusedAttentionUnsupported` says why a shape is refused, and the caller
 * runs the reference instead (`selfAttentionStock` in bert/model.ts).
 *
 * Plain per-row and per-element programs rather than FlashAttention-style tiling: P is kept for the
 * backward anyway (so tiling would not save its memory), a row of scores fits in workgroup memory at
 * our lengths, and at short sequences a step is dispatch-bound (fused is faster at T = 16 on SwiftShader);
 * at T = 128 tfjs's tiled matmuls reuse memory better and the stock ops are about 2× faster there on
 * SwiftShader (measurements in the ARCHITECTURE row), so tiling the context and gradient programs is
 * the next step for long sequences.
 *
 * Parity: attention-parity.ts (cases) run by attention-webgpu.test.ts on Node's WebGPU.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { MASK_NEG } from '../bert/config';
import { runProgram, type ProgramUniform } from './program';
import { bufferElement, dispatchRaw, emptyTensor, RAW_WORKGROUP_SIZE, type RawUniform } from './raw-dispatch';
import { RNG_WGSL } from './rng';

/** Longest sequence the row programs take: one f32 per key in workgroup memory (2 KiB at 512),
 * and BERT checkpoints have at most 512 positions. */
export const ATTENTION_MAX_SEQ = 512;

/** Threads per row workgroup: a power of two for the tree reduction; 64 covers a 64-token row in
 * one pass and is tfjs's own reduction default. */
const ROW_WORKGROUP_SIZE = 64;

/** Dropout on the attention probabilities: keep element (b, a, i, j) when
 * `dropoutUniform(seed, ((b·A + a)·T + i)·T + j) >= rate`, scaling kept values by 1/(1 − rate). */
export interface AttentionDropout {
  rate: number;
  /** u32 seed (`dropoutSeedU32`). */
  seed: number;
}

/** Why the fused attention cannot take this shape, or null when it can. */
export function fusedAttentionUnsupported(T: number, H: number, A: number): string | null {
  if (T > ATTENTION_MAX_SEQ) return `sequence length ${T} > ${ATTENTION_MAX_SEQ}`;
  if (A <= 0 || H % A !== 0) return `hidden ${H} not divisible by ${A} heads`;
  return null;
}

/** WGSL of the row programs: a row of scores in workgroup memory and its tree reduction. */
const ROW_WGSL = `
var<workgroup> rowValues : array<f32, ${ATTENTION_MAX_SEQ}>;
var<workgroup> partial : array<f32, ${ROW_WORKGROUP_SIZE}>;
// Tree reduction of partial[] (sum or max); every thread gets the result.
fn reduceRow(lane : i32, useMax : bool) -> f32 {
  workgroupBarrier();
  for (var stride = ${ROW_WORKGROUP_SIZE / 2}; stride > 0; stride = stride / 2) {
    if (lane < stride) {
      let other = partial[lane + stride];
      partial[lane] = select(partial[lane] + other, max(partial[lane], other), useMax);
    }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}`;

/** WGSL shared by every program: the shape uniforms unpacked. */
const SHAPE_UNIFORMS =
  'seqLen : i32, heads : i32, headDim : i32, rows : i32, scale : f32, rate : f32, keepScale : f32, seed : u32, maskNeg : f32,';

/** One attention call's constants, shared by its three programs (built once, in `attentionConstants`). */
interface AttentionConstants {
  seqLen: number; // T
  heads: number; // A
  headDim: number; // D = H / A
  rows: number; // B·A·T score rows
  size: number; // B·T·H: one of q, k, v in the packed [3, B·T, H]
  scale: number; // 1/√D, as the stock path scales the scores
  rate: number; // dropout on the probabilities (0: none)
  keepScale: number; // 1 / (1 − rate)
  seed: number; // the dropout masks' seed (u32)
  maskNeg: number; // the stock path's additive bias for a padded key
}

/** WGSL type of each constant. */
const CONSTANT_TYPES: Record<keyof AttentionConstants, RawUniform['type']> = {
  seqLen: 'i32',
  heads: 'i32',
  headDim: 'i32',
  rows: 'i32',
  size: 'i32',
  scale: 'f32',
  rate: 'f32',
  keepScale: 'f32',
  seed: 'u32',
  maskNeg: 'f32',
};

function attentionConstants(
  B: number,
  T: number,
  A: number,
  H: number,
  dropout: { rate: number; seed: number } | null,
): AttentionConstants {
  const D = H / A;
  return {
    seqLen: T,
    heads: A,
    headDim: D,
    rows: B * A * T,
    size: B * T * H,
    scale: 1 / Math.sqrt(D),
    rate: dropout ? dropout.rate : 0,
    keepScale: dropout ? 1 / (1 - dropout.rate) : 1,
    seed: dropout ? dropout.seed >>> 0 : 0,
    maskNeg: MASK_NEG,
  };
}

/** The named constants as a raw dispatch's uniforms, in the order given. */
function rawUniforms(c: AttentionConstants, names: (keyof AttentionConstants)[]): RawUniform[] {
  return names.map((name) => ({ name, type: CONSTANT_TYPES[name], value: c[name] }));
}

/** The constants in SHAPE_UNIFORMS's order, for a tfjs program (runProgram). */
function programUniforms(c: AttentionConstants): ProgramUniform[] {
  const names = ['seqLen', 'heads', 'headDim', 'rows', 'scale', 'rate', 'keepScale', 'seed', 'maskNeg'] as const;
  const programType = { i32: 'int32', u32: 'uint32', f32: 'float32' } as const;
  return names.map((name) => ({ type: programType[CONSTANT_TYPES[name]], value: c[name] }));
}

/** One workgroup per (b, a, i) row of a [B, A, T, T] output; `body` sees `row`, `lane`, b, a, i. */
class AttentionRowProgram implements WebGPUProgram {
  readonly outputShape: number[];
  readonly shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  readonly dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [ROW_WORKGROUP_SIZE, 1, 1];
  readonly uniforms = SHAPE_UNIFORMS;
  readonly size = true;

  constructor(
    name: string,
    readonly variableNames: string[],
    private readonly body: string,
    shape: [number, number, number, number],
  ) {
    this.outputShape = [...shape];
    this.shaderKey = `fewshot_attention_${name}`;
    this.dispatchLayout = { x: this.outputShape.map((_, i) => i) };
    this.dispatch = [shape[0] * shape[1] * shape[2], 1, 1];
  }

  getUserCode(): string {
    return `
      ${RNG_WGSL}
      ${ROW_WGSL}
      fn main(index : i32) {
        let lane = i32(localIndex);
        // A dispatch too large for one dimension is spread over y and z with spare workgroups;
        // they redo the last row and write the same values.
        let row = min(index / ${ROW_WORKGROUP_SIZE}, uniforms.rows - 1);
        let T = uniforms.seqLen;
        let A = uniforms.heads;
        let D = uniforms.headDim;
        let H = A * D;
        let i = row % T;
        let a = (row / T) % A;
        let b = row / (T * A);
        ${this.body}
      }`;
  }
}

/** WGSL: the dropped-out probability `p` at flat [B, A, T, T] index `at` (identity without dropout). */
function dropped(withDropout: boolean, p: string, at: string): string {
  return withDropout
    ? `select(0.0, ${p} * uniforms.keepScale, dropoutUniform(uniforms.seed, u32(${at})) >= uniforms.rate)`
    : p;
}

/**
 * Forward in one dispatch (two outputs: a raw dispatch, raw-dispatch.ts), a workgroup per (b, a, i)
 * row: P [B, A, T, T], the softmax over keys of q·k·scale + mask bias, kept for the backward; then,
 * from the row still in workgroup memory, the context [B·T, H] at (b·T + i, a·D + d) for every d:
 * Σ_j dropout(P)[b, a, i, j] · v[b·T + j, a·D + d]. The arithmetic, in its order, of the two
 * one-output programs it replaced.
 */
function probsAndContext(
  qkv: tf.Tensor,
  mask: tf.Tensor | null,
  B: number,
  T: number,
  A: number,
  H: number,
  dropout: { rate: number; seed: number } | null,
) {
  const probs = emptyTensor([B, A, T, T]); // [B, A, T, T]
  const context = emptyTensor([B * T, H]) as tf.Tensor2D; // [B·T, H]
  const bias = mask ? 's = s + (1.0 - f32(mask[b * T + j])) * uniforms.maskNeg;' : '';
  dispatchRaw({
    name: `fewshot_attention_forward${mask ? '_mask' : ''}${dropout ? '_drop' : ''}`,
    bindings: [
      { name: 'qkv', tensor: qkv, access: 'read' },
      ...(mask
        ? [
            {
              name: 'mask',
              tensor: mask,
              access: 'read' as const,
              element: bufferElement(mask),
            },
          ]
        : []),
      { name: 'probs', tensor: probs, access: 'read_write' },
      { name: 'context', tensor: context, access: 'read_write' },
    ],
    uniforms: rawUniforms(attentionConstants(B, T, A, H, dropout), [
      'seqLen',
      'heads',
      'headDim',
      'rows',
      'scale',
      'rate',
      'keepScale',
      'seed',
      'maskNeg',
    ]),
    body: `
${RNG_WGSL}
${ROW_WGSL}
@compute @workgroup_size(${ROW_WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(num_workgroups) wgCount : vec3<u32>,
        @builtin(local_invocation_index) lid : u32) {
  let lane = i32(lid);
  let T = uniforms.seqLen;
  let A = uniforms.heads;
  let D = uniforms.headDim;
  let H = A * D;
  let kOff = (uniforms.rows / A) * H; // k after q in the packed [3, B·T, H]
  let vOff = 2 * kOff; // and v after k
  // One workgroup per row, looping when there are more rows than workgroups.
  for (var row = i32(wg.x); row < uniforms.rows; row += i32(wgCount.x)) {
    let i = row % T;
    let a = (row / T) % A;
    let b = row / (T * A);
    let qBase = (b * T + i) * H + a * D;
    var localMax = -3.0e38;
    for (var j = lane; j < T; j = j + ${ROW_WORKGROUP_SIZE}) {
      let kBase = (b * T + j) * H + a * D;
      var s = 0.0;
      for (var d = 0; d < D; d = d + 1) {
        s = s + (qkv[qBase + d] * uniforms.scale) * qkv[kOff + kBase + d];
      }
      ${bias}
      rowValues[j] = s;
      localMax = max(localMax, s);
    }
    partial[lane] = localMax;
    let rowMax = reduceRow(lane, true);
    var localSum = 0.0;
    for (var j = lane; j < T; j = j + ${ROW_WORKGROUP_SIZE}) {
      let e = exp(rowValues[j] - rowMax);
      rowValues[j] = e;
      localSum = localSum + e;
    }
    partial[lane] = localSum;
    let total = reduceRow(lane, false);
    for (var j = lane; j < T; j = j + ${ROW_WORKGROUP_SIZE}) {
      let p = rowValues[j] / total;
      probs[row * T + j] = p;
      rowValues[j] = p;
    }
    workgroupBarrier(); // the whole row of P is in rowValues
    for (var d = lane; d < D; d = d + ${ROW_WORKGROUP_SIZE}) {
      var acc = 0.0;
      for (var j = 0; j < T; j = j + 1) {
        acc = acc + ${dropped(dropout !== null, 'rowValues[j]', 'row * T + j')} * qkv[vOff + (b * T + j) * H + a * D + d];
      }
      context[(b * T + i) * H + a * D + d] = acc;
    }
    workgroupBarrier(); // before the next row overwrites rowValues
  }
}`,
    workgroups: B * A * T,
  });
  return { probs, context };
}

/** dS [B, A, T, T]: with dP = dropout'(dO·Vᵀ), dS = dP ⊙ P − rowsum(dP ⊙ P) ⊙ P (softmax gradient). */
function dScoresProgram(B: number, T: number, A: number, withDropout: boolean): AttentionRowProgram {
  const dP = withDropout
    ? 'select(0.0, dPd * uniforms.keepScale, dropoutUniform(uniforms.seed, u32(row * T + j)) >= uniforms.rate)'
    : 'dPd';
  return new AttentionRowProgram(
    `dscores${withDropout ? '_drop' : ''}`,
    ['probs', 'qkv', 'dOut'],
    `
      let oBase = (b * T + i) * H + a * D;
      let vOff = 2 * (uniforms.rows / A) * H; // v after q and k in the packed [3, B·T, H]
      var localSum = 0.0;
      for (var j = lane; j < T; j = j + ${ROW_WORKGROUP_SIZE}) {
        let vBase = (b * T + j) * H + a * D;
        var dPd = 0.0;
        for (var d = 0; d < D; d = d + 1) {
          dPd = dPd + dOut[oBase + d] * qkv[vOff + vBase + d];
        }
        let dPY = ${dP} * probs[row * T + j];
        rowValues[j] = dPY;
        localSum = localSum + dPY;
      }
      partial[lane] = localSum;
      let total = reduceRow(lane, false);
      for (var j = lane; j < T; j = j + ${ROW_WORKGROUP_SIZE}) {
        setOutputAtIndex(row * T + j, rowValues[j] - total * probs[row * T + j]);
      }`,
    [B, A, T, T],
  );
}

/**
 * dQ, dK and dV [B·T, H] in one dispatch, packed [3, B·T, H], one thread per element of each (a raw
 * dispatch, raw-dispatch.ts), with the arithmetic of the three one-output programs they replaced:
 *   dQ = scale · Σ_j dS[b, a, t, j] · k[b·T + j, h]
 *   dK = Σ_i dS[b, a, i, t] · (q[b·T + i, h] · scale)
 *   dV = Σ_i dropout(P)[b, a, i, t] · dO[b·T + i, h]
 */
function qkvGradients(
  dScores: tf.Tensor,
  qkv: tf.Tensor,
  probs: tf.Tensor,
  dOut: tf.Tensor,
  B: number,
  T: number,
  A: number,
  H: number,
  dropout: { rate: number; seed: number } | null,
) {
  const dqkv = emptyTensor([3, B * T, H]); // [3, B·T, H]
  dispatchRaw({
    name: `fewshot_attention_dqkv${dropout ? '_drop' : ''}`,
    bindings: [
      { name: 'dScores', tensor: dScores, access: 'read' },
      { name: 'qkv', tensor: qkv, access: 'read' },
      { name: 'probs', tensor: probs, access: 'read' },
      { name: 'dOut', tensor: dOut, access: 'read' },
      { name: 'dqkv', tensor: dqkv, access: 'read_write' },
    ],
    uniforms: rawUniforms(attentionConstants(B, T, A, H, dropout), [
      'seqLen',
      'heads',
      'headDim',
      'size',
      'scale',
      'rate',
      'keepScale',
      'seed',
    ]),
    body: `
${RNG_WGSL}
@compute @workgroup_size(${RAW_WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) gid : vec3<u32>, @builtin(num_workgroups) wgCount : vec3<u32>) {
  let T = uniforms.seqLen;
  let A = uniforms.heads;
  let D = uniforms.headDim;
  let H = A * D;
  let size = uniforms.size; // one of q, k, v: k starts there in the packed [3, B·T, H], v at 2·size
  let stride = i32(wgCount.x) * ${RAW_WORKGROUP_SIZE};
  for (var index = i32(gid.x); index < size; index += stride) {
    let n = index / H;
    let h = index % H;
    let a = h / D;
    let b = n / T;
    let t = n % T;
    let sRow = ((b * A + a) * T + t) * T;
    var accQ = 0.0;
    for (var j = 0; j < T; j = j + 1) {
      accQ = accQ + dScores[sRow + j] * qkv[size + (b * T + j) * H + h];
    }
    dqkv[index] = accQ * uniforms.scale;
    var accK = 0.0;
    var accV = 0.0;
    for (var i = 0; i < T; i = i + 1) {
      let at = ((b * A + a) * T + i) * T + t;
      accK = accK + dScores[at] * (qkv[(b * T + i) * H + h] * uniforms.scale);
      accV = accV + ${dropped(dropout !== null, 'probs[at]', 'at')} * dOut[(b * T + i) * H + h];
    }
    dqkv[size + index] = accK;
    dqkv[2 * size + index] = accV;
  }
}`,
    workgroups: Math.ceil((B * T * H) / RAW_WORKGROUP_SIZE),
  });
  return dqkv;
}

/**
 * Multi-head self-attention on the webgpu backend: qkv [3, B·T, H] (the projected rows of q, k and v
 * packed as `fusedQkvProjection` writes them, q not yet scaled), mask [B, T] (1 keep / 0 pad, int32
 * or float32; null for none) → context [B·T, H], heads merged. The gradient flows to qkv, packed the
 * same way (the mask gets none). `dropout` null or rate 0: no dropout. Check
 * `fusedAttentionUnsupported` first.
 */
export function fusedSelfAttention(
  qkv: tf.Tensor3D,
  mask: tf.Tensor2D | null,
  B: number,
  T: number,
  A: number,
  dropout: AttentionDropout | null,
): tf.Tensor2D {
  const H = qkv.shape[2];
  const withDropout = dropout !== null && dropout.rate > 0;
  const drop = withDropout ? { rate: dropout.rate, seed: dropout.seed } : null;
  const uniforms = programUniforms(attentionConstants(B, T, A, H, drop));
  const attend = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [packed, save] = args as [tf.Tensor3D, tf.GradSaveFunc];
    const { probs, context } = probsAndContext(packed, mask, B, T, A, H, drop); // [B, A, T, T], [B·T, H]
    save([packed, probs]);
    return {
      value: context,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sqkv, sp] = saved;
        const dOut = dy; // [B·T, H]
        const dScores = runProgram(dScoresProgram(B, T, A, withDropout), [sp, sqkv, dOut], uniforms); // [B, A, T, T]
        const dqkv = qkvGradients(dScores, sqkv, sp, dOut, B, T, A, H, drop); // [3, B·T, H]
        dScores.dispose();
        return [dqkv];
      },
    };
  }) as (qkv: tf.Tensor3D) => tf.Tensor2D;
  return attend(qkv); // [B·T, H]
}
