/**
 * SetFit's stage two: a multinomial logistic-regression head on sentence embeddings, fitted in plain
 * JavaScript (float64; it is small: classes × (dimensions + 1) numbers) by L-BFGS. No tfjs, so the
 * result is the same on every backend (docs/ARCHITECTURE.md, "The training loop and its methods").
 *
 * Objective (scikit-learn's convention for C, intercept not penalised):
 *   C · Σ_i CE(softmax(W x_i + b), y_i) + ½ ‖W‖²,
 * minimised here in the equivalent form divided by C·N (same minimiser, better scaled):
 *   f(W, b) = (1/N) Σ_i [logsumexp(z_i) − z_i,y_i] + λ/2 ‖W‖²,  z_i = W x_i + b,  λ = 1 / (C·N).
 * Larger C = weaker regularisation; C = 1 is scikit-learn's and SetFit's default.
 *
 * Solver: L-BFGS (memory 10) from W = 0, b = 0, with a backtracking Armijo line search (c1 = 1e-4,
 * step halved), until the largest absolute gradient entry is ≤ `gradTol` (default 1e-8) or after
 * `maxIterations` (default 1000) iterations. Deterministic. Softmax is unchanged by adding one number
 * to every intercept and the penalty does not pin that number down; every gradient in b sums to 0, so
 * from b = 0 the intercepts stay centred (Σ b = 0), and they are re-centred at the end.
 */
import { EngineError } from '../errors';

export interface LogisticRegressionOptions {
  /** Inverse regularisation strength (scikit-learn's C). Default 1. */
  C?: number;
  /** Stop when max |gradient| of f ≤ this. Default 1e-8. */
  gradTol?: number;
  /** Iteration cap. Default 1000. */
  maxIterations?: number;
}

export interface LogisticRegressionHead {
  /** [K][D] weights. */
  coef: number[][];
  /** [K] intercepts, centred (sum 0). */
  intercept: number[];
}

export interface LogisticRegressionFit extends LogisticRegressionHead {
  iterations: number;
  /** Max |gradient| of f at the result. */
  gradMaxNorm: number;
  converged: boolean;
  /** f at the result (mean cross-entropy + λ/2 ‖W‖²). */
  objective: number;
}

