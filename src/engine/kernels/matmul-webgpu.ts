/**
 * Our tiled matrix products (docs/ARCHITECTURE.md, "Own kernels"): several products, or a sum of
 * products, in one raw dispatch (raw-dispatch.ts), on views into existing buffers. Three uses:
 *
 * - `fusedQkvProjection`: the query, key and value projections of a layer in one dispatch, written
 *   packed as [3, N, H] (the fused attention reads them there), with its gradient in two dispatches:
 *   dx = Σ dy_g·w_gᵀ (replacing three matmuls and the two adds that summed their results), and
 *   the three weight gradients with their bias gradients (replacing three matmuls and three column sums);
 * - `fusedLinearWeightGrads`: a linear layer's dw = xᵀ·dy and db = Σ_rows dy in one dispatch (the
 *   bias gradient is the product's extra row: A gets one more row of ones), replacing a matmul and a
 *   column sum.
 *
 * The kernel: 64 threads per workgroup, a 32 × 32 tile of the output each (4 × 4 per thread), the
 * depth walked 16 at a time through workgroup memory, bounds checked everywhere, so any size works.
 * Shapes, offsets and strides are baked into the WGSL (one pipeline per shape; a model has a handful).
 * Every product reads only its own operands, so the sums and their order per element are the same
 * as one matmul's (a reduction along the depth), and parity with tfjs is to rounding.
 *
 * Bindings: the qkv forward and its weight gradients bind 8 storage buffers, WebGPU's guaranteed
 * minimum per stage; the others fewer.
 *
 * Parity: matmul-webgpu.test.ts on Node's WebGPU against tfjs's matmuls.
 */
import * as tf from '@tensorflow/tfjs';
import { dispatchRaw, emptyTensor, type RawBinding } from './raw-dispatch';

/** Output tile edge (rows and columns) per workgroup. */
const TILE = 32;
/** Depth per step through workgroup memory: A tile 32 × 16 and B tile 16 × 32, 4 KiB together. */
const DEPTH_STEP = 16;
/** Threads per workgroup: 8 × 8, each computing 4 × 4 outputs of the tile. */
const THREADS = 64;

/** Element (r, c) of a matrix inside a tensor's buffer, at offset + r·rowStride + c·colStride. */
export interface MatrixView {
  tensor: tf.TensorInfo;
  offset: number;
  rowStride: number;
  colStride: number;
}

/** Row-major [rows, cols] matrix at `offset` of `tensor` (cols = row stride). */
export function rowMajor(tensor: tf.TensorInfo, cols: number, offset = 0): MatrixView {
  return { tensor, offset, rowStride: cols, colStride: 1 };
}

/** The transpose of a row-major [rows, cols] matrix at `offset`: a [cols, rows] view. */
export function transposed(tensor: tf.TensorInfo, cols: number, offset = 0): MatrixView {
  return { tensor, offset, rowStride: 1, colStride: cols };
}

/** One product a [rows, depth] · b [depth, cols]. */
export interface ProductTerm {
  a: MatrixView;
  b: MatrixView;
  depth: number;
}

/** One output: [rows, cols] = Σ terms (+ bias per column), written row-major at out.offset. */
export interface ProductOutput {
  rows: number;
  cols: number;
  terms: ProductTerm[];
  out: { tensor: tf.TensorInfo; offset: number };
  /** Added to every row (a [cols] vector). */
  bias?: { tensor: tf.TensorInfo; offset: number };
  /** Also writes Σ_k Σ_terms b(k, c), the column sums of b (a row of ones in a), here. */
  columnSums?: { tensor: tf.TensorInfo; offset: number };
}

/** WGSL for element (r, k) of a view, 0 outside [rows, depth]; `ones` makes row `rows` all ones. */
function accessor(fn: string, buffer: string, v: MatrixView, rows: number, depth: number, ones: boolean): string {
  const onesRow = ones ? `\n  if (r == ${rows} && k < ${depth}) { return 1.0; }` : '';
  return `fn ${fn}(r : i32, k : i32) -> f32 {${onesRow}
  if (r < ${rows} && k < ${depth}) { return ${buffer}[${v.offset} + r * ${v.rowStride} + k * ${v.colStride}]; }
  return 0.0;
}`;
}

