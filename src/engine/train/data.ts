/**
 * Model-independent data handling for fine-tuning: label vocabulary, stratified train/dev split,
 * data validation with row-numbered issues, and length-bucketed dynamic-padding batches.
 *
 * Everything here is plain TypeScript on plain arrays (no tfjs): batches come back as typed arrays
 * that the training loop uploads once per step.
 */
import { EngineError } from '../errors';
import { Rng } from '../util/rng';

/** One training/eval example as read from the user's file. */
export interface Example {
  /** First text segment. */
  text: string;
  /** Optional second segment (sentence-pair tasks, e.g. NLI): encoded as `[CLS] a [SEP] b [SEP]`. */
  textPair?: string;
  /** Class name, or null for an unlabeled row (used for prediction, ignored by supervised training). */
  label: string | null;
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
      `${tooSmall.length} class(es) are too small to hold out any dev row and are kept entirely in train: ` +
        `${tooSmall.slice(0, 10).join(', ')}${tooSmall.length > 10 ? ', …' : ''}. Dev metrics will not cover them; add rows to measure them.`,
    );
  }
  if (unlabeledIndices.length > 0) {
    notes.push(`${unlabeledIndices.length} unlabeled row(s) are left out of both train and dev.`);
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

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

export type IssueSeverity = 'error' | 'warning' | 'info';

export type IssueCode =
  | 'NO_LABELED_ROWS'
  | 'SINGLE_CLASS'
  | 'CLASS_MISSING_FROM_TRAIN'
  | 'EMPTY_TEXT'
  | 'UNLABELED_ROWS'
  | 'DUPLICATE_ROWS'
  | 'CONFLICTING_LABELS'
  | 'DEV_DUPLICATES_TRAIN'
  | 'TEXT_TOO_LONG';

export interface DataIssue {
  code: IssueCode;
  /** `error` blocks training; `warning` changes the data or likely hurts results; `info` is FYI. */
  severity: IssueSeverity;
  /** Which set the rows belong to. */
  set: 'train' | 'dev';
  /** 0-based indices into the array passed in (the display row numbers are `index + rowBase`). */
  rows: number[];
  /** Number of affected rows (same as rows.length). */
  count: number;
  /** What is wrong, where (row numbers) and what to do. */
  message: string;
  /** What the engine will do about it. */
  action: string;
}

export interface ValidateOptions {
  /**
   * Number shown for the row at index 0 in messages. Default 1 (first data row = row 1). A CSV
   * loader with a header line passes 2 so messages match the line numbers in the file.
   */
  rowBase?: number;
  /** Token count of an example including special tokens; enables the over-long check. */
  tokenLength?: (ex: Example) => number;
  /** Length above which examples are truncated (needs `tokenLength`). */
  maxLength?: number;
}

export interface ValidationResult {
  issues: DataIssue[];
  /** True when there is no `error` issue. */
  ok: boolean;
  /** Train rows that will be used (empty texts, exact duplicates and unlabeled rows removed). */
  train: Example[];
  /** Indices (into the train input) of the rows kept. */
  trainRows: number[];
  dev: Example[];
  devRows: number[];
}

/** At most this many row numbers are spelled out in a message; `rows` always has all of them. */
const MAX_ROWS_IN_MESSAGE = 10;

function rowList(rows: readonly number[], base: number): string {
  const shown = rows.slice(0, MAX_ROWS_IN_MESSAGE).map((r) => r + base);
  const more = rows.length - shown.length;
  return `${rows.length === 1 ? 'row' : 'rows'} ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** Key that identifies an input irrespective of surrounding whitespace. */
function textKey(ex: Example): string {
  const pair = ex.textPair === undefined ? '' : ex.textPair.trim();
  return `${ex.text.trim()}\u0000${ex.textPair === undefined ? '' : '\u0001'}${pair}`;
}

function isBlank(ex: Example): boolean {
  return typeof ex.text !== 'string' || ex.text.trim() === '';
}

/**
 * Checks the training (and optional dev) data and says, per problem, which rows, how bad, and what
 * will happen. Nothing is thrown: the caller shows the issues and refuses to train when `ok` is
 * false. Rules:
 * - empty / whitespace-only text → warning, rows dropped (both sets);
 * - unlabeled train rows → info, not used for training (dev rows without a label are dropped too);
 * - exact duplicates (same trimmed text/pair and label) → warning, later copies dropped;
 * - same text with different labels → warning, all kept (fix the labels: the model cannot fit both);
 * - dev rows identical to a train row → warning, dropped from dev (they would inflate dev scores);
 * - no labeled train rows → error; only one class → error;
 * - a dev class with no train rows → error (the model cannot learn a class it never sees);
 * - texts longer than `maxLength` tokens → info, truncated.
 */
export function validateTrainingData(
  train: readonly Example[],
  dev?: readonly Example[],
  options: ValidateOptions = {},
): ValidationResult {
  const base = options.rowBase ?? 1;
  const issues: DataIssue[] = [];
  const add = (issue: Omit<DataIssue, 'count'>) => {
    if (issue.rows.length > 0 || issue.severity === 'error') issues.push({ ...issue, count: issue.rows.length });
  };

  // --- train ---
  const emptyTrain: number[] = [];
  const unlabeledTrain: number[] = [];
  const dupTrain: number[] = [];
  const firstByKey = new Map<string, number>(); // key -> first kept train row
  const labelsByKey = new Map<string, Map<string, number[]>>(); // key -> label -> rows
  const trainRows: number[] = [];
  train.forEach((ex, i) => {
    if (isBlank(ex)) return void emptyTrain.push(i);
    if (ex.label === null || ex.label === undefined) return void unlabeledTrain.push(i);
    const key = textKey(ex);
    let labels = labelsByKey.get(key);
    if (!labels) labelsByKey.set(key, (labels = new Map()));
    let rowsForLabel = labels.get(ex.label);
    if (!rowsForLabel) labels.set(ex.label, (rowsForLabel = []));
    rowsForLabel.push(i);
    if (rowsForLabel.length > 1) return void dupTrain.push(i);
    if (!firstByKey.has(key)) firstByKey.set(key, i);
    trainRows.push(i);
  });
  const conflictRows: number[] = [];
  for (const labels of labelsByKey.values()) {
    if (labels.size > 1) for (const rows of labels.values()) conflictRows.push(...rows);
  }
  conflictRows.sort((a, b) => a - b);

  add({
    code: 'EMPTY_TEXT',
    severity: 'warning',
    set: 'train',
    rows: emptyTrain,
    message: `${emptyTrain.length} training row(s) have an empty or whitespace-only text: ${rowList(emptyTrain, base)}.`,
    action: 'These rows are dropped. Fill in the text or delete the rows to silence this warning.',
  });
  add({
    code: 'UNLABELED_ROWS',
    severity: 'info',
    set: 'train',
    rows: unlabeledTrain,
    message: `${unlabeledTrain.length} training row(s) have no label: ${rowList(unlabeledTrain, base)}.`,
    action: 'They are not used for training; you can run predictions on them after training.',
  });
  add({
    code: 'DUPLICATE_ROWS',
    severity: 'warning',
    set: 'train',
    rows: dupTrain,
    message: `${dupTrain.length} training row(s) repeat an earlier row with the same text and label: ${rowList(dupTrain, base)}.`,
    action: 'The first copy is kept and the repeats are dropped, so no example counts twice.',
  });
  add({
    code: 'CONFLICTING_LABELS',
    severity: 'warning',
    set: 'train',
    rows: conflictRows,
    message: `${conflictRows.length} training row(s) have the same text as another row but a different label: ${rowList(conflictRows, base)}.`,
    action: 'All of them are kept, but the model cannot fit both labels; decide on one label per text.',
  });

  const trainLabelCounts = new Map<string, number>();
  for (const i of trainRows) {
    const l = train[i].label as string;
    trainLabelCounts.set(l, (trainLabelCounts.get(l) ?? 0) + 1);
  }
  if (trainRows.length === 0) {
    add({
      code: 'NO_LABELED_ROWS',
      severity: 'error',
      set: 'train',
      rows: [],
      message: `There are no usable labeled training rows (${train.length} row(s) read, ${emptyTrain.length} empty, ${unlabeledTrain.length} unlabeled).`,
      action: 'Training cannot start. Check that the label column is chosen correctly and filled in.',
    });
  } else if (trainLabelCounts.size === 1) {
    const only = [...trainLabelCounts.keys()][0];
    add({
      code: 'SINGLE_CLASS',
      severity: 'error',
      set: 'train',
      rows: [],
      message: `All ${trainRows.length} usable training rows have the same label "${only}"; a classifier needs at least two classes.`,
      action: 'Training cannot start. Add rows of at least one other class.',
    });
  }

  // --- dev ---
  const devRows: number[] = [];
  if (dev) {
    const emptyDev: number[] = [];
    const unlabeledDev: number[] = [];
    const leakDev: number[] = [];
    const missingByLabel = new Map<string, number[]>();
    dev.forEach((ex, i) => {
      if (isBlank(ex)) return void emptyDev.push(i);
      if (ex.label === null || ex.label === undefined) return void unlabeledDev.push(i);
      if (labelsByKey.has(textKey(ex))) return void leakDev.push(i);
      if (!trainLabelCounts.has(ex.label)) {
        let r = missingByLabel.get(ex.label);
        if (!r) missingByLabel.set(ex.label, (r = []));
        r.push(i);
      }
      devRows.push(i);
    });
    add({
      code: 'EMPTY_TEXT',
      severity: 'warning',
      set: 'dev',
      rows: emptyDev,
      message: `${emptyDev.length} dev row(s) have an empty or whitespace-only text: ${rowList(emptyDev, base)}.`,
      action: 'These rows are dropped from dev.',
    });
    add({
      code: 'UNLABELED_ROWS',
      severity: 'info',
      set: 'dev',
      rows: unlabeledDev,
      message: `${unlabeledDev.length} dev row(s) have no label: ${rowList(unlabeledDev, base)}.`,
      action: 'They cannot be scored and are dropped from dev.',
    });
    add({
      code: 'DEV_DUPLICATES_TRAIN',
      severity: 'warning',
      set: 'dev',
      rows: leakDev,
      message: `${leakDev.length} dev row(s) have the same text as a training row: ${rowList(leakDev, base)}.`,
      action:
        'They are dropped from dev, because scoring the model on rows it trained on would overstate its accuracy.',
    });
    for (const [label, rows] of missingByLabel) {
      add({
        code: 'CLASS_MISSING_FROM_TRAIN',
        severity: 'error',
        set: 'dev',
        rows,
        message: `Class "${label}" appears in dev (${rowList(rows, base)}) but has no usable training rows.`,
        action: `Training cannot start. Add training rows labeled "${label}" or remove those dev rows.`,
      });
    }
  }

  // --- length ---
  if (options.tokenLength && options.maxLength !== undefined) {
    const check = (set: 'train' | 'dev', data: readonly Example[], rows: number[]) => {
      const long = rows.filter((i) => options.tokenLength!(data[i]) > options.maxLength!);
      add({
        code: 'TEXT_TOO_LONG',
        severity: 'info',
        set,
        rows: long,
        message: `${long.length} ${set} row(s) are longer than ${options.maxLength} tokens: ${rowList(long, base)}.`,
        action: `They are truncated to ${options.maxLength} tokens; raise the maximum length if the end of the text matters.`,
      });
    };
    check('train', train, trainRows);
    if (dev) check('dev', dev, devRows);
  }

  return {
    issues,
    ok: !issues.some((i) => i.severity === 'error'),
    train: trainRows.map((i) => train[i]),
    trainRows,
    dev: dev ? devRows.map((i) => dev[i]) : [],
    devRows,
  };
}

// ---------------------------------------------------------------------------------------------
// Batching
// ---------------------------------------------------------------------------------------------

/** One tokenized example (tokenization, specials and truncation happen elsewhere). */
export interface EncodedExample {
  /** Token ids including [CLS]/[SEP]; length <= maxLength. */
  inputIds: ArrayLike<number>;
  /** Segment ids (0/1), same length as inputIds; all 0 when omitted. */
  tokenTypeIds?: ArrayLike<number>;
  /** Class index, or -1 for unlabeled (prediction). */
  label: number;
}

export interface BatchOptions {
  batchSize: number;
  /** Seed of the run; each epoch uses the substream `fork('batches:epoch:' + epoch)`. */
  seed?: number;
  /** Epoch number (0-based); different epochs give different orders, the same epoch the same order. */
  epoch?: number;
  /** Pad T up to a multiple of this (default 8) so few distinct tensor shapes exist (DESIGN §7). */
  padMultiple?: number;
  /** Longest allowed sequence; examples longer than this are an error (truncate when tokenizing). */
  maxLength: number;
  /** Token id used for padding (default 0, BERT's [PAD]). */
  padId?: number;
  /**
   * Shuffle (default true, for training). With false (eval/predict) the examples are sorted by
   * length over the whole set and batched in that order, which minimises padding; use
   * `Batch.indices` to put results back in input order.
   */
  shuffle?: boolean;
  /**
   * Bucketing window in batches (default 50): after the shuffle, each window of
   * `sortWindowBatches * batchSize` examples is sorted by length and cut into batches, then the
   * order of all batches is shuffled. Larger windows mean less padding but less randomness in
   * which examples share a batch.
   */
  sortWindowBatches?: number;
  /** Drop the last incomplete batch (default false: every example is seen once per epoch). */
  dropLast?: boolean;
}

export interface Batch {
  /** [B*T] row-major token ids, padded with padId. */
  inputIds: Int32Array;
  /** [B*T] segment ids, 0 in padding. */
  tokenTypeIds: Int32Array;
  /** [B*T] 1 for real tokens, 0 for padding. */
  attentionMask: Int32Array;
  /** [B] class indices (-1 = unlabeled). */
  labels: Int32Array;
  /** Rows B. */
  batchSize: number;
  /** Padded sequence length T (multiple of padMultiple, or maxLength when that is smaller). */
  seqLen: number;
  /** [B] index into the encoded input of each row. */
  indices: Int32Array;
}

/** Rounds `n` up to a multiple of `m`. */
export function roundUpToMultiple(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/**
 * Builds the batches of one epoch. Order: seeded shuffle of all examples → within windows of
 * `sortWindowBatches * batchSize` examples, a stable sort by length → cut into batches → seeded
 * shuffle of the batch order. Each batch is padded to its longest row rounded up to `padMultiple`
 * (capped at maxLength), so at most `ceil(maxLength / padMultiple)` distinct lengths and two
 * distinct batch sizes occur, which keeps the WebGPU buffer pool and shader cache bounded.
 */
export function makeBatches(encoded: readonly EncodedExample[], options: BatchOptions): Batch[] {
  const { batchSize, maxLength } = options;
  const padMultiple = options.padMultiple ?? 8;
  const padId = options.padId ?? 0;
  const shuffle = options.shuffle ?? true;
  const windowBatches = options.sortWindowBatches ?? 50;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new EngineError('BATCH_BAD_OPTIONS', `batchSize must be a positive integer, got ${batchSize}.`);
  }
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new EngineError('BATCH_BAD_OPTIONS', `maxLength must be a positive integer, got ${maxLength}.`);
  }
  if (!Number.isInteger(padMultiple) || padMultiple < 1) {
    throw new EngineError('BATCH_BAD_OPTIONS', `padMultiple must be a positive integer, got ${padMultiple}.`);
  }
  if (!Number.isInteger(windowBatches) || windowBatches < 1) {
    throw new EngineError('BATCH_BAD_OPTIONS', `sortWindowBatches must be a positive integer, got ${windowBatches}.`);
  }
  encoded.forEach((ex, i) => {
    const len = ex.inputIds.length;
    if (len === 0) {
      throw new EngineError(
        'BATCH_EMPTY_EXAMPLE',
        `Encoded example ${i} has no tokens; every example needs at least [CLS] and [SEP].`,
      );
    }
    if (len > maxLength) {
      throw new EngineError(
        'BATCH_EXAMPLE_TOO_LONG',
        `Encoded example ${i} has ${len} tokens but maxLength is ${maxLength}; truncate to maxLength when tokenizing.`,
      );
    }
    if (ex.tokenTypeIds && ex.tokenTypeIds.length !== len) {
      throw new EngineError(
        'BATCH_BAD_EXAMPLE',
        `Encoded example ${i} has ${len} input ids but ${ex.tokenTypeIds.length} token type ids; they must have the same length.`,
      );
    }
  });

  const order = Array.from({ length: encoded.length }, (_, i) => i);
  const byLength = (a: number, b: number) => encoded[a].inputIds.length - encoded[b].inputIds.length;
  const groups: number[][] = [];
  const cut = (rows: number[]) => {
    for (let s = 0; s < rows.length; s += batchSize) groups.push(rows.slice(s, s + batchSize));
  };
  if (shuffle) {
    const rng = new Rng(options.seed ?? 0).fork(`batches:epoch:${options.epoch ?? 0}`);
    rng.shuffle(order);
    const window = windowBatches * batchSize;
    for (let s = 0; s < order.length; s += window) {
      cut(order.slice(s, s + window).sort(byLength)); // Array.prototype.sort is stable (ES2019)
    }
    if (options.dropLast) dropIncomplete(groups, batchSize);
    rng.shuffle(groups);
  } else {
    cut(order.sort(byLength));
    if (options.dropLast) dropIncomplete(groups, batchSize);
  }
  return groups.map((rows) => packBatch(encoded, rows, padMultiple, maxLength, padId));
}

function dropIncomplete(groups: number[][], batchSize: number): void {
  for (let g = groups.length - 1; g >= 0; g--) if (groups[g].length < batchSize) groups.splice(g, 1);
}

function packBatch(
  encoded: readonly EncodedExample[],
  rows: number[],
  padMultiple: number,
  maxLength: number,
  padId: number,
): Batch {
  let longest = 0;
  for (const r of rows) longest = Math.max(longest, encoded[r].inputIds.length);
  const T = Math.min(roundUpToMultiple(longest, padMultiple), maxLength);
  const B = rows.length;
  const inputIds = new Int32Array(B * T).fill(padId);
  const tokenTypeIds = new Int32Array(B * T);
  const attentionMask = new Int32Array(B * T);
  const labels = new Int32Array(B);
  const indices = new Int32Array(B);
  rows.forEach((r, b) => {
    const ex = encoded[r];
    const off = b * T;
    const len = ex.inputIds.length;
    for (let t = 0; t < len; t++) {
      inputIds[off + t] = ex.inputIds[t];
      attentionMask[off + t] = 1;
    }
    if (ex.tokenTypeIds) for (let t = 0; t < len; t++) tokenTypeIds[off + t] = ex.tokenTypeIds[t];
    labels[b] = ex.label;
    indices[b] = r;
  });
  return { inputIds, tokenTypeIds, attentionMask, labels, batchSize: B, seqLen: T, indices };
}

/** Number of distinct [B, T] shapes among `batches` (each is a new set of GPU buffers/pipelines). */
export function countDistinctShapes(batches: readonly Pick<Batch, 'batchSize' | 'seqLen'>[]): number {
  return new Set(batches.map((b) => `${b.batchSize}x${b.seqLen}`)).size;
}

/** A batch from already padded rows (e.g. golden fixtures): [B][T] ids, type ids and mask, labels [B]. */
export function batchFromRows(rows: {
  inputIds: number[][];
  tokenTypeIds: number[][];
  attentionMask: number[][];
  labels: number[];
}): Batch {
  const B = rows.inputIds.length;
  const T = rows.inputIds[0]?.length ?? 0;
  if (
    rows.tokenTypeIds.length !== B ||
    rows.attentionMask.length !== B ||
    rows.labels.length !== B ||
    rows.inputIds.some((r) => r.length !== T)
  ) {
    throw new EngineError(
      'BATCH_BAD_ROWS',
      `batchFromRows needs ${B} rows of ${T} ids, type ids and mask values and ${B} labels.`,
    );
  }
  return {
    inputIds: Int32Array.from(rows.inputIds.flat()),
    tokenTypeIds: Int32Array.from(rows.tokenTypeIds.flat()),
    attentionMask: Int32Array.from(rows.attentionMask.flat()),
    labels: Int32Array.from(rows.labels),
    batchSize: B,
    seqLen: T,
    indices: Int32Array.from({ length: B }, (_, i) => i),
  };
}
