/**
 * Classification metrics from predicted probabilities (plain arrays; the caller reads the model's
 * probabilities back asynchronously once per evaluation).
 *
 * Conventions (the same as scikit-learn with `zero_division=0`):
 * - the prediction is the argmax of the probabilities; ties go to the lowest class index;
 * - precision of a class that is never predicted is 0, recall of a class with no true rows is 0,
 *   and F1 is 0 whenever precision + recall is 0;
 * - macro-F1 averages F1 over the classes that occur in yTrue or in the predictions (scikit-learn's
 *   default label set), so a class absent from a small dev set and never predicted does not drag
 *   the score down, while a class that is present but never predicted counts as 0;
 * - with no examples at all, accuracy and macro-F1 are 0.
 */
import { wilsonInterval, type ProportionInterval } from '../util/stats';
import { EngineError } from '../errors';

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** Number of true rows of this class. */
  support: number;
  /** Number of rows predicted as this class. */
  predicted: number;
  /**
   * 95 % Wilson intervals of precision (right among the `predicted` rows) and recall (found among
   * the `support` rows): a per-class figure rests on even fewer rows than the accuracy. Absent in
   * metrics saved before they were added.
   */
  precisionInterval?: ProportionInterval;
  recallInterval?: ProportionInterval;
}

export interface Prediction {
  /** Index of the example in the input. */
  index: number;
  trueLabel: string;
  predLabel: string;
  /** Probability of the predicted class. */
  confidence: number;
  /** Probabilities of all classes, in label order. */
  probs: number[];
}

export interface Metrics {
  /** Number of examples. */
  n: number;
  accuracy: number;
  /**
   * 95 % Wilson interval of the accuracy on these n rows (util/stats.ts), so every reader — the
   * Evaluate panel included, which may not run engine code — can say how sure the figure is.
   * Absent in metrics saved before it was added.
   */
  accuracyInterval?: ProportionInterval;
  macroF1: number;
  /** Per class, in label order. */
  perClass: ClassMetrics[];
  /** confusion[true][pred] = count. */
  confusion: number[][];
  predictions: Prediction[];
}

/**
 * @param yTrue true class index per example, each in [0, labels.length)
 * @param probs per-example class probabilities: `number[][]` [N][C] or a row-major Float32Array [N*C]
 * @param labels class names, index = class id
 */
export function computeMetrics(
  yTrue: readonly number[],
  probs: readonly (readonly number[])[] | Float32Array,
  labels: readonly string[],
): Metrics {
  const C = labels.length;
  const N = yTrue.length;
  if (C === 0) throw new EngineError('METRICS_BAD_INPUT', 'computeMetrics needs at least one label.');
  const flat = probs instanceof Float32Array;
  const probsN = flat ? probs.length / C : probs.length;
  if (probsN !== N) {
    throw new EngineError(
      'METRICS_BAD_INPUT',
      flat
        ? `probs has ${probs.length} values but ${N} examples × ${C} classes = ${N * C} were expected.`
        : `probs has ${probs.length} rows but yTrue has ${N}; pass one probability row per example.`,
    );
  }
  const row = (i: number): number[] => {
    if (flat) return Array.from((probs as Float32Array).subarray(i * C, (i + 1) * C));
    const r = (probs as readonly (readonly number[])[])[i];
    if (r.length !== C) {
      throw new EngineError(
        'METRICS_BAD_INPUT',
        `probs row ${i} has ${r.length} values; expected ${C} (one per label).`,
      );
    }
    return Array.from(r);
  };

  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  const predictions: Prediction[] = [];
  let correct = 0;
  for (let i = 0; i < N; i++) {
    const t = yTrue[i];
    if (!Number.isInteger(t) || t < 0 || t >= C) {
      throw new EngineError(
        'METRICS_BAD_INPUT',
        `yTrue[${i}] = ${t} is not a class index in [0, ${C}); unlabeled rows cannot be scored.`,
      );
    }
    const p = row(i);
    let best = 0;
    for (let c = 1; c < C; c++) if (p[c] > p[best]) best = c;
    confusion[t][best]++;
    if (best === t) correct++;
    predictions.push({ index: i, trueLabel: labels[t], predLabel: labels[best], confidence: p[best], probs: p });
  }

  const perClass: ClassMetrics[] = labels.map((label, c) => {
    const tp = confusion[c][c];
    let support = 0;
    let predicted = 0;
    for (let k = 0; k < C; k++) {
      support += confusion[c][k];
      predicted += confusion[k][c];
    }
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return {
      label,
      precision,
      recall,
      f1,
      support,
      predicted,
      precisionInterval: wilsonInterval(tp, predicted),
      recallInterval: wilsonInterval(tp, support),
    };
  });
  const present = perClass.filter((m) => m.support > 0 || m.predicted > 0);
  const macroF1 = present.length > 0 ? present.reduce((s, m) => s + m.f1, 0) / present.length : 0;
  return {
    n: N,
    accuracy: N > 0 ? correct / N : 0,
    accuracyInterval: wilsonInterval(correct, N),
    macroF1,
    perClass,
    confusion,
    predictions,
  };
}

/**
 * Aligned plain-text confusion matrix for the CLI: rows are true classes, columns predicted ones.
 * Labels longer than `maxLabelWidth` (default 16) are shortened with '…'.
 */
export function formatConfusionMatrix(
  confusion: readonly (readonly number[])[],
  labels: readonly string[],
  options: { maxLabelWidth?: number } = {},
): string {
  const maxW = Math.max(2, options.maxLabelWidth ?? 16);
  const short = labels.map((l) => (l.length > maxW ? `${l.slice(0, maxW - 1)}…` : l));
  const corner = 'true \\ pred';
  const rowHeadW = Math.max(corner.length, ...short.map((l) => l.length));
  const colW = short.map((l, c) => Math.max(l.length, ...confusion.map((r) => String(r[c] ?? 0).length)));
  const lines = [[corner.padEnd(rowHeadW), ...short.map((l, c) => l.padStart(colW[c]))].join('  ')];
  confusion.forEach((r, t) => {
    lines.push([short[t].padEnd(rowHeadW), ...colW.map((w, c) => String(r[c] ?? 0).padStart(w))].join('  '));
  });
  return lines.join('\n');
}