/** One output's share of a dispatch: its accessor functions, its tile count, and its branch of main. */
interface OutputCode {
  fns: string;
  tiles: number;
  code: string;
}

/** The WGSL of one output's tiles, workgroup tiles [first, first + tiles) of the dispatch. */
function outputCode(o: ProductOutput, index: number, name: (t: tf.TensorInfo) => string, first: number): OutputCode {
  const outRows = o.rows + (o.columnSums ? 1 : 0);
  const tilesC = Math.ceil(o.cols / TILE);
  const tiles = Math.ceil(outRows / TILE) * tilesC;
  const fns: string[] = [];
  const steps = o.terms.map((term, p) => {
    const a = `a${index}_${p}`;
    const b = `b${index}_${p}`;
    fns.push(accessor(a, name(term.a.tensor), term.a, o.rows, term.depth, o.columnSums !== undefined));
    // b is read as element (k, c): rows = depth, columns = cols.
    fns.push(accessor(b, name(term.b.tensor), term.b, term.depth, o.cols, false));
    return `
      for (var k0 = 0; k0 < ${term.depth}; k0 += ${DEPTH_STEP}) {
        for (var l = 0; l < ${(TILE * DEPTH_STEP) / THREADS}; l++) {
          let at = t + l * ${THREADS};
          tileA[at] = ${a}(r0 + at / ${DEPTH_STEP}, k0 + at % ${DEPTH_STEP});
        }
        for (var l = 0; l < ${(TILE * DEPTH_STEP) / 4 / THREADS}; l++) {
          let at = t + l * ${THREADS};
          let k = k0 + at / ${TILE / 4};
          let c = c0 + (at % ${TILE / 4}) * 4;
          tileB[at] = vec4<f32>(${b}(k, c), ${b}(k, c + 1), ${b}(k, c + 2), ${b}(k, c + 3));
        }
        workgroupBarrier();
        for (var k = 0; k < ${DEPTH_STEP}; k++) {
          let bk = tileB[k * ${TILE / 4} + tc];
          for (var i = 0; i < 4; i++) { acc[i] += tileA[(tr * 4 + i) * ${DEPTH_STEP} + k] * bk; }
        }
        workgroupBarrier();
      }`;
  });
  const outName = name(o.out.tensor);
  const bias = o.bias ? ` + ${name(o.bias.tensor)}[${o.bias.offset} + c]` : '';
  const sums = o.columnSums
    ? `\n          if (r == ${o.rows}) { ${name(o.columnSums.tensor)}[${o.columnSums.offset} + c] = acc[i][j]; }`
    : '';
  return {
    fns: fns.join('\n'),
    tiles,
    code: `
    if (w >= ${first} && w < ${first + tiles}) {
      let r0 = ((w - ${first}) / ${tilesC}) * ${TILE};
      let c0 = ((w - ${first}) % ${tilesC}) * ${TILE};
      var acc : array<vec4<f32>, 4>;
      ${steps.join('\n')}
      for (var i = 0; i < 4; i++) {
        let r = r0 + tr * 4 + i;
        for (var j = 0; j < 4; j++) {
          let c = c0 + tc * 4 + j;
          if (c >= ${o.cols}) { continue; }
          if (r < ${o.rows}) { ${outName}[${o.out.offset} + r * ${o.cols} + c] = acc[i][j]${bias}; }${sums}
        }
      }
    }`,
  };
}

/**
 * The tensors a dispatch's WGSL reads and writes, in the order outputCode names them: per output,
 * each term's a then b, then out, bias and column sums. The bindings follow this order, so a
 * dispatch's binding layout and its code depend only on the shapes and on which views share a tensor.
 */
