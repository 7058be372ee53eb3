/**
 * A labeled dataset as training sees it: examples, the label vocabulary and the stratified
 * train/dev split. Plain TypeScript on plain arrays (no tfjs). Validation of the same rows lives in
 * ./validate.ts, and the Data panel's summary is computed from it, so both always agree.
 */
import { EngineError } from '../errors';
import { agree, counted } from '../util/words';
import { Rng } from '../util/rng';

/** One training/eval example as read from the user's file. */
export interface Example {
  /** First text segment. */
  text: string;
  /** Optional second segment (sentence-pair tasks, e.g. NLI): encoded as `[CLS] a [SEP] b [SEP]`. */
  textPair?: string;
  /** Class name, or null for an unlabeled row (used for prediction, ignored by supervised training). */
  label: string | null;
  /** 1-based row in the source file, when known: validation messages cite it. */
  row?: number;
  /** The label cell's text when it was a missing-value marker ("NaN", "N/A", …) read as no label. */
  missingLabel?: string;
}

// ---------------------------------------------------------------------------------------------
// Label vocabulary
// ---------------------------------------------------------------------------------------------

/**
 * Class names in first-seen order, skipping unlabeled rows. First-seen (not sorted) so that the
 * order the user sees in their file is the order in the UI; the list is saved with the model
 * (`id2label`), so it never has to be rebuilt identically later.
 */
export function buildLabelVocab(examples: readonly Example[]): string[] {
  const seen = new Set<string>();
  const vocab: string[] = [];
  for (const ex of examples) {
    if (ex.label === null || ex.label === undefined) continue;
    if (!seen.has(ex.label)) {
      seen.add(ex.label);
      vocab.push(ex.label);
    }
  }
  return vocab;
}

// ---------------------------------------------------------------------------------------------
// Stratified split
// ---------------------------------------------------------------------------------------------

export interface SplitOptions {
  /**
   * Fraction of each class held out for dev. Default 0.2: the usual 80/20 split; with few-shot data
   * (5–20 rows per class) it leaves 1–4 dev rows per class, enough to catch a broken run while
   * keeping most rows for training.
   */
  devFraction?: number;
  /** Seed of the split (each class uses its own substream, so adding a class never reshuffles others). */
  seed?: number;
}

export interface SplitClassReport {
  label: string;
  total: number;
  train: number;
  dev: number;
}

export interface SplitResult {
  train: Example[];
  dev: Example[];
  /** Indices into the input array, ascending (the input order is kept inside each part). */
  trainIndices: number[];
  devIndices: number[];
  /** Rows with `label === null`; they go to neither part. */
  unlabeledIndices: number[];
  /** Per class, in label-vocabulary order. */
  perClass: SplitClassReport[];
  /** Human-readable notes about what happened (e.g. classes too small to hold any dev row). */
  notes: string[];
}

/**
 * Splits labeled examples into train and dev per class. For a class of n rows, dev gets
 * `round(n * devFraction)` rows, but never all of them: a class with 1 row keeps it in train, and
 * a class with 2+ rows keeps at least 1 in train. Which rows go to dev is chosen by a seeded
 * shuffle of each class's own substream (`Rng(seed).fork('split:' + label)`).
 */
export function stratifiedSplit(examples: readonly Example[], options: SplitOptions = {}): SplitResult {
  const devFraction = options.devFraction ?? 0.2;
  const seed = options.seed ?? 0;
  if (!(devFraction >= 0 && devFraction < 1)) {
    throw new EngineError(
      'SPLIT_BAD_FRACTION',
      `devFraction must be in [0, 1), got ${devFraction}. Use e.g. 0.2 for an 80/20 split.`,
    );
  }
  const rng = new Rng(seed);
  const byClass = new Map<string, number[]>();
  const unlabeledIndices: number[] = [];
  examples.forEach((ex, i) => {
    if (ex.label === null || ex.label === undefined) {
      unlabeledIndices.push(i);
      return;
    }
    let list = byClass.get(ex.label);
    if (!list) byClass.set(ex.label, (list = []));
    list.push(i);
  });

  const isDev = new Uint8Array(examples.length);
  const perClass: SplitClassReport[] = [];
  const notes: string[] = [];
  const tooSmall: string[] = [];
  for (const [label, rows] of byClass) {
    const n = rows.length;
    let nDev = Math.round(n * devFraction);
    nDev = Math.min(nDev, n - 1); // keep >= 1 in train (n = 1 -> 0 dev)
    if (nDev === 0 && devFraction > 0) tooSmall.push(`"${label}" (${n})`);
    const order = rng.fork(`split:${label}`).shuffle(rows.slice());
    for (let k = 0; k < nDev; k++) isDev[order[k]] = 1;
    perClass.push({ label, total: n, train: n - nDev, dev: nDev });
  }
  if (tooSmall.length > 0) {
    notes.push(
      `${tooSmall.length === 1 ? '1 class is too small to hold out any dev row and is' : `${tooSmall.length} classes are too small to hold out any dev row and are`} kept entirely in train: ` +
        `${tooSmall.slice(0, 10).join(', ')}${tooSmall.length > 10 ? ', …' : ''}. Dev metrics will not cover them; add rows to measure them.`,
    );
  }
  if (unlabeledIndices.length > 0) {
    notes.push(
      `${counted(unlabeledIndices.length, 'unlabeled row')} ${agree(unlabeledIndices.length, 'is', 'are')} left out of both train and dev.`,
    );
  }

  const trainIndices: number[] = [];
  const devIndices: number[] = [];
  examples.forEach((ex, i) => {
    if (ex.label === null || ex.label === undefined) return;
    (isDev[i] ? devIndices : trainIndices).push(i);
  });
  return {
    train: trainIndices.map((i) => examples[i]),
    dev: devIndices.map((i) => examples[i]),
    trainIndices,
    devIndices,
    unlabeledIndices,
    perClass,
    notes,
  };
}
