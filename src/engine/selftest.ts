/**
 * A small numeric self-test of the active backend: a matmul followed by a row softmax on fixed
 * inputs. The UI shows the timings; e2e tests compare the numbers with `referenceSelfTest`, a
 * plain-JavaScript computation that shares no code with tfjs.
 */
import * as tf from '@tensorflow/tfjs';

/** Rows of A / columns of B. Small enough for SwiftShader, big enough to exercise tiling. */
export const SELF_TEST_M = 16;
/** Inner dimension. */
export const SELF_TEST_K = 32;
/** Columns of B (softmax width). */
export const SELF_TEST_N = 8;

export interface SelfTestResult {
  backend: string;
  m: number;
  k: number;
  n: number;
  /** Row-major A [m, k]. */
  a: number[];
  /** Row-major B [k, n]. */
  b: number[];
  /** Row-major A·B [m, n]. */
  matmul: number[];
  /** Row-wise softmax of A·B [m, n]. */
  softmax: number[];
  timingsMs: { upload: number; compute: number; readback: number; total: number };
}

/** Deterministic inputs in [-1, 1): a fixed linear-congruential sequence, no RNG state needed. */
export function selfTestInputs(): { a: Float32Array; b: Float32Array } {
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state / 2 ** 32) * 2 - 1;
  };
  const a = new Float32Array(SELF_TEST_M * SELF_TEST_K).map(next);
  const b = new Float32Array(SELF_TEST_K * SELF_TEST_N).map(next);
  return { a, b };
}

export async function runSelfTest(): Promise<SelfTestResult> {
  const { a, b } = selfTestInputs();
  const t0 = performance.now();
  const aT = tf.tensor2d(a, [SELF_TEST_M, SELF_TEST_K]); // [M, K]
  const bT = tf.tensor2d(b, [SELF_TEST_K, SELF_TEST_N]); // [K, N]
  const t1 = performance.now();
  const product = tf.matMul(aT, bT); // [M, N]
  const probabilities = tf.softmax(product, -1); // [M, N]
  const t2 = performance.now();
  // Async readback: never block the worker's event loop on the GPU.
  const [matmul, softmax] = await Promise.all([product.data(), probabilities.data()]);
  const t3 = performance.now();
  tf.dispose([aT, bT, product, probabilities]);
  return {
    backend: tf.getBackend(),
    m: SELF_TEST_M,
    k: SELF_TEST_K,
    n: SELF_TEST_N,
    a: Array.from(a),
    b: Array.from(b),
    matmul: Array.from(matmul),
    softmax: Array.from(softmax),
    timingsMs: { upload: t1 - t0, compute: t2 - t1, readback: t3 - t2, total: t3 - t0 },
  };
}

/** The same computation in float64 plain JavaScript, as an independent reference. */
export function referenceSelfTest(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  m: number,
  k: number,
  n: number,
): { matmul: number[]; softmax: number[] } {
  const matmul = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[i * k + p] * b[p * n + j];
      matmul[i * n + j] = sum;
    }
  }
  const softmax = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) {
    const row = matmul.slice(i * n, (i + 1) * n);
    const max = Math.max(...row);
    const exps = row.map((x) => Math.exp(x - max));
    const total = exps.reduce((s, x) => s + x, 0);
    for (let j = 0; j < n; j++) softmax[i * n + j] = exps[j] / total;
  }
  return { matmul, softmax };
}
