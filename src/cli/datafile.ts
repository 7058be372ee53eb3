/**
 * Data files for the CLI: flags naming columns, labeled rows for training and evaluation, texts
 * from `--text` or `--input`. Reading and parsing happen in the engine (studio/node.ts).
 */
import { readDataFile, type ColumnOverrides } from '../engine/studio/node';
import type { Example, TextInput } from '../engine/studio';
import { UsageError, stringFlag, type ParsedArgs } from './args';
import type { CliIO } from './context';

export const COLUMN_FLAGS = {
  'text-column': { type: 'string', placeholder: 'NAME', help: 'override the detected text column' },
  'text-pair-column': { type: 'string', placeholder: 'NAME', help: 'override the detected second-text column' },
  'label-column': { type: 'string', placeholder: 'NAME', help: 'override the detected label column' },
} as const;

export function columnOverrides(args: ParsedArgs): ColumnOverrides {
  return {
    text: stringFlag(args, 'text-column'),
    textPair: stringFlag(args, 'text-pair-column'),
    label: stringFlag(args, 'label-column'),
  };
}

/** Labeled rows of a file (with their file row numbers, so data messages cite them). */
export async function readExamples(path: string, columns: ColumnOverrides, io: CliIO): Promise<Example[]> {
  const file = await readDataFile(path, columns);
  for (const w of file.warnings) io.stderr(`warning: ${w}\n`);
  // Say which columns were used, so a wrongly detected one (e.g. a comment column) is seen at once.
  const c = file.columns;
  const given =
    columns.text || columns.label || columns.textPair
      ? 'as given'
      : 'detected; override with --text-column / --label-column';
  io.stderr(
    `note: ${path}: text column "${c.text}"${c.textPair ? `, second text "${c.textPair}"` : ''}, label column ${c.label ? `"${c.label}"` : 'none'} (${given})\n`,
  );
  if (!file.columns.label)
    throw new UsageError(
      `${path}: no label column found (columns detected: text=${file.columns.text}). Name it with --label-column.`,
    );
  return file.rows.map((r) => ({
    text: r.text,
    textPair: r.textPair,
    label: r.label,
    row: r.row,
    ...(r.missingLabel === undefined ? {} : { missingLabel: r.missingLabel }),
  }));
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
