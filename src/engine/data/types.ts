/**
 * Types for turning a user's dataset file into labeled examples.
 *
 * Row numbers: every parsed row carries `row`, the 1-based number a user sees when the file is
 * opened in a spreadsheet (CSV/TSV: the header is row 1, so the first data row is row 2; blank
 * lines count as rows, as a spreadsheet shows them) or in an editor (JSONL: the line number).
 * `line` is the 1-based line in a text editor where the row starts; it differs from `row` in
 * CSV/TSV only after a quoted cell that spans several lines.
 */
import type { LengthStats } from '../util/stats';
import type { DataIssue } from './validate';

export type { LengthStats };

/** File formats the parser understands. */
export type DatasetFormat = 'csv' | 'tsv' | 'jsonl';

/** Text encoding the bytes were finally decoded with. */
export type DatasetEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/**
 * How to decode bytes that are not valid UTF-8:
 * - `auto` (default): UTF-8 (BOM stripped) or UTF-16 with a BOM; a file that is not valid UTF-8
 *   and has no valid UTF-8 multi-byte sequence before the first bad byte is read as
 *   windows-1252 (what spreadsheet programs write on Windows), with a warning; a UTF-8 file
 *   with a corrupt byte later on keeps UTF-8 and gets U+FFFD for the bad bytes, with a warning.
 * - `utf-8`: strict; the first invalid sequence is a `DATA_NOT_UTF8` error.
 * - `windows-1252`: read every byte as windows-1252 (also what `latin1` means on the web).
 */
export type EncodingMode = 'auto' | 'utf-8' | 'windows-1252';

/** One data row of the file. */
export interface ParsedRow {
  /** 1-based source row (see the module comment): CSV/TSV header = row 1; JSONL = line number. */
  row: number;
  /** 1-based editor line where this row starts. */
  line: number;
  /** Cell text by column name; every column of `ParsedDataset.columns` is present. */
  values: Record<string, string>;
}

/** Something the parser repaired or skipped; the file still loaded. */
export interface DataWarning {
  /** Stable code, e.g. `DATA_RAGGED_SHORT`; the UI may group or translate on it. */
  code: string;
  /** Sentence for the user: which file, which rows, what happened, what to do. */
  message: string;
  /** Source row numbers concerned (at most `MAX_WARNING_ROWS`, see `count` for the total). */
  rows: number[];
  /** How many rows (or places) are concerned in all. */
  count: number;
}

export interface ParsedDataset {
  fileName: string;
  format: DatasetFormat;
  /** Field delimiter for CSV/TSV; null for JSONL. */
  delimiter: string | null;
  encoding: DatasetEncoding;
  /** Column names in file order: unique, non-empty (blank names become `column_N`). */
  columns: string[];
  rows: ParsedRow[];
  warnings: DataWarning[];
  /** Bytes read from the source. */
  bytes: number;
}

export interface ParseOptions {
  /** Decoding policy; default `auto` (see `EncodingMode`). */
  encoding?: EncodingMode;
  /** Forces the format instead of using the extension and the content. Default: detected. */
  format?: DatasetFormat;
  /** Forces the CSV/TSV delimiter. Default: sniffed among `,` `\t` `;` `|`. */
  delimiter?: string;
  /**
   * Longest single row, in characters, before a never-closed quote is reported as an error
   * instead of swallowing the rest of the file. Default 1,000,000 (far above any real text).
   */
  maxRowChars?: number;
  /** Leading bytes checked for binary content before decoding starts. Default 1024 (the first KiB). */
  sniffBytes?: number;
  /**
   * Characters gathered before the format and delimiter are chosen (also at least the header
   * and one more line, unless the file ends first). Default 65,536 (a few hundred rows).
   */
  sniffChars?: number;
}

export interface StreamOptions extends ParseOptions {
  /** File size if known (e.g. `File.size`), passed through to progress events. */
  totalBytes?: number;
  /** Largest slice parsed in one step; bigger input chunks are split. Default 1 MiB. */
  chunkBytes?: number;
  /** Cancels parsing: the promise rejects with `DATA_ABORTED`. */
  signal?: AbortSignal;
}

export interface ParseProgress {
  bytesRead: number;
  totalBytes?: number;
  /** Data rows parsed so far. */
  rows: number;
}

/** Which columns feed the model. */
export interface ColumnMapping {
  text: string;
  /** Second segment of a sentence-pair task, or null. */
  textPair: string | null;
  /** Class label column, or null (every row unlabeled). */
  label: string | null;
}

export type Confidence = 'high' | 'medium' | 'low';

export interface DetectedColumns extends ColumnMapping {
  /** Lowest confidence among the text and label choices. */
  confidence: Confidence;
  /** One sentence per choice, in words for the column mapper in the UI. */
  reasons: string[];
}

/**
 * One example, structurally compatible with `Example` (./dataset.ts), with the source row it
 * came from.
 */
export interface MappedExample {
  text: string;
  textPair?: string;
  /** Trimmed class name; null when the label cell is empty or a missing-value marker (unlabeled, kept). */
  label: string | null;
  /** The label cell's text when it was a missing-value marker such as "NaN" or "N/A". */
  missingLabel?: string;
  /** Source row (`ParsedRow.row`). */
  row: number;
}

export interface DuplicateGroup {
  /** The text (and pair) as in the first row of the group. */
  text: string;
  textPair?: string;
  /** Source rows holding this text, ascending. */
  rows: number[];
  /** Distinct labels in the group, first-seen order (null = unlabeled row). */
  labels: (string | null)[];
}

export interface DatasetSummary {
  total: number;
  labeled: number;
  unlabeled: number;
  /** Source rows of unlabeled examples (at most `MAX_SUMMARY_ROWS`). */
  unlabeledRows: number[];
  /** Examples per label, in first-seen order. */
  labels: { label: string; count: number }[];
  /** Source rows whose text is empty or only whitespace. */
  emptyTexts: number[];
  /** Source rows whose second text is empty (pair datasets only). */
  emptyTextPairs: number[];
  /**
   * Groups of labeled rows repeating the same text (and pair, up to whitespace) with the same
   * label: training keeps the first row of each group and drops the others.
   */
  duplicates: DuplicateGroup[];
  /** Groups of labeled rows sharing a text but not a label: all are kept; the model cannot fit both. */
  conflicts: DuplicateGroup[];
  /** Labeled rows training would use (empty, unlabeled and repeated rows left out). */
  usable: number;
  /** What training will report about these rows (same codes and messages), file rows cited. */
  issues: DataIssue[];
  /** Text lengths in Unicode code points. */
  textLength: LengthStats;
  /** Null when no example has a second text. */
  textPairLength: LengthStats | null;
  /** Token counts with the loaded model's tokenizer (special tokens included); null without one. */
  tokens: LengthStats | null;
}
