/**
 * Reads a labeled (or unlabeled) dataset file for the CLI: CSV, TSV or JSONL, with column
 * detection that can be overridden by flags.
 */
import { basename } from 'node:path';
import { applyColumnMapping, detectColumns, parseDatasetFile } from '../engine/data';
import { EngineError } from '../engine/errors';
import { readInputBytes } from './io';
import { UsageError, stringFlag, type ParsedArgs } from './args';
import type { TextInput } from '../engine/pipeline';

export interface DataRow {
  text: string;
  textPair?: string;
  /** null for unlabeled rows. */
  label: string | null;
  /** 1-based row as a spreadsheet shows it (CSV/TSV header = row 1; JSONL = line), for messages. */
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
      throw new EngineError(
        'DATA_UNKNOWN_COLUMN',
        `${path}: there is no column "${column}" (asked for as the ${role} column). Columns: ${parsed.columns.join(', ')}.`,
      );
    }
  }
  const rows = applyColumnMapping(parsed, mapping).map((e) => ({
    text: e.text,
    textPair: e.textPair ?? undefined,
    label: e.label,
    row: e.row,
  }));
  return {
    path,
    rows,
    columns: { text: mapping.text, textPair: mapping.textPair ?? null, label: mapping.label ?? null },
    warnings: parsed.warnings.map((w) => w.message),
  };
}

/** Flags shared by commands that take texts from `--text` or an `--input` file. */
export const TEXT_INPUT_FLAGS = {
  input: {
    type: 'string',
    placeholder: 'FILE',
    help: 'CSV, TSV or JSONL with a text column (labels, if present, are ignored)',
  },
  text: { type: 'string', placeholder: 'TEXT', multiple: true, help: 'a text (repeatable)' },
  'text-pair': { type: 'string', placeholder: 'TEXT', help: 'second text for pair models (with a single --text)' },
  'text-column': { type: 'string', placeholder: 'NAME', help: 'override the detected text column' },
  'text-pair-column': { type: 'string', placeholder: 'NAME', help: 'override the detected second-text column' },
} as const;

/** Texts from `--text` (repeatable, optional `--text-pair`) followed by the rows of `--input`. */
export async function collectTextInputs(args: ParsedArgs, warn: (message: string) => void): Promise<TextInput[]> {
  const texts = (args.flags.text as string[] | undefined) ?? [];
  const inputPath = stringFlag(args, 'input');
  if (!inputPath && texts.length === 0) throw new UsageError('Give --input FILE or at least one --text "…".');
  const pair = texts.length === 1 ? (stringFlag(args, 'text-pair') ?? null) : null;
  const inputs: TextInput[] = texts.map((text) => ({ text, textPair: pair }));
  if (inputPath) {
    const file = await readDataFile(inputPath, {
      text: stringFlag(args, 'text-column'),
      textPair: stringFlag(args, 'text-pair-column'),
    });
    for (const w of file.warnings) warn(w);
    inputs.push(...file.rows.map((r) => ({ text: r.text, textPair: r.textPair ?? null })));
  }
  return inputs;
}