function viewTensors(outputs: ProductOutput[]): tf.TensorInfo[] {
  return outputs.flatMap((o) => [
    ...o.terms.flatMap((t) => [t.a.tensor, t.b.tensor]),
    o.out.tensor,
    ...(o.bias ? [o.bias.tensor] : []),
    ...(o.columnSums ? [o.columnSums.tensor] : []),
  ]);
}

/** Shader bodies by name and variant: the WGSL text is built once per shape and aliasing, not per call. */
const bodies = new Map<string, { body: string; tiles: number }>();

/** Records one dispatch computing every output of `outputs` (its own tiles each). */
export function dispatchProducts(name: string, outputs: ProductOutput[]): void {
  const written = new Set<object>();
  for (const o of outputs) {
    written.add(o.out.tensor.dataId);
    if (o.columnSums) written.add(o.columnSums.tensor.dataId);
  }
  const bindings: RawBinding[] = [];
  const names = new Map<object, string>();
  // Which binding each view reads, in naming order: "0.1.0.2…". Part of the variant, because two
  // calls with equal shapes but different sharing (x·w1 + x·w2 against x·w1 + y·w1) need different code.
  const aliasing = viewTensors(outputs)
    .map((t) => {
      let n = names.get(t.dataId);
      if (!n) {
        n = `m${names.size}`;
        names.set(t.dataId, n);
        bindings.push({ name: n, tensor: t, access: written.has(t.dataId) ? 'read_write' : 'read' });
      }
      return n.slice(1);
    })
    .join('.');
  const variant = `${shapeKey(outputs)}#${aliasing}`;
  const key = `${name}|${variant}`;
  let shader = bodies.get(key);
  if (!shader) {
    const bindingName = (t: tf.TensorInfo): string => {
      const n = names.get(t.dataId);
      if (!n) throw new Error(`dispatchProducts ${name}: a view's tensor is missing from viewTensors.`);
      return n;
    };
    let first = 0;
    const parts = outputs.map((o, i) => {
      const part = outputCode(o, i, bindingName, first);
      first += part.tiles;
      return part;
    });
    const body = `
var<workgroup> tileA : array<f32, ${TILE * DEPTH_STEP}>; // [${TILE} rows][${DEPTH_STEP} depth]
var<workgroup> tileB : array<vec4<f32>, ${(DEPTH_STEP * TILE) / 4}>; // [${DEPTH_STEP} depth][${TILE / 4} column quads]
${parts.map((p) => p.fns).join('\n')}
@compute @workgroup_size(${THREADS})
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(num_workgroups) wgCount : vec3<u32>,
        @builtin(local_invocation_index) lid : u32) {
  let t = i32(lid);
  let tr = t / 8; // the thread's 4 rows of the tile
  let tc = t % 8; // and its 4 columns
  // One workgroup per tile, looping when there are more tiles than workgroups.
  for (var w = i32(wg.x); w < uniforms.tiles; w += i32(wgCount.x)) {${parts.map((p) => p.code).join('')}
  }
}`;
    shader = { body, tiles: first };
    bodies.set(key, shader);
  }
  dispatchRaw({
    name: `fewshot_${name}`,
    variant,
    bindings,
    uniforms: [{ name: 'tiles', type: 'i32', value: shader.tiles }],
    body: shader.body,
    workgroups: shader.tiles,
  });
}

/** The shapes, offsets and strides baked into a dispatch's code: its pipeline's variant. */
function shapeKey(outputs: ProductOutput[]): string {
  const view = (v: MatrixView) => `${v.offset}.${v.rowStride}.${v.colStride}`;
  return outputs
    .map(
      (o) =>
        `${o.rows}x${o.cols}${o.bias ? 'b' : ''}${o.columnSums ? 's' : ''}@${o.out.offset}:` +
        o.terms.map((t) => `${t.depth}(${view(t.a)})(${view(t.b)})`).join('+') +
        (o.bias ? `+${o.bias.offset}` : '') +
        (o.columnSums ? `s${o.columnSums.offset}` : ''),
    )
    .join('|');
}

