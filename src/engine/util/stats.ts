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
