/**
 * The Data panel's map (docs/ARCHITECTURE.md, "The embedding map"): every row's sentence embedding
 * (FewShotModel.embed, the model's own pooling) laid out in two dimensions. Embeddings are computed
 * chunk by chunk through the caller's queue, so a worker keeps answering (and training keeps
 * stepping) between chunks. Two layouts:
 * - PCA (default): the data's top two principal components. The covariance is accumulated per chunk
 *   in float64, and its top two eigenvectors are found by orthogonal iteration from a seeded start
 *   with a fixed sign convention.
 * - UMAP (umap-js): neighbours in embedding space stay neighbours on the map, so groups show even
 *   when two directions cannot hold them. Its exact neighbour search and its epochs also run
 *   through the caller's queue, a bounded piece at a time.
 * Both are seeded: the same rows and weights always give the same map.
 */
import { UMAP } from 'umap-js';
import { EngineError } from '../errors';
import { Rng } from '../util/rng';
import type { TextInput } from './fewshot-model';

/** Most rows one map draws: 20,000 embeddings of 1,024 floats are 80 MB in the worker. */
export const MAX_MAP_ROWS = 20_000;
/** Fewest rows: two directions of spread need at least three points. */
export const MIN_MAP_ROWS = 3;
/** Rows embedded per queue turn: as the file predictions' chunks, so other requests wait at most one. */
export const MAP_CHUNK_ROWS = 256;
/**
 * Convergence of the orthogonal iteration: both Ritz pairs' residuals ‖C·v − λ·v‖ at most this times
 * λ1. An eigenvector's error is about residual / gap, so 1e-7 of λ1 is far below a pixel of the map.
 */
export const PCA_TOLERANCE = 1e-7;
/**
 * Iteration cap (each costs 2·H² multiply-adds: 2 M for H = 1,024). Reached only when λ2 ≈ λ3, where
 * the second axis is not well defined anyway; the result then says `converged: false`.
 */
export const PCA_MAX_ITERATIONS = 500;
/** Seed of the iteration's start vectors: fixed, so the map is the same on every run. */
export const PCA_SEED = 20_250_521;

/**
 * Most rows a UMAP map lays out. Its exact neighbour search costs N²·H multiply-adds, spread over
 * queue turns (UMAP_KNN_WORK each): 10,000 rows of 256 took 38.5 s in all, 26 s of it the search
 * (docs/ARCHITECTURE.md, "The embedding map"), so 20,000 would take minutes. PCA draws up to
 * MAX_MAP_ROWS.
 */
export const UMAP_MAX_ROWS = 10_000;
/** Multiply-adds of the neighbour search per queue turn: about 0.1 s of JavaScript (measured, 5,000 rows of 256: 6.6 s in 65 turns). */
export const UMAP_KNN_WORK = 1e8;
/** Neighbours per point (umap-learn's default): the size of the local groups UMAP keeps together. */
export const UMAP_NEIGHBORS = 15;
/** How tightly points may pack on the map (umap-learn's default). */
export const UMAP_MIN_DIST = 0.1;
/** Layout epochs per queue turn: about 0.45 s a turn at 5,000 rows (measured), so other requests wait little. */
export const UMAP_EPOCHS_PER_TURN = 20;
/** Seed of UMAP's random choices (initial layout, negative samples): fixed, so maps repeat. */
export const UMAP_SEED = 20_251_207;

export type EmbeddingMapMethod = 'pca' | 'umap';
const MAP_METHODS: readonly EmbeddingMapMethod[] = ['pca', 'umap'];

/** What embeddingMap needs of a model (FewShotModel has it; tests pass synthetic embedders). */
export interface Embedder {
  embed(inputs: readonly TextInput[], options?: { maxLength?: number }): Promise<number[][]>;
}