export interface QkvParams {
  query: { w: tf.Tensor2D; b: tf.Tensor1D };
  key: { w: tf.Tensor2D; b: tf.Tensor1D };
  value: { w: tf.Tensor2D; b: tf.Tensor1D };
}

/**
 * x [N, in] → [3, N, out]: x·w_g + b_g for g = query, key, value, in one dispatch, with a gradient
 * in two (dx; the three dw and db). webgpu backend only.
 */
export function fusedQkvProjection(x: tf.Tensor2D, p: QkvParams): tf.Tensor3D {
  const [N, inSize] = x.shape;
  const outSize = p.query.w.shape[1];
  const size = N * outSize; // one projection's elements
  const project = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xs, wq, bq, wk, bk, wv, bv, save] = args as [
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor1D,
      tf.Tensor2D,
      tf.Tensor1D,
      tf.Tensor2D,
      tf.Tensor1D,
      tf.GradSaveFunc,
    ];
    const weights = [wq, wk, wv];
    const biases = [bq, bk, bv];
    const packed = emptyTensor([3, N, outSize]) as tf.Tensor3D; // [3, N, out]
    dispatchProducts(
      'qkv_forward',
      weights.map((w, g) => ({
        rows: N,
        cols: outSize,
        terms: [{ a: rowMajor(xs, inSize), b: rowMajor(w, outSize), depth: inSize }],
        bias: { tensor: biases[g], offset: 0 },
        out: { tensor: packed, offset: g * size },
      })),
    );
    save([xs, wq, wk, wv]);
    return {
      value: packed,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, ...sw] = saved; // x [N, in], w_g [in, out]
        const dx = emptyTensor([N, inSize]); // [N, in]
        // dx = Σ_g dy_g [N, out] · w_gᵀ [out, in]
        dispatchProducts('qkv_dx', [
          {
            rows: N,
            cols: inSize,
            terms: sw.map((w, g) => ({
              a: rowMajor(dy, outSize, g * size),
              b: transposed(w, outSize),
              depth: outSize,
            })),
            out: { tensor: dx, offset: 0 },
          },
        ]);
        const dw = sw.map(() => emptyTensor([inSize, outSize])); // [in, out] each
        const db = sw.map(() => emptyTensor([outSize])); // [out] each
        // dw_g = xᵀ [in, N] · dy_g [N, out]; db_g = Σ_N dy_g (the row of ones)
        dispatchProducts(
          'qkv_dw',
          sw.map((_, g) => ({
            rows: inSize,
            cols: outSize,
            terms: [{ a: transposed(sx, inSize), b: rowMajor(dy, outSize, g * size), depth: N }],
            out: { tensor: dw[g], offset: 0 },
            columnSums: { tensor: db[g], offset: 0 },
          })),
        );
        return [dx, dw[0], db[0], dw[1], db[1], dw[2], db[2]];
      },
    };
  }) as (...t: tf.Tensor[]) => tf.Tensor3D;
  return project(x, p.query.w, p.query.b, p.key.w, p.key.b, p.value.w, p.value.b); // [3, N, out]
}

/** A linear layer's dw = xᵀ·dy [in, out] and db = Σ_rows dy [out], in one dispatch. */
export function fusedLinearWeightGrads(x: tf.Tensor2D, dy: tf.Tensor2D): [tf.Tensor2D, tf.Tensor1D] {
  const [N, inSize] = x.shape;
  const outSize = dy.shape[1];
  const dw = emptyTensor([inSize, outSize]) as tf.Tensor2D; // [in, out]
  const db = emptyTensor([outSize]) as tf.Tensor1D; // [out]
  dispatchProducts('linear_dw', [
    {
      rows: inSize,
      cols: outSize,
      terms: [{ a: transposed(x, inSize), b: rowMajor(dy, outSize), depth: N }],
      out: { tensor: dw, offset: 0 },
      columnSums: { tensor: db, offset: 0 },
    },
  ]);
  return [dw, db];
}
