/**
 * Data validation with row-numbered issues: the one implementation behind both what training
 * refuses or drops and what the Data panel reports (summarizeDataset in ./summary.ts builds on
 * it), so the two can never disagree.
 */
import { EngineError } from '../errors';
import { agree, counted } from '../util/words';
import type { Example } from './dataset';

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
  | 'MISSING_LABEL_MARKERS'
  | 'LABELS_SAME_NUMBER'
  | 'TEXT_TOO_LONG';

export interface DataIssue {
  code: IssueCode;
  /** `error` blocks training; `warning` changes the data or likely hurts results; `info` is FYI. */
  severity: IssueSeverity;
  /** Which set the rows belong to. */
  set: 'train' | 'dev';
  /** 0-based indices into the array passed in (messages show each example's `row`, else `index + rowBase`). */
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
   * Number shown for the example at index 0 in messages when examples carry no `row` of their
   * own. Default 1 (first data row = row 1).
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
  /** Train indices of rows repeating the same text and label, one group per text (first copy kept). */
  duplicateGroups: number[][];
  /** Train indices of labeled rows sharing a text with rows of another label, one group per text. */
  conflictGroups: number[][];
}

/** At most this many row numbers are spelled out in a message; `rows` always has all of them. */
const MAX_ROWS_IN_MESSAGE = 10;

