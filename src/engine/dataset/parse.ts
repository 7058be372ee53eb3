/**
 * A user's dataset file → rows of named string cells. CSV, TSV (papaparse: quoted fields with
 * embedded newlines, any line endings, delimiter sniffing) and JSONL. Bad input never throws
 * for one bad row: rows are repaired or skipped with a warning naming the row; only files that
 * cannot be a dataset at all (empty, binary, no rows) are errors.
 */
import Papa from 'papaparse';
import { EngineError } from '../checkpoint/types';

export type DatasetFormat = 'csv' | 'tsv' | 'jsonl';

export interface DatasetRow {
  /** Cell text by column name. */
  values: Record<string, string>;
  /** 1-based data-row number (header excluded); for JSONL, the line number. */
  row: number;
}

export interface ParsedDataset {
  fileName: string;
  format: DatasetFormat;
  columns: string[];
  rows: DatasetRow[];
  /** What was repaired or skipped, with row numbers. */
  warnings: string[];
  /** Text encoding the bytes were decoded with. */
  encoding: 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';
}

/** Bytes inspected to tell text from binary. */
const SNIFF_BYTES = 8192;
/** More control characters than this share of the sniffed bytes means "not a text file". */
const MAX_CONTROL_RATIO = 0.1;
/** At most this many row numbers are listed in one warning. */
const MAX_LISTED_ROWS = 10;

function listRows(rows: number[]): string {
  const shown = rows.slice(0, MAX_LISTED_ROWS).join(', ');
  return rows.length > MAX_LISTED_ROWS ? `${shown} … (${rows.length} in all)` : shown;
}

function looksBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, SNIFF_BYTES);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === 0) return true;
    if (b < 9 || (b > 13 && b < 32)) control++;
  }
  return n > 0 && control / n > MAX_CONTROL_RATIO;
}

/** Offset of the first byte that is not valid UTF-8, or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) if (i + k >= bytes.length || (bytes[i + k] & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * Decodes bytes to text. UTF-8 (BOM stripped) and UTF-16 with a BOM are read as such. Anything
 * else that is not valid UTF-8 is read as windows-1252 (what spreadsheet programs write on
 * Windows) so the user's data still loads, with a warning naming the first non-UTF-8 byte.
 */
export function decodeDatasetBytes(bytes: Uint8Array, fileName: string): { text: string; encoding: ParsedDataset['encoding']; warning: string | null } {
  if (bytes.length === 0) throw new EngineError('DATA_EMPTY', `${fileName} is empty. Choose a CSV, TSV or JSONL file with a header row and at least one data row.`);
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: new TextDecoder('utf-16le').decode(bytes.subarray(2)), encoding: 'utf-16le', warning: null };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: new TextDecoder('utf-16be').decode(bytes.subarray(2)), encoding: 'utf-16be', warning: null };
  if (looksBinary(bytes)) {
    throw new EngineError('DATA_BINARY', `${fileName} looks like a binary file, not text (it contains NUL or many control bytes). Export your data as CSV, TSV or JSONL (UTF-8) and try again.`);
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad < 0) return { text: new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, ''), encoding: 'utf-8', warning: null };
  return {
    text: new TextDecoder('windows-1252').decode(bytes),
    encoding: 'windows-1252',
    warning: `${fileName} is not valid UTF-8 (first bad byte at offset ${bad}); it was read as Windows-1252. If accented letters look wrong, re-save the file as UTF-8.`,
  };
}

