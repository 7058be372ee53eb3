/**
 * Stratified k-fold split for cross-validation: with 8–16 rows per class one dev split of 4–8
 * rows says little, while k folds let every row be a dev row once. Running cross-validation in
 * the studio comes later; this is the split it will use.
 */
import { EngineError } from '../errors';
import { Rng } from '../util/rng';

/**
 * Splits rows `0 … labels.length − 1` into `k` folds (each ascending row indices).
 *
 * - Stratified: each class's rows are shuffled (the class's own substream, `fork('folds:' +
 *   label)`, so adding a class never reshuffles the others) and dealt round-robin, so a class's
 *   count differs by at most 1 between folds.
 * - Balanced overall: each class starts dealing at the fold after where the previous class (in
 *   order of first appearance) stopped, so the folds' sizes also differ by at most 1.
 * - Every row is in exactly one fold; the same labels, k and seed give the same folds.
 *
 * Refused (EngineError `FOLDS_BAD_K`): k not an integer ≥ 2, or k larger than the rarest class's
 * count — a fold without any row of a class cannot score that class, and splitting such a class
 * unevenly would silently break the stratification this split promises. Use fewer folds, or
 * more rows of that class.
 */
export function stratifiedFolds(labels: readonly (string | number)[], k: number, seed: number): number[][] {
  if (!Number.isInteger(k) || k < 2)
    throw new EngineError('FOLDS_BAD_K', `Cross-validation needs a whole number of folds, at least 2; got ${k}.`);
  const byClass = new Map<string, number[]>();
  labels.forEach((label, row) => {
    const key = String(label);
    let rows = byClass.get(key);
    if (!rows) byClass.set(key, (rows = []));
    rows.push(row);
  });
  if (byClass.size === 0) throw new EngineError('FOLDS_BAD_K', 'Cross-validation needs at least one labeled row.');
  for (const [label, rows] of byClass) {
    if (rows.length < k)
      throw new EngineError(
        'FOLDS_BAD_K',
        `${k} folds need at least ${k} rows of every label, but "${label}" has ${rows.length}. ` +
          `Use at most ${Math.min(...[...byClass.values()].map((r) => r.length))} folds, or add rows of "${label}".`,
      );
  }
  const rng = new Rng(seed);
  const folds: number[][] = Array.from({ length: k }, () => []);
  let next = 0;
  for (const [label, rows] of byClass) {
    const order = rng.fork(`folds:${label}`).shuffle(rows.slice());
    for (const row of order) {
      folds[next].push(row);
      next = (next + 1) % k;
    }
  }
  for (const fold of folds) fold.sort((a, b) => a - b);
  return folds;
}
