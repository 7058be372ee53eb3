/**
 * Predictions for a whole unlabeled file: read it as it streams in (CSV, TSV or JSONL; a single
 * text column is enough), predict in chunks with progress, and write a CSV with the source row, the
 * text, the predicted label and one probability column per label. The studio's Evaluate panel and
 * `fewshot predict --input` produce the same file.
 */
import { detectColumns, parseDatasetStream } from '../data';
import type { ParseProgress } from '../data/types';
import { EngineError } from '../errors';
import type { FewShotModel, Prediction, TextInput } from './fewshot-model';

/** Rows predicted per chunk: big enough for full GPU batches, small enough for frequent progress. */
export const PREDICT_CHUNK_ROWS = 256;

export interface PredictFileProgress {
  phase: 'reading' | 'predicting';
  /** Bytes read (reading) or rows predicted (predicting). */
  done: number;
  /** File size or row count, when known. */
  total: number | null;
}

export interface PredictFileOptions {
  /** Column holding the text; default: detected. */
  textColumn?: string | null;
  /** Column holding the second text of a pair; default: detected (often none). */
  textPairColumn?: string | null;
  /** File size, when known, for progress while reading. */
  totalBytes?: number;
  onProgress?: (progress: PredictFileProgress) => void;
  /**
   * Runs one chunk's prediction. The worker passes its queue so chunks interleave with training
   * steps and never run during one; default: run it now.
   */
  runChunk?: <T>(predict: () => Promise<T>) => Promise<T>;
  rowsPerChunk?: number;
}

export interface PredictFileResult {
  /** UTF-8 CSV: row, text, [text_pair,] predicted_label, prob_<label> per label. */
  csv: Uint8Array;
  rows: number;
  labels: string[];
  textColumn: string;
  textPairColumn: string | null;
  warnings: string[];
}

/**
 * RFC 4180 field quoting. Text that a spreadsheet would run as a formula (starting with = + - @,
 * a tab or a carriage return, e.g. `=HYPERLINK(…)`) gets a leading apostrophe, as spreadsheets
 * expect for literal text; numbers are written as they are.
 */
export function csvField(value: string | number): string {
  const text = typeof value === 'number' ? String(value) : /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Header and lines of the predictions CSV (shared with the CLI's `--text` output). */
export function predictionCsvLines(
  labels: readonly string[],
  rows: readonly (TextInput & { row?: number })[],
  predictions: readonly Prediction[],
  withHeader: boolean,
): string {
  const pair = rows.some((r) => r.textPair !== null && r.textPair !== undefined);
  const lines: string[] = [];
  if (withHeader) {
    const head = ['row', 'text', ...(pair ? ['text_pair'] : []), 'predicted_label', ...labels.map((l) => `prob_${l}`)];
    lines.push(head.map(csvField).join(','));
  }
  rows.forEach((r, i) => {
    const p = predictions[i];
    const cells = [
      r.row ?? i + 1,
      r.text,
      ...(pair ? [r.textPair ?? ''] : []),
      p.label,
      ...p.probabilities.map((x) => x.toFixed(6)),
    ];
    lines.push(cells.map(csvField).join(','));
  });
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

export async function predictFile(
  model: FewShotModel,
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array> | Uint8Array,
  fileName: string,
  options: PredictFileOptions = {},
): Promise<PredictFileResult> {
  const progress = options.onProgress ?? (() => {});
  const stream =
    source instanceof Uint8Array
      ? (async function* () {
          yield source;
        })()
      : source;
  const parsed = await parseDatasetStream(
    stream,
    fileName,
    (p: ParseProgress) => progress({ phase: 'reading', done: p.bytesRead, total: p.totalBytes ?? null }),
    { totalBytes: options.totalBytes },
  );
  const detected = detectColumns(parsed.columns, parsed.rows.slice(0, 500));
  const textColumn = options.textColumn ?? detected.text;
  const textPairColumn = options.textPairColumn === undefined ? detected.textPair : options.textPairColumn;
  for (const column of [textColumn, textPairColumn]) {
    if (column !== null && !parsed.columns.includes(column)) {
      throw new EngineError(
        'DATA_BAD_MAPPING',
        `${fileName} has no column "${column}". Its columns are: ${parsed.columns.map((c) => `"${c}"`).join(', ')}.`,
      );
    }
  }
  const rows = parsed.rows.map((r) => ({
    row: r.row,
    text: r.values[textColumn] ?? '',
    textPair: textPairColumn ? (r.values[textPairColumn] ?? '') : null,
  }));
  const labels = model.labels;
  if (labels.length === 0)
    throw new EngineError(
      'MODEL_NO_CLASSIFIER',
      'This model has no labels yet: train it (or load a fine-tuned model) before predicting a file.',
    );
  const run = options.runChunk ?? (<T>(predict: () => Promise<T>) => predict());
  const chunkRows = Math.max(1, options.rowsPerChunk ?? PREDICT_CHUNK_ROWS);
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  let header = true;
  progress({ phase: 'predicting', done: 0, total: rows.length });
  for (let start = 0; start < rows.length; start += chunkRows) {
    const chunk = rows.slice(start, start + chunkRows);
    const { predictions, chunkLabels } = await run(async () => ({
      predictions: await model.predict(chunk),
      chunkLabels: model.labels,
    }));
    if (chunkLabels.join('\u0000') !== labels.join('\u0000')) {
      throw new EngineError(
        'PREDICT_MODEL_CHANGED',
        `The model's labels changed while ${fileName} was being predicted (${labels.join(', ')} → ${chunkLabels.join(', ')}); start the prediction again.`,
      );
    }
    parts.push(encoder.encode(predictionCsvLines(labels, chunk, predictions, header)));
    header = false;
    progress({ phase: 'predicting', done: start + chunk.length, total: rows.length });
  }
  if (rows.length === 0) parts.push(encoder.encode(predictionCsvLines(labels, [], [], true)));
  const size = parts.reduce((n, p) => n + p.byteLength, 0);
  const csv = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    csv.set(p, offset);
    offset += p.byteLength;
  }
  return {
    csv,
    rows: rows.length,
    labels,
    textColumn,
    textPairColumn,
    warnings: parsed.warnings.map((w) => w.message),
  };
}