export interface EmbeddingMapOptions {
  /** 'pca' (default) or 'umap'. */
  method?: EmbeddingMapMethod;
  /** Tokens per text (default: the model's embedding length, see FewShotModel.embed). */
  maxLength?: number;
  /** Rows per chunk (default MAP_CHUNK_ROWS). */
  rowsPerChunk?: number;
  /** Runs one chunk's embedding (the worker passes its queue); default: now. */
  runChunk?: <T>(work: () => Promise<T>) => Promise<T>;
  /**
   * Rows embedded so far, once before the first chunk and after each (phase 'embed'); then, for
   * UMAP, rows whose neighbours are found (phase 'neighbors') and layout epochs done (phase
   * 'layout'), each once at 0 and after each queue turn.
   */
  onProgress?: (done: number, total: number, phase: MapPhase) => void;
  /** Checked between chunks: an aborted map stops with MAP_CANCELLED. */
  signal?: AbortSignal;
}

export interface EmbeddingMapResult {
  method: EmbeddingMapMethod;
  /** [rows × 2]: row i's x at 2i, y at 2i + 1 (its coordinates on the first and second component). */
  points: Float32Array;
  /**
   * PCA: share of the total variance on each axis (explained-variance ratios), each in [0, 1].
   * UMAP: null (its axes carry no variance; only which points are near each other means something).
   */
  explained: [number, number] | null;
  rows: number;
  /** Embedding width H. */
  dimensions: number;
  /**
   * PCA: orthogonal-iteration steps taken, and whether PCA_TOLERANCE was met within
   * PCA_MAX_ITERATIONS. UMAP: layout epochs (umap-js's schedule: 500 up to 2,500 rows, fewer above), all run.
   */
  iterations: number;
  converged: boolean;
  /** UMAP only: neighbours per point. */
  neighbors?: number;
}

/** What a map is busy with: embedding rows, then (UMAP) finding each row's neighbours and laying them out. */
export type MapPhase = 'embed' | 'neighbors' | 'layout';

/** Refuses row counts the map cannot draw, saying what to do. */
export function checkMapRows(rows: number, method: EmbeddingMapMethod = 'pca'): void {
  if (method === 'umap' && rows > UMAP_MAX_ROWS)
    throw new EngineError(
      'MAP_TOO_MANY_ROWS',
      `A UMAP map lays out at most ${UMAP_MAX_ROWS.toLocaleString('en-US')} rows; this data has ${rows.toLocaleString('en-US')}. ` +
        `Draw it with PCA (up to ${MAX_MAP_ROWS.toLocaleString('en-US')} rows), or load a sample of at most ${UMAP_MAX_ROWS.toLocaleString('en-US')} rows.`,
    );
  if (rows > MAX_MAP_ROWS)
    throw new EngineError(
      'MAP_TOO_MANY_ROWS',
      `The map draws at most ${MAX_MAP_ROWS.toLocaleString('en-US')} rows; this data has ${rows.toLocaleString('en-US')}. ` +
        `Load a sample of at most ${MAX_MAP_ROWS.toLocaleString('en-US')} rows (for example a random sample of the file) to draw its map.`,
    );
  if (rows < MIN_MAP_ROWS)
    throw new EngineError(
      'MAP_TOO_FEW_ROWS',
      `The map needs at least ${MIN_MAP_ROWS} rows to find two directions of spread; this data has ${rows}. Add rows.`,
    );
}

/**
 * Mean and covariance of rows added chunk by chunk, in float64. Sums are taken of (x − K), K the
 * first chunk's mean (the shifted-data algorithm), so a large common offset — sentence embeddings
 * have one — does not cancel digits away.
 */
export class CovarianceAccumulator {
  private count = 0;
  private shift: Float64Array | null = null; // [H] K
  private readonly sum: Float64Array; // [H] Σ (x − K)
  private readonly products: Float64Array; // [H, H] Σ (x − K)(x − K)ᵀ, upper triangle only

  constructor(readonly dimensions: number) {
    this.sum = new Float64Array(dimensions);
    this.products = new Float64Array(dimensions * dimensions);
  }

  get rows(): number {
    return this.count;
  }