/** f and its gradient at theta = [W row-major (K·D), b (K)]. */
function objectiveAndGradient(
  theta: Float64Array,
  x: readonly (readonly number[])[],
  y: readonly number[],
  K: number,
  D: number,
  lambda: number,
): { f: number; g: Float64Array } {
  const N = x.length;
  const g = new Float64Array(theta.length);
  const z = new Float64Array(K);
  let f = 0;
  for (let i = 0; i < N; i++) {
    const xi = x[i];
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      let s = theta[K * D + k];
      for (let d = 0; d < D; d++) s += theta[k * D + d] * xi[d];
      z[k] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(z[k] - max);
    const lse = max + Math.log(sum);
    f += lse - z[y[i]];
    for (let k = 0; k < K; k++) {
      const r = (Math.exp(z[k] - lse) - (k === y[i] ? 1 : 0)) / N; // ∂f/∂z_ik
      for (let d = 0; d < D; d++) g[k * D + d] += r * xi[d];
      g[K * D + k] += r;
    }
  }
  f /= N;
  for (let j = 0; j < K * D; j++) {
    f += 0.5 * lambda * theta[j] * theta[j];
    g[j] += lambda * theta[j];
  }
  return { f, g };
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const maxAbs = (a: Float64Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** Fits the head on embeddings x [N][D] with class indices y [N] in 0..numClasses-1. */
export function fitLogisticRegression(
  x: readonly (readonly number[])[],
  y: readonly number[],
  numClasses: number,
  options: LogisticRegressionOptions = {},
): LogisticRegressionFit {
  const C = options.C ?? 1;
  const gradTol = options.gradTol ?? 1e-8;
  const maxIterations = options.maxIterations ?? 1000;
  const N = x.length;
  if (N === 0) throw new EngineError('TRAIN_NO_EXAMPLES', 'The logistic-regression head needs at least one example.');
  if (!(C > 0) || !Number.isFinite(C))
    throw new EngineError('SETFIT_BAD_SETTINGS', `C must be a positive number, got ${C}.`);
  const D = x[0].length;
  const K = numClasses;
  if (x.some((row) => row.length !== D || row.some((v) => !Number.isFinite(v)))) {
    throw new EngineError('SETFIT_BAD_EMBEDDINGS', `Every embedding must have ${D} finite numbers.`);
  }
  if (y.length !== N || y.some((label) => !Number.isInteger(label) || label < 0 || label >= K)) {
    throw new EngineError('TRAIN_BAD_LABEL', `Every example needs a class index from 0 to ${K - 1}.`);
  }
  const lambda = 1 / (C * N);
  const m = 10;
  let theta: Float64Array = new Float64Array(K * D + K);
  let { f, g } = objectiveAndGradient(theta, x, y, K, D, lambda);
  const sList: Float64Array[] = [];
  const yList: Float64Array[] = [];
  let iterations = 0;
  while (maxAbs(g) > gradTol && iterations < maxIterations) {
    // Two-loop recursion: direction = −H·g with H the L-BFGS inverse-Hessian estimate.
    const q = Float64Array.from(g);
    const alphas: number[] = [];
    for (let j = sList.length - 1; j >= 0; j--) {
      const a = dot(sList[j], q) / dot(yList[j], sList[j]);
      alphas[j] = a;
      for (let t = 0; t < q.length; t++) q[t] -= a * yList[j][t];
    }
    const last = sList.length - 1;
    const gamma =
      last >= 0 ? dot(sList[last], yList[last]) / dot(yList[last], yList[last]) : 1 / Math.max(1, maxAbs(g));
    for (let t = 0; t < q.length; t++) q[t] *= gamma;
    for (let j = 0; j < sList.length; j++) {
      const b = dot(yList[j], q) / dot(yList[j], sList[j]);
      for (let t = 0; t < q.length; t++) q[t] += sList[j][t] * (alphas[j] - b);
    }
    let direction = q.map((v) => -v);
    let slope = dot(g, direction);
    if (!(slope < 0)) {
      // Not a descent direction (rounding): fall back to steepest descent and forget the history.
      direction = g.map((v) => -v);
      slope = dot(g, direction);
      sList.length = 0;
      yList.length = 0;
    }
    let step = 1;
    let next: Float64Array;
    let trial: { f: number; g: Float64Array };
    for (;;) {
      next = theta.map((v, t) => v + step * direction[t]);
      trial = objectiveAndGradient(next, x, y, K, D, lambda);
      if (trial.f <= f + 1e-4 * step * slope || step < 1e-20) break;
      step /= 2;
    }
    const s = next.map((v, t) => v - theta[t]);
    const yy = trial.g.map((v, t) => v - g[t]);
    if (dot(s, yy) > 1e-12 * dot(yy, yy)) {
      sList.push(s);
      yList.push(yy);
      if (sList.length > m) {
        sList.shift();
        yList.shift();
      }
    }
    const stalled = trial.f >= f && step < 1e-20;
    theta = next;
    f = trial.f;
    g = trial.g;
    iterations += 1;
    if (stalled) break;
  }
  const coef = Array.from({ length: K }, (_, k) => Array.from(theta.subarray(k * D, (k + 1) * D)));
  const raw = Array.from(theta.subarray(K * D));
  const mean = raw.reduce((a, b) => a + b, 0) / K;
  const gradMaxNorm = maxAbs(g);
  return {
    coef,
    intercept: raw.map((b) => b - mean),
    iterations,
    gradMaxNorm,
    converged: gradMaxNorm <= gradTol,
    objective: f,
  };
}

/** Class probabilities [N][K] of the head for embeddings x [N][D]. */
export function logisticRegressionProbabilities(
  head: LogisticRegressionHead,
  x: readonly (readonly number[])[],
): number[][] {
  return x.map((xi) => {
    const z = head.coef.map((w, k) => w.reduce((s, wd, d) => s + wd * xi[d], head.intercept[k]));
    const max = Math.max(...z);
    const e = z.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  });
}
