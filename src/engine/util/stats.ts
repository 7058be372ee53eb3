/** Small descriptive statistics used by the data summary and the training defaults. */
import { EngineError } from '../errors';

/** Minimum, maximum, mean, median and 95th percentile (nearest rank) of a list. */
export interface LengthStats {
  /** All zero when the list is empty. */
  min: number;
  max: number;
  mean: number;
  median: number;
  p95: number;
}

/**
 * Nearest-rank percentile: the smallest value with at least q·n values ≤ it (q in [0, 1]).
 * Pass `sorted: true` when `values` is already ascending, to skip the copy and sort.
 */
export function percentileNearestRank(values: readonly number[], q: number, sorted = false): number {
  if (values.length === 0) throw new EngineError('DEFAULTS_BAD_INPUT', 'percentile of an empty list is undefined.');
  const ordered = sorted ? values : values.slice().sort((a, b) => a - b);
  const rank = Math.min(ordered.length, Math.max(1, Math.ceil(q * ordered.length)));
  return ordered[rank - 1];
}

export function lengthStats(values: readonly number[]): LengthStats {
  if (values.length === 0) return { min: 0, max: 0, mean: 0, median: 0, p95: 0 };
  const sorted = values.slice().sort((a, b) => a - b);
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return {
    min: sorted[0],
    max: sorted[sorted.length - 1],
    mean,
    median,
    p95: percentileNearestRank(sorted, 0.95, true),
  };
}

/**
 * Dev sets smaller than this are too small to choose a checkpoint by, or to trust one accuracy
 * figure from. Accuracy on n rows moves in steps of 1/n, so on fewer than 20 rows one row decides
 * more than 5 points and two evaluations that differ by a row are a coin toss, not progress; the
 * 95 % interval on 20 rows is still about ± 20 points. The loop keeps the last weights below it
 * (train/loop.ts) and the Evaluate panel warns.
 */
export const SMALL_DEV_ROWS = 20;

/** Two-sided 95 % normal quantile (z for which P(|Z| ≤ z) = 0.95). */
const Z95 = 1.959963984540054;

/** A proportion's confidence interval, both ends in [0, 1]. */
export interface ProportionInterval {
  low: number;
  high: number;
}

/**
 * Wilson score interval for a proportion: `correct` successes out of `n`. Chosen over the plain
 * "p ± z·√(p(1−p)/n)" because that collapses to zero width at 0 % and 100 % — exactly the
 * "100 % on 4 rows" case — and leaves [0, 1] on small n; Wilson's interval stays inside [0, 1]
 * and is still wide there. No rows: the whole range [0, 1] (nothing is known).
 */
export function wilsonInterval(correct: number, n: number, z = Z95): ProportionInterval {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(correct) || correct < 0 || correct > n)
    throw new EngineError('STATS_BAD_INPUT', `An interval needs 0 ≤ correct ≤ n (integers), got ${correct} of ${n}.`);
  if (n === 0) return { low: 0, high: 1 };
  const p = correct / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // Clamp rounding noise at the ends (p = 0 or 1 gives exactly 0 / 1 mathematically).
  return { low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

/**
 * Accuracy with its uncertainty in plain words: "83 % ± 15 (on 12 dev rows)". The ± is half the
 * width of the 95 % Wilson interval, in percentage points; the interval is not symmetric near
 * 0 % / 100 % (100 % on 4 rows is really "51 – 100 %"), so the ± is a size, not exact ends.
 */
export function formatAccuracyWithInterval(accuracy: number, n: number, rowsName = 'dev rows'): string {
  const correct = Math.round(accuracy * n);
  const { low, high } = wilsonInterval(correct, n);
  const plusMinus = Math.round((100 * (high - low)) / 2);
  const rows = n === 1 ? rowsName.replace(/s$/, '') : rowsName;
  return `${Math.round(100 * accuracy)} % ± ${plusMinus} (on ${n} ${rows})`;
}

/** Mean and sample standard deviation (n − 1); a single value has std 0, no values mean 0. */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const variance = values.length > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}