function formatFor(fileName: string, text: string): DatasetFormat {
  const lower = fileName.toLowerCase();
  if (/\.(jsonl|ndjson|json)$/.test(lower)) return 'jsonl';
  if (/\.(tsv|tab)$/.test(lower)) return 'tsv';
  if (/\.csv$/.test(lower)) return 'csv';
  return text.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

/** Unique, non-empty column names: blanks become "column N", repeats get " (2)", " (3)". */
function uniqueColumns(header: string[], warnings: string[], fileName: string): string[] {
  const seen = new Map<string, number>();
  return header.map((raw, i) => {
    let name = raw.trim() || `column ${i + 1}`;
    const count = (seen.get(name) ?? 0) + 1;
    seen.set(name, count);
    if (count > 1) {
      warnings.push(`${fileName}: the header names "${name}" more than once; column ${i + 1} was renamed "${name} (${count})".`);
      name = `${name} (${count})`;
    }
    return name;
  });
}

function parseDelimited(text: string, fileName: string, format: 'csv' | 'tsv', warnings: string[]): { columns: string[]; rows: DatasetRow[] } {
  const result = Papa.parse<string[]>(text, { header: false, skipEmptyLines: 'greedy', delimiter: format === 'tsv' ? '\t' : '', delimitersToGuess: [',', '\t', ';', '|'] });
  const records = result.data;
  if (records.length === 0) throw new EngineError('DATA_EMPTY', `${fileName} has no rows. Add a header row (e.g. text,label) and data rows.`);
  const columns = uniqueColumns(records[0], warnings, fileName);
  if (records.length === 1) throw new EngineError('DATA_NO_ROWS', `${fileName} has a header (${columns.join(', ')}) but no data rows.`);
  const short: number[] = [];
  const long: number[] = [];
  const rows = records.slice(1).map((cells, i) => {
    const row = i + 1;
    if (cells.length < columns.length) short.push(row);
    if (cells.length > columns.length && cells.slice(columns.length).some((c) => c.trim() !== '')) long.push(row);
    const values: Record<string, string> = {};
    columns.forEach((c, j) => (values[c] = cells[j] ?? ''));
    return { values, row };
  });
  if (short.length > 0) warnings.push(`${fileName}: ${short.length} rows have fewer fields than the header (${columns.length}); missing cells were left empty. Rows: ${listRows(short)}.`);
  if (long.length > 0) warnings.push(`${fileName}: ${long.length} rows have more fields than the header; the extra fields were ignored (an unquoted comma inside a text?). Rows: ${listRows(long)}.`);
  const quoteErrors = result.errors.filter((e) => e.type === 'Quotes');
  if (quoteErrors.length > 0) warnings.push(`${fileName}: unbalanced quotes near rows ${listRows(quoteErrors.map((e) => (e.row ?? 0) + 1))}; check those texts.`);
  return { columns, rows };
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function parseJsonl(text: string, fileName: string, warnings: string[]): { columns: string[]; rows: DatasetRow[] } {
  const columns: string[] = [];
  const known = new Set<string>();
  const rows: DatasetRow[] = [];
  const bad: number[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      bad.push(i + 1);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      bad.push(i + 1);
      return;
    }
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (!known.has(k)) {
        known.add(k);
        columns.push(k);
      }
      values[k] = cellText(v);
    }
    rows.push({ values, row: i + 1 });
  });
  for (const r of rows) for (const c of columns) r.values[c] ??= '';
  if (bad.length > 0) warnings.push(`${fileName}: ${bad.length} lines are not JSON objects and were skipped. Lines: ${listRows(bad)}.`);
  if (rows.length === 0) throw new EngineError('DATA_NO_ROWS', `${fileName} has no JSON object lines. JSONL needs one object per line, e.g. {"text": "…", "label": "…"}.`);
  return { columns, rows };
}

export function parseDatasetFile(bytes: Uint8Array, fileName: string): ParsedDataset {
  const { text, encoding, warning } = decodeDatasetBytes(bytes, fileName);
  const warnings: string[] = warning ? [warning] : [];
  if (!text.trim()) throw new EngineError('DATA_EMPTY', `${fileName} contains only whitespace.`);
  const format = formatFor(fileName, text);
  const { columns, rows } = format === 'jsonl' ? parseJsonl(text, fileName, warnings) : parseDelimited(text, fileName, format, warnings);
  return { fileName, format, columns, rows, warnings, encoding };
}