  /** Adds rows (each of length H). */
  add(rows: readonly ArrayLike<number>[]): void {
    const H = this.dimensions;
    if (rows.length === 0) return;
    if (!this.shift) {
      this.shift = new Float64Array(H);
      for (const row of rows) for (let j = 0; j < H; j++) this.shift[j] += row[j] / rows.length;
    }
    const d = new Float64Array(H); // [H] x − K
    const { sum, products, shift } = this;
    for (const row of rows) {
      if (row.length !== H) throw new Error(`Embedding of width ${row.length}, expected ${H}.`);
      for (let j = 0; j < H; j++) {
        d[j] = row[j] - shift[j];
        sum[j] += d[j];
      }
      for (let i = 0; i < H; i++) {
        const di = d[i];
        if (di === 0) continue;
        const base = i * H;
        for (let j = i; j < H; j++) products[base + j] += di * d[j];
      }
      this.count++;
    }
  }

  /** The mean [H]. */
  mean(): Float64Array {
    const H = this.dimensions;
    const mean = new Float64Array(H);
    if (!this.shift) return mean;
    for (let j = 0; j < H; j++) mean[j] = this.shift[j] + this.sum[j] / this.count;
    return mean;
  }

  /** The sample covariance [H, H] (divided by N − 1), both triangles filled. */
  covariance(): Float64Array {
    const H = this.dimensions;
    const N = this.count;
    const cov = new Float64Array(H * H);
    if (N < 2) return cov;
    for (let i = 0; i < H; i++)
      for (let j = i; j < H; j++) {
        const value = (this.products[i * H + j] - (this.sum[i] * this.sum[j]) / N) / (N - 1);
        cov[i * H + j] = value;
        cov[j * H + i] = value;
      }
    return cov;
  }
}

export interface TopComponents {
  /** The two unit eigenvectors [H] each, largest eigenvalue first, largest-|loading| entry positive. */
  vectors: [Float64Array, Float64Array];
  /** Their eigenvalues λ1 ≥ λ2 (variance along each). */
  values: [number, number];
  /** trace(C): the total variance. */
  total: number;
  iterations: number;
  converged: boolean;
}

