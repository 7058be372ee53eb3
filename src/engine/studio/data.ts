/**
 * Datasets through the door: a dropped file becomes mapped examples (columns detected or given)
 * plus the one dataset summary (data/summary.ts) that the Data panel renders, computed with the
 * loaded model's tokenizer when there is one.
 */
import { applyColumnMapping, detectColumns, parseDatasetFile, summarizeDataset } from '../data';
import type { ColumnMapping, DatasetSummary, MappedExample } from '../data/types';
import { EngineError } from '../errors';
import type { DefaultLabelWords } from '../prompt/label-words';
import type { TextInput } from './fewshot-model';

/** A parsed dataset file, ready for the Data panel. */
export interface ParsedDatasetResult {
  fileName: string;
  format: string;
  columns: string[];
  /** The mapping used: the one passed in, or the detected one. */
  mapping: ColumnMapping;
  /** Why each column was chosen (empty when the mapping was given). */
  reasons: string[];
  /** One mapped row per data row; `row` is the row number a spreadsheet shows. */
  examples: MappedExample[];
  warnings: string[];
  /** Token count per example with the model's tokenizer; null when no model is loaded. */
  tokenLengths: number[] | null;
  summary: DatasetSummary;
  /**
   * Default label words for the prompt method, one per label in first-seen order, with a note for
   * each word that is not simply the label's name (docs/PROMPT_LEARNING.md, "Label words"); null
   * when no model is loaded (they depend on its vocabulary).
   */
  labelWords: DefaultLabelWords | null;
}

/**
 * Rows sampled for column detection: enough to see lengths and label cardinality. The CLI's file
 * reader (node.ts readDataFile) samples the same rows, so both pick the same columns.
 */
export const DETECTION_SAMPLE_ROWS = 500;

/**
 * Parses a CSV/TSV/JSONL training file, detects (or applies) the column mapping and summarises it.
 * A file with one column cannot train a classifier: DATA_ONE_COLUMN says so (Evaluate predicts
 * such files).
 */
export function parseDataset(
  bytes: Uint8Array,
  fileName: string,
  options: {
    mapping?: ColumnMapping | null;
    tokenLengths?: ((inputs: TextInput[]) => number[]) | null;
    labelWords?: ((labels: string[]) => DefaultLabelWords) | null;
  } = {},
): ParsedDatasetResult {
  const parsed = parseDatasetFile(bytes, fileName);
  if (parsed.columns.length < 2) {
    throw new EngineError(
      'DATA_ONE_COLUMN',
      `${fileName} has only one column (${JSON.stringify(parsed.columns[0] ?? '')}). A training dataset needs a text column and a label column; to label an unlabeled file with a trained model, drop it in Evaluate → "Predictions for a file".`,
    );
  }
  const { mapping } = options;
  if (mapping) {
    for (const column of [mapping.text, mapping.textPair, mapping.label]) {
      if (column !== null && !parsed.columns.includes(column))
        throw new EngineError('BAD_REQUEST', `Column ${JSON.stringify(column)} is not in ${fileName}.`);
    }
  }
  const detected = mapping
    ? { ...mapping, reasons: [] as string[] }
    : detectColumns(parsed.columns, parsed.rows.slice(0, DETECTION_SAMPLE_ROWS));
  const used: ColumnMapping = { text: detected.text, textPair: detected.textPair, label: detected.label };
  const examples = applyColumnMapping(parsed, used);
  const tokenLengths = options.tokenLengths
    ? options.tokenLengths(examples.map((e) => ({ text: e.text, textPair: e.textPair ?? null })))
    : null;
  const labels = [...new Set(examples.map((e) => e.label).filter((l): l is string => l !== null))];
  return {
    fileName,
    format: parsed.format,
    columns: parsed.columns,
    mapping: used,
    reasons: detected.reasons,
    examples,
    warnings: parsed.warnings.map((w) => w.message),
    tokenLengths,
    summary: summarizeDataset(examples, { tokenLengths }),
    labelWords: labels.length > 0 && options.labelWords ? options.labelWords(labels) : null,
  };
}
