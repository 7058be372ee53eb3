/**
 * Reads a labeled (or unlabeled) dataset file for the CLI: CSV, TSV or JSONL, with column
 * detection that can be overridden by flags.
 */
import { basename } from 'node:path';
import { applyColumnMapping, detectColumns, parseDatasetFile } from '../engine/dataset';
import { EngineError } from '../engine/checkpoint/types';
import { readInputBytes } from './io';

export interface DataRow {
  text: string;
  textPair?: string;
  /** null for unlabeled rows. */
  label: string | null;
  /** 1-based row number in the file (header excluded), for messages. */
  row: number;
}

export interface ColumnOverrides {
  text?: string;
  textPair?: string;
  label?: string;
}

export interface LoadedDataFile {
  path: string;
  rows: DataRow[];
  columns: { text: string; textPair: string | null; label: string | null };
  warnings: string[];
}

export async function readDataFile(path: string, overrides: ColumnOverrides = {}): Promise<LoadedDataFile> {
  const bytes = await readInputBytes(path);
  const parsed = parseDatasetFile(bytes, basename(path));
  const detected = detectColumns(parsed.columns, parsed.rows.slice(0, 200));
  const mapping = {
    text: overrides.text ?? detected.text,
    textPair: overrides.textPair ?? detected.textPair,
    label: overrides.label ?? detected.label,
  };
  for (const [role, column] of Object.entries(mapping)) {
    if (column && !parsed.columns.includes(column)) {
      throw new EngineError('DATA_UNKNOWN_COLUMN', `${path}: there is no column "${column}" (asked for as the ${role} column). Columns: ${parsed.columns.join(', ')}.`);
    }
  }
  const rows = applyColumnMapping(parsed, mapping).map((e) => ({
    text: e.text,
    textPair: e.textPair ?? undefined,
    label: e.label,
    row: e.row,
  }));
  return { path, rows, columns: { text: mapping.text, textPair: mapping.textPair ?? null, label: mapping.label ?? null }, warnings: parsed.warnings };
}
