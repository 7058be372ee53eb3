/**
 * Stratified k-fold split for cross-validation: with 8–16 rows per class one dev split of 4–8
 * rows says little, while k folds let every row be a dev row once. The cross-validation driver
 * (studio/cross-validate.ts) trains one model per fold on this split (docs/ARCHITECTURE.md,
 * "Cross-validation").
 */
import { EngineError } from '../errors';
import { Rng } from '../util/rng';
import { SMALL_DEV_ROWS } from '../util/stats';

/** Folds offered by default: 5 is the usual choice (each model trains on 80 % of the rows). */
export const DEFAULT_CV_FOLDS = 5;
/** At most this many folds: more trains more models for little change in the estimate. */
export const MAX_CV_FOLDS = 10;

/** Whether k-fold cross-validation is possible and recommended for these rows (the Train panel's advice). */
export interface CrossValidationAdvice {
  /** Most folds the rows allow: the rarest label's count, at most MAX_CV_FOLDS; below 2 none is possible. */
  maxFolds: number;
  /** The suggested number of folds (DEFAULT_CV_FOLDS within maxFolds); 0 when not possible. */
  folds: number;
  /** True when the automatic dev split would have fewer than SMALL_DEV_ROWS rows. */
  recommended: boolean;
  /** One plain sentence: why it is (not) recommended, or why it is not possible. */
  reason: string;
}

/**
 * Advice for rows with these labels, given the size of the dev split a normal run would hold out.
 *
 * The threshold is SMALL_DEV_ROWS (20) dev rows, about 100 labeled rows at the 20 % split. Below
 * it one dev figure is too rough to act on: 70 % accuracy on 20 rows has a 95 % Wilson interval of
 * 48–86 % (± 19 points), 6 of 8 rows 41–93 % (± 26). Cross-validation scores every row once, so 100
 * rows in 5 folds give an estimate on 100 rows (70 %: 60–78 %, ± 9 points), at the cost of k + 1
 * trainings. Above the threshold a single dev split is usually precise enough and k times cheaper.
 * With a dev file given, the user already chose their held-out rows: not recommended.
 */
export function crossValidationAdvice(
  labels: readonly string[],
  devRows: number,
  devGiven: boolean,
): CrossValidationAdvice {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const rarest = counts.size > 0 ? Math.min(...counts.values()) : 0;
  const maxFolds = Math.min(MAX_CV_FOLDS, rarest);
  if (counts.size < 2 || maxFolds < 2) {
    return {
      maxFolds,
      folds: 0,
      recommended: false,
      reason:
        counts.size < 2
          ? 'Cross-validation needs at least two labels.'
          : 'Cross-validation needs at least 2 rows of every label (each fold holds out one or more of each).',
    };
  }
  const folds = Math.min(DEFAULT_CV_FOLDS, maxFolds);
  const recommended = !devGiven && devRows < SMALL_DEV_ROWS;
  return {
    maxFolds,
    folds,
    recommended,
    reason: devGiven
      ? 'A dev set was given: its score is the estimate; cross-validation would ignore it.'
      : recommended
        ? `The dev split would hold only ${devRows} row${devRows === 1 ? '' : 's'}, too few for a reliable figure; cross-validation scores every one of the ${labels.length} rows once.`
        : `The dev split holds ${devRows} rows, enough for a usable figure; cross-validation would be more precise but trains ${folds + 1} models.`,
  };
}

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