function rowList(rows: readonly number[], rowOf: (index: number) => number): string {
  const shown = rows.slice(0, MAX_ROWS_IN_MESSAGE).map(rowOf);
  const more = rows.length - shown.length;
  return `${rows.length === 1 ? 'row' : 'rows'} ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/** Text as the tokenizer sees it: surrounding whitespace dropped, inner runs as one space. */
function normalizeSpaces(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

/** Key that identifies an input irrespective of whitespace the tokenizer ignores. */
export function textKey(ex: Pick<Example, 'text' | 'textPair'>): string {
  const pair = ex.textPair === undefined ? '' : normalizeSpaces(ex.textPair);
  return `${normalizeSpaces(ex.text)}\u0000${ex.textPair === undefined ? '' : '\u0001'}${pair}`;
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
 * - duplicates (same text/pair up to whitespace, same label) → warning, later copies dropped;
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
  const trainRowOf = (i: number) => train[i].row ?? i + base;
  const devRowOf = (i: number) => dev?.[i].row ?? i + base;
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
  const duplicateGroups: number[][] = [];
  const conflictGroups: number[][] = [];
  for (const labels of labelsByKey.values()) {
    for (const rows of labels.values()) if (rows.length > 1) duplicateGroups.push(rows);
    if (labels.size > 1) {
      const group = [...labels.values()].flat().sort((a, b) => a - b);
      conflictGroups.push(group);
      conflictRows.push(...group);
    }
  }
  conflictRows.sort((a, b) => a - b);
  duplicateGroups.sort((a, b) => a[0] - b[0]);

  add({
    code: 'EMPTY_TEXT',
    severity: 'warning',
    set: 'train',
    rows: emptyTrain,
    message: `${counted(emptyTrain.length, 'training row')} ${agree(emptyTrain.length, 'has', 'have')} an empty or whitespace-only text: ${rowList(emptyTrain, trainRowOf)}.`,
    action: 'These rows are dropped. Fill in the text or delete the rows to silence this warning.',
  });
  add({
    code: 'UNLABELED_ROWS',
    severity: 'info',
    set: 'train',
    rows: unlabeledTrain,
    message: `${counted(unlabeledTrain.length, 'training row')} ${agree(unlabeledTrain.length, 'has', 'have')} no label: ${rowList(unlabeledTrain, trainRowOf)}.`,
    action: 'They are not used for training; you can run predictions on them after training.',
  });
  const markerRows = unlabeledTrain.filter((i) => train[i].missingLabel !== undefined);
  const markers = [...new Set(markerRows.map((i) => `"${train[i].missingLabel}"`))];
  add({
    code: 'MISSING_LABEL_MARKERS',
    severity: 'info',
    set: 'train',
    rows: markerRows,
    message: `${counted(markerRows.length, 'training row')} ${agree(markerRows.length, 'has', 'have')} the label ${markers.join(', ')}, read as no label: ${rowList(markerRows, trainRowOf)}.`,
    action: 'They are not used for training. If it is a real class name, rename it (e.g. "none_of_these").',
  });
  add({
    code: 'DUPLICATE_ROWS',
    severity: 'warning',
    set: 'train',
    rows: dupTrain,
    message: `${counted(dupTrain.length, 'training row')} ${agree(dupTrain.length, 'repeats', 'repeat')} an earlier row with the same text and label: ${rowList(dupTrain, trainRowOf)}.`,
    action: 'The first copy is kept and the repeats are dropped, so no example counts twice.',
  });
  add({
    code: 'CONFLICTING_LABELS',
    severity: 'warning',
    set: 'train',
    rows: conflictRows,
    message: `${counted(conflictRows.length, 'training row')} ${agree(conflictRows.length, 'has', 'have')} the same text as another row but a different label: ${rowList(conflictRows, trainRowOf)}.`,
    action: 'All of them are kept, but the model cannot fit both labels; decide on one label per text.',
  });

  const trainLabelCounts = new Map<string, number>();
  for (const i of trainRows) {
    const l = train[i].label as string;
    trainLabelCounts.set(l, (trainLabelCounts.get(l) ?? 0) + 1);
  }
  // "1" and "1.0" are two classes to the model; say so when labels only differ as written numbers.
  const byNumber = new Map<number, string[]>();
  for (const label of trainLabelCounts.keys()) {
    const n = label.trim() === '' ? NaN : Number(label);
    if (Number.isFinite(n)) byNumber.set(n, [...(byNumber.get(n) ?? []), label]);
  }
  const aliases = [...byNumber.values()].filter((names) => names.length > 1);
  if (aliases.length > 0) {
    const aliasRows = trainRows.filter((i) => aliases.some((names) => names.includes(train[i].label as string)));
    add({
      code: 'LABELS_SAME_NUMBER',
      severity: 'warning',
      set: 'train',
      rows: aliasRows,
      message: `Labels ${aliases.map((names) => names.map((n) => `"${n}"`).join(' and ')).join('; ')} are the same number written differently, so they are different classes: ${rowList(aliasRows, trainRowOf)}.`,
      action: 'If they mean the same class, write them the same way in the file.',
    });
  }
  if (trainRows.length === 0) {
    add({
      code: 'NO_LABELED_ROWS',
      severity: 'error',
      set: 'train',
      rows: [],
      message: `There are no usable labeled training rows (${counted(train.length, 'row')} read, ${emptyTrain.length} empty, ${unlabeledTrain.length} unlabeled).`,
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
      message: `${counted(emptyDev.length, 'dev row')} ${agree(emptyDev.length, 'has', 'have')} an empty or whitespace-only text: ${rowList(emptyDev, devRowOf)}.`,
      action: 'These rows are dropped from dev.',
    });
    add({
      code: 'UNLABELED_ROWS',
      severity: 'info',
      set: 'dev',
      rows: unlabeledDev,
      message: `${counted(unlabeledDev.length, 'dev row')} ${agree(unlabeledDev.length, 'has', 'have')} no label: ${rowList(unlabeledDev, devRowOf)}.`,
      action: 'They cannot be scored and are dropped from dev.',
    });
    add({
      code: 'DEV_DUPLICATES_TRAIN',
      severity: 'warning',
      set: 'dev',
      rows: leakDev,
      message: `${counted(leakDev.length, 'dev row')} ${agree(leakDev.length, 'has', 'have')} the same text as a training row: ${rowList(leakDev, devRowOf)}.`,
      action:
        'They are dropped from dev, because scoring the model on rows it trained on would overstate its accuracy.',
    });
    for (const [label, rows] of missingByLabel) {
      add({
        code: 'CLASS_MISSING_FROM_TRAIN',
        severity: 'error',
        set: 'dev',
        rows,
        message: `Class "${label}" appears in dev (${rowList(rows, devRowOf)}) but has no usable training rows.`,
        action: `Training cannot start. Add training rows labeled "${label}" or remove those dev rows.`,
      });
    }
  }

  // --- length ---
  if (options.tokenLength && options.maxLength !== undefined) {
    const check = (set: 'train' | 'dev', data: readonly Example[], rows: number[], rowOf: (i: number) => number) => {
      const long = rows.filter((i) => options.tokenLength!(data[i]) > options.maxLength!);
      add({
        code: 'TEXT_TOO_LONG',
        severity: 'info',
        set,
        rows: long,
        message: `${counted(long.length, `${set} row`)} ${agree(long.length, 'is', 'are')} longer than ${options.maxLength} tokens: ${rowList(long, rowOf)}.`,
        action: `They are truncated to ${options.maxLength} tokens; raise the maximum length if the end of the text matters.`,
      });
    };
    check('train', train, trainRows, trainRowOf);
    if (dev) check('dev', dev, devRows, devRowOf);
  }

  return {
    issues,
    ok: !issues.some((i) => i.severity === 'error'),
    train: trainRows.map((i) => train[i]),
    trainRows,
    dev: dev ? devRows.map((i) => dev[i]) : [],
    devRows,
    duplicateGroups,
    conflictGroups,
  };
}

/**
 * validateTrainingData for a run about to start: throws TRAIN_INVALID_DATA listing the blocking
 * issues when the rows cannot be trained on (every method refuses the same way); otherwise returns
 * the result, warnings included.
 */
export function requireTrainingData(train: readonly Example[], dev?: readonly Example[]): ValidationResult {
  const result = validateTrainingData(train, dev);
  if (!result.ok) {
    throw new EngineError(
      'TRAIN_INVALID_DATA',
      result.issues
        .filter((i) => i.severity === 'error')
        .map((i) => i.message)
        .join(' '),
    );
  }
  return result;
}
