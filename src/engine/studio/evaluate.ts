/**
 * Scoring a trained model on labeled rows: predictions through the model's own method (its saved
 * prompt, else the classifier head) and the usual metrics. `fewshot eval` scores a file it read
 * with `evaluateModel`; the studio's Evaluate panel reads a dropped test file with the Data panel's
 * parser and column detection (`parseDataset`) and scores it with the same `evaluateModel`
 * (`evaluateFile`), in chunks through the worker's queue like `predictFile` (docs/ARCHITECTURE.md,
 * "The door").
 */
import type { Example } from '../data/dataset';
import type { ColumnMapping } from '../data/types';
import { EngineError } from '../errors';
import { computeMetrics, type Metrics } from '../train/metrics';
import { parseDataset } from './data';
import type { FewShotModel, Prediction } from './fewshot-model';
import { PREDICT_CHUNK_ROWS, type PredictFileOptions } from './predict-file';

export interface EvaluateOptions {
  maxLength?: number;
  /** Names the data in messages ("test.csv"); default "The data". */
  source?: string;
  /** Runs one chunk's prediction (the worker passes its queue); default: now. */
  runChunk?: PredictFileOptions['runChunk'];
  /** Rows scored so far, after each chunk. */
  onProgress?: (done: number, total: number) => void;
  rowsPerChunk?: number;
}

/** How many unknown labels a message lists, with the row of their first occurrence. */
const LISTED_UNKNOWN = 5;

/**
 * Metrics of the model on the labeled rows (unlabeled rows are left out). Refused before any
 * prediction: a label the model does not know (EVAL_UNKNOWN_LABELS, naming the row and the label),
 * no labeled row (EVAL_NO_LABELS), a model with no labels (MODEL_NO_CLASSIFIER).
 */
export async function evaluateModel(
  model: FewShotModel,
  rows: readonly Example[],
  options: EvaluateOptions = {},
): Promise<Metrics> {
  const labels = [...model.labels];
  const source = options.source ?? 'The data';
  if (labels.length === 0)
    throw new EngineError(
      'MODEL_NO_CLASSIFIER',
      'This model has no labels yet: train it (or load a fine-tuned model) before evaluating it.',
    );
  const firstRow = new Map<string, number>();
  rows.forEach((r, i) => {
    if (r.label !== null && !labels.includes(r.label) && !firstRow.has(r.label)) firstRow.set(r.label, r.row ?? i + 1);
  });
  if (firstRow.size > 0) {
    const listed = [...firstRow]
      .slice(0, LISTED_UNKNOWN)
      .map(([label, row]) => `row ${row} has "${label}"`)
      .join(', ');
    const more = firstRow.size > LISTED_UNKNOWN ? ` and ${firstRow.size - LISTED_UNKNOWN} more unknown labels` : '';
    throw new EngineError(
      'EVAL_UNKNOWN_LABELS',
      `${source} has labels the model does not know: ${listed}${more}. The model's labels are ${labels.map((l) => `"${l}"`).join(', ')}; fix or remove those rows, or evaluate a model trained on these labels.`,
    );
  }
  const labeled = rows.filter((r) => r.label !== null);
  if (labeled.length === 0) throw new EngineError('EVAL_NO_LABELS', `${source} has no labeled rows to evaluate on.`);
  const run = options.runChunk ?? (<T>(predict: () => Promise<T>) => predict());
  const chunkRows = Math.max(1, options.rowsPerChunk ?? PREDICT_CHUNK_ROWS);
  const predictions: Prediction[] = [];
  for (let start = 0; start < labeled.length; start += chunkRows) {
    const chunk = labeled.slice(start, start + chunkRows).map((r) => ({ text: r.text, textPair: r.textPair ?? null }));
    const { answers, now } = await run(async () => ({
      answers: await model.predict(chunk, { maxLength: options.maxLength }),
      now: model.labels,
    }));
    // A run may start between chunks and give the model other labels: then the scores mix two models.
    if (now.join('\u0000') !== labels.join('\u0000'))
      throw new EngineError(
        'PREDICT_MODEL_CHANGED',
        `The model's labels changed while ${source} was being scored (${labels.join(', ')} → ${now.join(', ')}); evaluate it again.`,
      );
    predictions.push(...answers);
    options.onProgress?.(predictions.length, labeled.length);
  }
  return computeMetrics(
    labeled.map((r) => labels.indexOf(r.label!)),
    predictions.map((p) => p.probabilities),
    labels,
  );
}

/** A labeled test file scored by the model (the Evaluate panel's "Test file"). */
export interface EvaluateFileResult {
  fileName: string;
  /** The columns used: detected as the Data panel detects them, or given. */
  mapping: ColumnMapping;
  /** Rows scored (labeled rows). */
  rows: number;
  /** Rows without a label, not scored. */
  unlabeled: number;
  metrics: Metrics;
  /** Text of each scored row, in the order of `metrics.predictions[i].index`. */
  texts: string[];
  /** Each scored row's row number in the file. */
  fileRows: number[];
  warnings: string[];
}

/**
 * Reads a labeled CSV/TSV/JSONL with the Data panel's parser and column detection and scores the
 * model on it. Refused: a file with no label column (EVAL_NO_LABEL_COLUMN: predict it instead),
 * plus everything `parseDataset` and `evaluateModel` refuse.
 */
export async function evaluateFile(
  model: FewShotModel,
  bytes: Uint8Array,
  fileName: string,
  options: EvaluateOptions & { mapping?: ColumnMapping | null } = {},
): Promise<EvaluateFileResult> {
  let parsed;
  try {
    parsed = parseDataset(bytes, fileName, { mapping: options.mapping ?? null });
  } catch (error) {
    if (error instanceof EngineError && error.code === 'DATA_ONE_COLUMN') throw noLabelColumn(fileName);
    throw error;
  }
  if (parsed.mapping.label === null) throw noLabelColumn(fileName);
  const examples: Example[] = parsed.examples.map((e) => ({
    text: e.text,
    ...(e.textPair === undefined || e.textPair === null ? {} : { textPair: e.textPair }),
    label: e.label,
    row: e.row,
  }));
  const metrics = await evaluateModel(model, examples, { ...options, source: fileName });
  const scored = examples.filter((e) => e.label !== null);
  return {
    fileName,
    mapping: parsed.mapping,
    rows: scored.length,
    unlabeled: examples.length - scored.length,
    metrics,
    texts: scored.map((e) => e.text),
    fileRows: scored.map((e) => e.row!),
    warnings: parsed.warnings,
  };
}

function noLabelColumn(fileName: string): EngineError {
  return new EngineError(
    'EVAL_NO_LABEL_COLUMN',
    `${fileName} has no label column, so there is nothing to score the model against. Add a label column (named e.g. "label"), or drop the file in "Predictions for a file" to label it.`,
  );
}