/** out[H] = C[H, H] · v[H]. */
function multiply(cov: Float64Array, H: number, v: Float64Array, out: Float64Array): void {
  for (let i = 0; i < H; i++) {
    let s = 0;
    const base = i * H;
    for (let j = 0; j < H; j++) s += cov[base + j] * v[j];
    out[i] = s;
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Below this share of its length left after projecting a out, b counts as parallel to a (rounding). */
const COLLAPSE_RATIO = 1e-12;

/**
 * Gram–Schmidt (twice, for orthogonality to rounding) of a then b, in place; false if a is zero or
 * b is parallel to it (then a is still normalised when it can be).
 */
function orthonormalize(a: Float64Array, b: Float64Array): boolean {
  const na = Math.sqrt(dot(a, a));
  if (na === 0) return false;
  for (let i = 0; i < a.length; i++) a[i] /= na;
  const before = Math.sqrt(dot(b, b));
  for (let pass = 0; pass < 2; pass++) {
    const p = dot(a, b);
    for (let i = 0; i < b.length; i++) b[i] -= p * a[i];
  }
  const nb = Math.sqrt(dot(b, b));
  if (!(nb > COLLAPSE_RATIO * before)) return false;
  for (let i = 0; i < b.length; i++) b[i] /= nb;
  return true;
}

/** Flips v so its largest-|loading| entry (the first, on ties) is positive. */
function fixSign(v: Float64Array): void {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (Math.abs(v[i]) > Math.abs(v[best])) best = i;
  if (v[best] < 0) for (let i = 0; i < v.length; i++) v[i] = -v[i];
}

/**
 * The top two eigenpairs of a symmetric positive semi-definite matrix C [H, H] (H ≥ 2) by orthogonal
 * iteration with a Rayleigh–Ritz step: V ← orth(C·V) from seeded normal vectors, the 2×2 matrix VᵀCV
 * diagonalised exactly each step (Jacobi rotation) so the pairs come out ordered, stopping when both
 * residuals ‖C·u − θ·u‖ ≤ tolerance · θ1.
 */
export function topTwoComponents(
  cov: Float64Array,
  H: number,
  options: { seed?: number; tolerance?: number; maxIterations?: number } = {},
): TopComponents {
  if (H < 2) throw new Error(`PCA needs at least 2 dimensions, got ${H}.`);
  const tolerance = options.tolerance ?? PCA_TOLERANCE;
  const maxIterations = options.maxIterations ?? PCA_MAX_ITERATIONS;
  let total = 0;
  for (let i = 0; i < H; i++) total += cov[i * H + i];
  const rng = new Rng(options.seed ?? PCA_SEED);
  const v1 = Float64Array.from({ length: H }, () => rng.normal()); // [H]
  const v2 = Float64Array.from({ length: H }, () => rng.normal()); // [H]
  orthonormalize(v1, v2);
  if (!(total > 0)) {
    // No spread at all: any axes do; the map is one point.
    fixSign(v1);
    fixSign(v2);
    return { vectors: [v1, v2], values: [0, 0], total: 0, iterations: 0, converged: true };
  }
  const w1 = new Float64Array(H); // [H] C·v1
  const w2 = new Float64Array(H); // [H] C·v2
  const u1 = new Float64Array(H); // [H] Ritz vectors
  const u2 = new Float64Array(H);
  let theta1 = 0;
  let theta2 = 0;
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    multiply(cov, H, v1, w1);
    multiply(cov, H, v2, w2);
    // Rayleigh–Ritz: T = VᵀCV (2×2, symmetric), rotated by φ to diagonal; (cos φ, sin φ) goes with the larger.
    const a = dot(v1, w1);
    const b = (dot(v1, w2) + dot(v2, w1)) / 2;
    const d = dot(v2, w2);
    const phi = 0.5 * Math.atan2(2 * b, a - d);
    const c = Math.cos(phi);
    const s = Math.sin(phi);
    theta1 = a * c * c + 2 * b * s * c + d * s * s;
    theta2 = a * s * s - 2 * b * s * c + d * c * c;
    let r1 = 0;
    let r2 = 0;
    for (let i = 0; i < H; i++) {
      u1[i] = c * v1[i] + s * v2[i];
      u2[i] = -s * v1[i] + c * v2[i];
      const cu1 = c * w1[i] + s * w2[i]; // (C·u1)[i]
      const cu2 = -s * w1[i] + c * w2[i]; // (C·u2)[i]
      r1 += (cu1 - theta1 * u1[i]) ** 2;
      r2 += (cu2 - theta2 * u2[i]) ** 2;
      // The next V is C·U (the rotation of C·V), orthonormalised below.
      w1[i] = cu1;
      w2[i] = cu2;
    }
    if (Math.sqrt(Math.max(r1, r2)) <= tolerance * theta1) {
      converged = true;
      break;
    }
    v1.set(w1);
    v2.set(w2);
    if (!orthonormalize(v1, v2)) {
      // Rank one: C·V spans one direction, now v1 (normalised). It is the top eigenvector; any unit
      // vector orthogonal to it spans a zero-variance axis.
      v2.fill(0);
      v2[Math.abs(v1[0]) < 0.9 ? 0 : 1] = 1;
      orthonormalize(v1, v2);
      multiply(cov, H, v1, w1);
      theta1 = dot(v1, w1);
      u1.set(v1);
      u2.set(v2);
      theta2 = 0;
      converged = true;
      break;
    }
  }
  fixSign(u1);
  fixSign(u2);
  return {
    vectors: [u1, u2],
    values: [Math.max(theta1, 0), Math.max(theta2, 0)],
    total,
    iterations,
    converged,
  };
}

/**
 * The 2-D map of `inputs` (docs/ARCHITECTURE.md, "The embedding map"): their embeddings by the
 * model, chunk by chunk, projected on the top two principal components. Refuses more than
 * MAX_MAP_ROWS or fewer than MIN_MAP_ROWS rows before embedding anything.
 */
export async function embeddingMap(
  model: Embedder,
  inputs: readonly TextInput[],
  options: EmbeddingMapOptions = {},
): Promise<EmbeddingMapResult> {
  const method = options.method ?? 'pca';
  if (!MAP_METHODS.includes(method))
    throw new EngineError('MAP_BAD_METHOD', `Unknown map method "${String(method)}"; use "pca" or "umap".`);
  const N = inputs.length;
  checkMapRows(N, method);
  const run = options.runChunk ?? (<T>(work: () => Promise<T>) => work());
  const chunkRows = Math.max(1, options.rowsPerChunk ?? MAP_CHUNK_ROWS);
  let stored: Float32Array | null = null; // [N, H] every embedding, kept for the layout
  let H = 0; // embedding width, from the first chunk
  let accumulator: CovarianceAccumulator | null = null; // PCA only
  options.onProgress?.(0, N, 'embed');
  for (let start = 0; start < N; start += chunkRows) {
    if (options.signal?.aborted) throw new EngineError('MAP_CANCELLED', 'The map was cancelled.');
    const chunk = inputs.slice(start, start + chunkRows);
    const vectors = await run(() => model.embed(chunk, { maxLength: options.maxLength })); // [B][H]
    if (vectors.length !== chunk.length)
      throw new Error(`The model embedded ${vectors.length} of ${chunk.length} rows.`);
    if (!stored) {
      H = vectors[0].length;
      stored = new Float32Array(N * H);
      if (method === 'pca') accumulator = new CovarianceAccumulator(H);
    }
    for (const [b, v] of vectors.entries()) {
      if (v.length !== H) throw new Error(`Embedding of width ${v.length}, expected ${H}.`);
      stored.set(v, (start + b) * H);
    }
    // Outside the queue: the worker's other requests may run while this chunk is summed.
    accumulator?.add(vectors);
    options.onProgress?.(start + chunk.length, N, 'embed');
  }
  if (method === 'umap') return umapLayout(stored!, N, H, run, options);
  const mean = accumulator!.mean(); // [H]
  const pca = topTwoComponents(accumulator!.covariance(), H);
  const [p1, p2] = pca.vectors;
  const points = new Float32Array(N * 2); // [N, 2]
  for (let n = 0; n < N; n++) {
    let x = 0;
    let y = 0;
    const base = n * H;
    for (let j = 0; j < H; j++) {
      const centered = stored![base + j] - mean[j];
      x += centered * p1[j];
      y += centered * p2[j];
    }
    points[2 * n] = x;
    points[2 * n + 1] = y;
  }
  const explained: [number, number] = pca.total > 0 ? [pca.values[0] / pca.total, pca.values[1] / pca.total] : [0, 0];
  return {
    method,
    points,
    explained,
    rows: N,
    dimensions: H,
    iterations: pca.iterations,
    converged: pca.converged,
  };
}

/**
 * The `k` nearest rows of every row by cosine similarity, exactly, the row itself first (as
 * umap-learn's neighbour lists have it), for rows [start, end) of `unit` [N, H] (unit-length rows).
 * Distances are Euclidean, √(2 − 2·cos), what UMAP expects; ties go to the lower row index.
 */
export function nearestRows(
  unit: Float64Array,
  N: number,
  H: number,
  k: number,
  start: number,
  end: number,
  indices: number[][],
  distances: number[][],
): void {
  // Four rows at a time: each other row is read once for all four dot products.
  const best = Array.from({ length: 4 }, () => new Float64Array(k)); // similarities, descending
  const bestIndex = Array.from({ length: 4 }, () => new Int32Array(k));
  const dots = new Float64Array(4);
  for (let i0 = start; i0 < end; i0 += 4) {
    const count = Math.min(4, end - i0);
    for (let q = 0; q < count; q++) {
      best[q].fill(-Infinity);
      bestIndex[q].fill(-1);
      best[q][0] = Infinity; // the row itself, whatever its length
      bestIndex[q][0] = i0 + q;
    }
    const base = i0 * H;
    for (let j = 0; j < N; j++) {
      const other = j * H;
      let d0 = 0;
      let d1 = 0;
      let d2 = 0;
      let d3 = 0;
      for (let h = 0; h < H; h++) {
        const x = unit[other + h];
        d0 += unit[base + h] * x;
        if (count > 1) d1 += unit[base + H + h] * x;
        if (count > 2) d2 += unit[base + 2 * H + h] * x;
        if (count > 3) d3 += unit[base + 3 * H + h] * x;
      }
      dots[0] = d0;
      dots[1] = d1;
      dots[2] = d2;
      dots[3] = d3;
      for (let q = 0; q < count; q++) {
        const dot = dots[q];
        const b = best[q];
        if (j === i0 + q || dot <= b[k - 1]) continue;
        const bi = bestIndex[q];
        let at = k - 1; // insertion into the sorted top k
        while (at > 1 && b[at - 1] < dot) {
          b[at] = b[at - 1];
          bi[at] = bi[at - 1];
          at--;
        }
        b[at] = dot;
        bi[at] = j;
      }
    }
    for (let q = 0; q < count; q++) {
      indices[i0 + q] = Array.from(bestIndex[q]);
      distances[i0 + q] = Array.from(best[q], (cos, m) => (m === 0 ? 0 : Math.sqrt(Math.max(0, 2 - 2 * cos))));
    }
  }
}

/**
 * UMAP of the stored embeddings [N, H] (umap-js). Rows are scaled to unit length, so Euclidean
 * distance orders neighbours as cosine similarity does (for unit vectors |a − b|² = 2 − 2·cos(a, b)),
 * the similarity sentence embeddings are compared by. The neighbours are found exactly, a few rows
 * per queue turn (UMAP_KNN_WORK multiply-adds), and handed to umap-js, so no turn holds the worker
 * for long; then UMAP_EPOCHS_PER_TURN epochs per turn.
 */
async function umapLayout(
  stored: Float32Array,
  N: number,
  H: number,
  run: <T>(work: () => Promise<T>) => Promise<T>,
  options: EmbeddingMapOptions,
): Promise<EmbeddingMapResult> {
  const unit = new Float64Array(N * H); // [N, H] unit-length rows
  for (let n = 0; n < N; n++) {
    const row = stored.subarray(n * H, (n + 1) * H);
    let norm = 0;
    for (let h = 0; h < H; h++) norm += row[h] * row[h];
    norm = Math.sqrt(norm);
    for (let h = 0; h < H; h++) unit[n * H + h] = norm > 0 ? row[h] / norm : 0;
  }
  // umap-js's rows: views into `unit`, not a copy (with the neighbours given, fit only indexes them).
  const rows = Array.from({ length: N }, (_, n) => unit.subarray(n * H, (n + 1) * H) as unknown as number[]);
  // Fewer neighbours than points: umap-js needs N > nNeighbors.
  const neighbors = Math.max(2, Math.min(UMAP_NEIGHBORS, N - 1));
  const cancelled = () => new EngineError('MAP_CANCELLED', 'The map was cancelled.');
  const knnIndices: number[][] = new Array<number[]>(N);
  const knnDistances: number[][] = new Array<number[]>(N);
  const rowsPerTurn = Math.max(1, Math.floor(UMAP_KNN_WORK / (N * H)));
  options.onProgress?.(0, N, 'neighbors');
  for (let start = 0; start < N; start += rowsPerTurn) {
    if (options.signal?.aborted) throw cancelled();
    const end = Math.min(N, start + rowsPerTurn);
    await run(async () => nearestRows(unit, N, H, neighbors, start, end, knnIndices, knnDistances));
    options.onProgress?.(end, N, 'neighbors');
  }
  const rng = new Rng(UMAP_SEED);
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: neighbors,
    minDist: UMAP_MIN_DIST,
    random: () => rng.nextFloat(),
  });
  umap.setPrecomputedKNN(knnIndices, knnDistances);
  if (options.signal?.aborted) throw cancelled();
  const epochs = await run(async () => umap.initializeFit(rows));
  options.onProgress?.(0, epochs, 'layout');
  for (let done = 0; done < epochs;) {
    if (options.signal?.aborted) throw cancelled();
    const turn = Math.min(UMAP_EPOCHS_PER_TURN, epochs - done);
    await run(async () => {
      for (let e = 0; e < turn; e++) umap.step();
    });
    done += turn;
    options.onProgress?.(done, epochs, 'layout');
  }
  const layout = umap.getEmbedding(); // [N][2]
  const points = new Float32Array(N * 2); // [N, 2]
  layout.forEach(([x, y], n) => {
    points[2 * n] = x;
    points[2 * n + 1] = y;
  });
  return {
    method: 'umap',
    points,
    explained: null,
    rows: N,
    dimensions: H,
    iterations: epochs,
    converged: true,
    neighbors,
  };
}
