/**
 * A user's dataset file → named string cells per row, with source row numbers.
 *
 * One incremental core (`DatasetParser`: push bytes, then finish) serves both the in-memory
 * `parseDatasetFile` and the streaming `parseDatasetStream`, so both give the same result for
 * the same bytes. CSV/TSV go through papaparse's low-level `Parser` fed chunk by chunk: each
 * call parses the carried-over partial row plus the new text with `ignoreLastRow`, and the
 * returned cursor says where the incomplete last row starts (quoted cells with newlines can
 * span chunks). JSONL is split into lines by hand.
 *
 * Policy: one bad row never fails a file. Rows are repaired (padded, extra fields dropped) or
 * skipped with a `DataWarning` naming the rows. Only files that cannot be a dataset are errors
 * (`EngineError`): empty, binary, not decodable under a strict policy, no data rows, a quote
 * that never closes, a one-column file that is clearly not usable as texts.
 *
 * Why one file of ~650 lines: the delimited reader, the JSONL reader, format sniffing and the
 * incremental core share one `Sink` and its row-numbering rules; apart, each would re-derive them.
 */
import { agree, counted } from '../util/words';
import Papa from 'papaparse';
import { EngineError } from '../errors';
import { DatasetDecoder } from './decode';
import { LABEL_NAMES, PAIR_NAMES, TEXT_NAMES, normalizeName } from './names';
import type {
  DataWarning,
  DatasetEncoding,
  DatasetFormat,
  ParseOptions,
  ParseProgress,
  ParsedDataset,
  ParsedRow,
  StreamOptions,
} from './types';

/** Row numbers kept per warning (the count keeps the total); bounds memory on huge bad files. */
export const MAX_WARNING_ROWS = 100;
/** Row numbers spelled out in a warning message. */
const MAX_LISTED_ROWS = 10;
/** Characters of text gathered before sniffing the format and delimiter (≈ a few hundred rows). */
const SNIFF_CHARS = 64 * 1024;
/** Records examined when choosing the delimiter. */
const SNIFF_RECORDS = 50;
/** Delimiters tried, in order of preference on ties (the task's list). */
const DELIMITERS = [',', '\t', ';', '|'];
/** Default `maxRowChars`: far above any real training text, far below a swallowed file. */
const DEFAULT_MAX_ROW_CHARS = 1_000_000;
/** Default streaming slice: 1 MiB keeps each synchronous step short (~10 ms). */
const DEFAULT_CHUNK_BYTES = 1 << 20;
/** A header cell longer than this probably is data, i.e. the header row is missing. */
const MAX_HEADER_NAME = 60;

/** "2, 5, 9" or "2, 5, … (120 rows in all)". */
function listRows(rows: readonly number[], count: number): string {
  const shown = rows.slice(0, MAX_LISTED_ROWS).join(', ');
  return count > MAX_LISTED_ROWS ? `${shown}, … (${count} in all)` : shown;
}

/** Collects row numbers for one kind of warning. */
class RowList {
  rows: number[] = [];
  count = 0;
  add(row: number): void {
    this.count++;
    if (this.rows.length < MAX_WARNING_ROWS) this.rows.push(row);
  }
}

function extensionOf(fileName: string): string {
  const m = /\.([a-z0-9]+)$/i.exec(fileName.trim());
  return m ? m[1].toLowerCase() : '';
}

function firstLine(text: string): string {
  const t = text.replace(/^\s+/, '');
  const end = t.search(/\r?\n|\r/);
  return end < 0 ? t : t.slice(0, end);
}

function isJsonObjectLine(line: string): boolean {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/**
 * Format from the extension and the content: `.jsonl/.ndjson/.json` → JSONL; a first line that
 * is a JSON object → JSONL whatever the extension (with a warning if it said CSV/TSV);
 * otherwise delimited. A JSON array (`[...]`) is not supported: error with the fix.
 */
function sniffFormat(fileName: string, sample: string, warnings: DataWarning[]): 'jsonl' | 'delimited' {
  const ext = extensionOf(fileName);
  const head = sample.trimStart();
  if (head.startsWith('[') && (ext === 'json' || ext === 'jsonl' || /^\[\s*[{\]]/.test(head))) {
    throw new EngineError(
      'DATA_JSON_ARRAY',
      `${fileName} is a JSON array; this app reads JSON Lines: one object per line, e.g. {"text": "great movie", "label": "positive"}. Convert it (e.g. pandas: df.to_json(path, orient="records", lines=True)) or save it as CSV.`,
    );
  }
  if (ext === 'jsonl' || ext === 'ndjson' || ext === 'json') return 'jsonl';
  const line = firstLine(sample);
  if (line.startsWith('{') && isJsonObjectLine(line)) {
    if (ext === 'csv' || ext === 'tsv') {
      warnings.push({
        code: 'DATA_FORMAT_MISMATCH',
        message: `${fileName} is named .${ext} but holds JSON objects, one per line; it was read as JSONL.`,
        rows: [],
        count: 0,
      });
    }
    return 'jsonl';
  }
  return 'delimited';
}

/**
 * Picks the delimiter whose header has ≥ 2 fields and whose following records most often have
 * the header's field count; ties go to the earlier candidate (`.tsv` files try tab first).
 * Returns null for a one-column file.
 */
export function sniffDelimiter(
  sample: string,
  newline: '\n' | '\r',
  complete: boolean,
  preferTab: boolean,
): string | null {
  const candidates = preferTab ? ['\t', ...DELIMITERS.filter((d) => d !== '\t')] : DELIMITERS;
  let best: string | null = null;
  let bestScore = -1;
  for (const delimiter of candidates) {
    const parsed = Papa.parse<string[]>(sample, {
      delimiter,
      newline,
      preview: SNIFF_RECORDS + 1,
      skipEmptyLines: 'greedy',
    });
    const records = parsed.data;
    // The sample may end inside the last record; don't judge by it.
    if (!complete && records.length > 2) records.pop();
    if (records.length === 0 || records[0].length < 2) continue;
    const width = records[0].length;
    const rest = records.slice(1);
    const score = rest.length === 0 ? 1 : rest.filter((r) => r.length === width).length / rest.length;
    if (score > bestScore) {
      best = delimiter;
      bestScore = score;
    }
  }
  return best;
}

/** Unique, non-empty names: blank → `column_N`; repeats → `name_2`, `name_3`. */
function uniqueColumns(raw: readonly string[], fileName: string, warnings: DataWarning[]): string[] {
  const used = new Set<string>();
  const renamed: string[] = [];
  const blank: number[] = [];
  const names = raw.map((cell, i) => {
    let name = cell.trim();
    if (!name) {
      name = `column_${i + 1}`;
      blank.push(i + 1);
    }
    if (used.has(name)) {
      let k = 2;
      while (used.has(`${name}_${k}`)) k++;
      renamed.push(`"${name}" (column ${i + 1}) → "${name}_${k}"`);
      name = `${name}_${k}`;
    }
    used.add(name);
    return name;
  });
  if (renamed.length > 0) {
    warnings.push({
      code: 'DATA_DUPLICATE_COLUMN',
      message: `${fileName}: the header repeats a column name, so repeats were renamed: ${renamed.join('; ')}. Rename the columns in the file if that is not what you want.`,
      rows: [1],
      count: renamed.length,
    });
  }
  if (blank.length > 0) {
    warnings.push({
      code: 'DATA_BLANK_COLUMN',
      message: `${fileName}: column ${blank.join(', ')} of the header has no name; called ${blank.map((c) => `column_${c}`).join(', ')}.`,
      rows: [1],
      count: blank.length,
    });
  }
  return names;
}

/**
 * Sets one cell. Plain objects keep V8's fast shared shapes (null-prototype objects are
 * dictionaries: ~3x the GC work on a million rows); a column literally named `__proto__` is
 * defined as an own property so it cannot touch the prototype.
 */
function setCell(values: Record<string, string>, column: string, text: string): void {
  if (column === '__proto__')
    Object.defineProperty(values, column, { value: text, enumerable: true, writable: true, configurable: true });
  else values[column] = text;
}

function countChar(s: string, ch: string): number {
  let n = 0;
  for (let i = s.indexOf(ch); i >= 0; i = s.indexOf(ch, i + 1)) n++;
  return n;
}

interface Sink {
  fileName: string;
  rows: ParsedRow[];
  warnings: DataWarning[];
  columns: string[];
  maxRowChars: number;
}

/** Incremental CSV/TSV reader on papaparse's low-level parser. */
class DelimitedReader {
  private parser: Papa.Parser;
  private partial = '';
  private header = false;
  /** Source row of the next record (header = row 1; blank lines count). */
  private nextRow = 1;
  /** Editor line where the next record starts. */
  private nextLine = 1;
  private short = new RowList();
  private long = new RowList();
  private quotes = new RowList();
  private unclosedTail: number | null = null;

  constructor(
    private readonly sink: Sink,
    readonly delimiter: string,
    private readonly newline: '\n' | '\r',
  ) {
    // fastMode off when quotes appear is papaparse's own default; comments off (a '#' is text).
    this.parser = new Papa.Parser({ delimiter, newline, quoteChar: '"' });
  }

  push(text: string, final: boolean): void {
    let input = this.partial + text;
    // A final CR without LF would otherwise end up inside the last cell.
    if (final && this.newline === '\n' && input.endsWith('\r')) input = input.slice(0, -1);
    const result = this.parser.parse(input, 0, !final) as {
      data: string[][];
      errors: Papa.ParseError[];
      meta: { cursor: number };
    };
    const records = result.data;
    const firstRow = this.nextRow;
    const lines: number[] = [];
    for (const cells of records) lines.push(this.take(cells));
    for (const e of result.errors) {
      const idx = e.row ?? 0;
      if (idx >= records.length) continue; // the unfinished last row; seen again next chunk
      if (e.code === 'MissingQuotes') this.unclosed(firstRow + idx, lines[idx], records[idx]);
      else this.quotes.add(firstRow + idx);
    }
    this.partial = final ? '' : input.slice(result.meta.cursor);
    if (this.partial.length > this.sink.maxRowChars) {
      const what =
        this.partial.trimStart().startsWith('"') || this.partial.includes(`${this.delimiter}"`)
          ? 'opens a quoted cell (") that is not closed'
          : 'is not ended by a line break';
      throw new EngineError(
        'DATA_UNCLOSED_QUOTE',
        `${this.sink.fileName}: row ${this.nextRow} (line ${this.nextLine}) ${what} within ${this.sink.maxRowChars.toLocaleString('en-US')} characters, so the rest of the file would become one cell. Close the quote, or double quotes inside texts ("").`,
      );
    }
  }

  /** Handles one record; returns the line it started on. */
  private take(cells: string[]): number {
    const row = this.nextRow++;
    const line = this.nextLine;
    let extraLines = 0;
    for (const c of cells) if (c.length > 0 && c.includes(this.newline)) extraLines += countChar(c, this.newline);
    this.nextLine += 1 + extraLines;
    if (this.newline === '\n') {
      // Windows line endings (CRLF), also when mixed with LF: drop the CR before the LF.
      const last = cells.length - 1;
      if (cells[last].endsWith('\r')) cells[last] = cells[last].slice(0, -1);
    }
    if (cells.length === 1 && cells[0].trim() === '') return line; // blank line
    if (!this.header) {
      this.header = true;
      this.sink.columns = uniqueColumns(cells, this.sink.fileName, this.sink.warnings);
      const long = cells.find((c) => c.trim().length > MAX_HEADER_NAME);
      if (long !== undefined) {
        this.sink.warnings.push({
          code: 'DATA_NO_HEADER',
          message: `${this.sink.fileName}: the first row looks like data, not column names ("${long.trim().slice(0, 40)}…"). The first row is always read as the header: add a header row such as text,label.`,
          rows: [row],
          count: 1,
        });
      }
      return line;
    }
    const columns = this.sink.columns;
    if (cells.length < columns.length) this.short.add(row);
    else if (cells.length > columns.length && cells.slice(columns.length).some((c) => c.trim() !== ''))
      this.long.add(row);
    // Trailing empty fields (a trailing delimiter) are dropped silently.
    const values: Record<string, string> = {};
    for (let j = 0; j < columns.length; j++) setCell(values, columns[j], cells[j] ?? '');
    this.sink.rows.push({ row, line, values });
    return line;
  }

  /** A quote still open at the end of the file. */
  private unclosed(row: number, line: number, cells: string[]): void {
    const spanned = cells.reduce((n, c) => n + countChar(c, this.newline), 0);
    if (spanned > 0) {
      throw new EngineError(
        'DATA_UNCLOSED_QUOTE',
        `${this.sink.fileName}: row ${row} (line ${line}) opens a quoted cell (") that is never closed, so the remaining ${spanned + 1} lines of the file would become one cell. Close the quote, or double quotes inside texts ("").`,
      );
    }
    this.unclosedTail = row;
  }

  finish(): void {
    const { fileName, warnings, columns } = this.sink;
    if (this.short.count > 0) {
      warnings.push({
        code: 'DATA_RAGGED_SHORT',
        message: `${fileName}: ${counted(this.short.count, 'row')} ${agree(this.short.count, 'has', 'have')} fewer fields than the header (${columns.length}); the missing cells were left empty. Rows: ${listRows(this.short.rows, this.short.count)}.`,
        rows: this.short.rows,
        count: this.short.count,
      });
    }
    if (this.long.count > 0) {
      warnings.push({
        code: 'DATA_RAGGED_LONG',
        message: `${fileName}: ${counted(this.long.count, 'row')} ${agree(this.long.count, 'has', 'have')} more fields than the header (${columns.length}); the extra fields were dropped. Rows: ${listRows(this.long.rows, this.long.count)}. A text with an unquoted "${this.delimiter === '\t' ? '\\t' : this.delimiter}" does this: wrap such texts in double quotes.`,
        rows: this.long.rows,
        count: this.long.count,
      });
    }
    if (this.quotes.count > 0) {
      warnings.push({
        code: 'DATA_BAD_QUOTES',
        message: `${fileName}: ${counted(this.quotes.count, 'row')} ${agree(this.quotes.count, 'has', 'have')} a misplaced quote (") after a quoted cell; it was kept as text. Rows: ${listRows(this.quotes.rows, this.quotes.count)}. Check those cells.`,
        rows: this.quotes.rows,
        count: this.quotes.count,
      });
    }
    if (this.unclosedTail !== null) {
      warnings.push({
        code: 'DATA_UNCLOSED_QUOTE',
        message: `${fileName}: row ${this.unclosedTail} opens a quoted cell (") that is never closed; it was read to the end of the file. Check that row.`,
        rows: [this.unclosedTail],
        count: 1,
      });
    }
  }
}

function jsonCell(value: unknown): { text: string; nested: boolean } {
  if (value === null || value === undefined) return { text: '', nested: false };
  if (typeof value === 'string') return { text: value, nested: false };
  if (typeof value === 'number' || typeof value === 'boolean') return { text: String(value), nested: false };
  return { text: JSON.stringify(value), nested: true };
}

/** Incremental JSON Lines reader: one object per line; bad lines are skipped with a warning. */
class JsonlReader {
  private partial = '';
  private lineNo = 0;
  private known = new Set<string>();
  private bad = new RowList();
  private notObject = new RowList();
  private nested = new RowList();
  private firstError = '';

  constructor(private readonly sink: Sink) {}

  push(text: string, final: boolean): void {
    const input = this.partial + text;
    const lines = input.split('\n');
    this.partial = final ? '' : lines.pop()!;
    for (const raw of lines) this.take(raw);
    if (this.partial.length > this.sink.maxRowChars) {
      throw new EngineError(
        'DATA_LINE_TOO_LONG',
        `${this.sink.fileName}: line ${this.lineNo + 1} is longer than ${this.sink.maxRowChars.toLocaleString('en-US')} characters. JSONL needs one object per line; is the file pretty-printed JSON? Save it with one object per line.`,
      );
    }
  }

  private take(raw: string): void {
    const line = ++this.lineNo;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      if (this.bad.count === 0) this.firstError = e instanceof Error ? e.message : String(e);
      this.bad.add(line);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.notObject.add(line);
      return;
    }
    const values: Record<string, string> = {};
    let nested = false;
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (!this.known.has(key)) {
        this.known.add(key);
        this.sink.columns.push(key);
      }
      const cell = jsonCell(v);
      setCell(values, key, cell.text);
      nested ||= cell.nested;
    }
    if (nested) this.nested.add(line);
    this.sink.rows.push({ row: line, line, values });
  }

  finish(): void {
    const { fileName, warnings, columns, rows } = this.sink;
    if (this.bad.count > 0) {
      warnings.push({
        code: 'DATA_BAD_JSON_LINE',
        message: `${fileName}: ${counted(this.bad.count, 'line')} ${agree(this.bad.count, 'is', 'are')} not valid JSON and ${agree(this.bad.count, 'was', 'were')} skipped (first problem: ${this.firstError}). Lines: ${listRows(this.bad.rows, this.bad.count)}.`,
        rows: this.bad.rows,
        count: this.bad.count,
      });
    }
    if (this.notObject.count > 0) {
      warnings.push({
        code: 'DATA_NOT_OBJECT',
        message: `${fileName}: ${counted(this.notObject.count, 'line')} ${agree(this.notObject.count, 'holds', 'hold')} JSON that is not an object ({...}) and ${agree(this.notObject.count, 'was', 'were')} skipped. Lines: ${listRows(this.notObject.rows, this.notObject.count)}.`,
        rows: this.notObject.rows,
        count: this.notObject.count,
      });
    }
    if (this.nested.count > 0) {
      warnings.push({
        code: 'DATA_NESTED_VALUE',
        message: `${fileName}: ${counted(this.nested.count, 'line')} ${agree(this.nested.count, 'has', 'have')} a list or object as a value; it was kept as its JSON text. Lines: ${listRows(this.nested.rows, this.nested.count)}.`,
        rows: this.nested.rows,
        count: this.nested.count,
      });
    }
    // Keys missing on some lines read as empty cells (the JSONL form of a short row).
    for (const column of columns) {
      const missing = new RowList();
      for (const r of rows) {
        if (!Object.prototype.hasOwnProperty.call(r.values, column)) {
          setCell(r.values, column, '');
          missing.add(r.row);
        }
      }
      if (missing.count > 0) {
        warnings.push({
          code: 'DATA_MISSING_KEY',
          message: `${fileName}: ${counted(missing.count, 'line')} ${agree(missing.count, 'has', 'have')} no "${column}" key; read as empty. Lines: ${listRows(missing.rows, missing.count)}.`,
          rows: missing.rows,
          count: missing.count,
        });
      }
    }
  }
}

/**
 * One-column files. Usable as unlabeled texts (prediction, cloze prompts) — accepted with a
 * warning — unless the one name is a label name (labels without texts) or reads like several
 * known column names glued by an unsupported delimiter (e.g. `text:label`): then an error.
 */
function checkSingleColumn(sink: Sink, format: DatasetFormat): void {
  if (sink.columns.length !== 1) return;
  const name = sink.columns[0];
  const norm = normalizeName(name);
  const words = norm.split('_').filter(Boolean);
  const known = (list: readonly string[]) => words.some((w) => list.includes(w));
  if (LABEL_NAMES.includes(norm)) {
    throw new EngineError(
      'DATA_ONE_COLUMN',
      `${sink.fileName} has only one column, "${name}", which holds labels but no text. Add a text column (header e.g. text,label).`,
    );
  }
  if (words.length >= 2 && known([...TEXT_NAMES, ...PAIR_NAMES]) && known(LABEL_NAMES) && !TEXT_NAMES.includes(norm)) {
    throw new EngineError(
      'DATA_ONE_COLUMN',
      `${sink.fileName} has only one column, "${name}", which looks like several column names joined by a delimiter this app does not read. Separate columns with a comma, tab, semicolon or |.`,
    );
  }
  if (!sink.rows.some((r) => r.values[name].trim() !== '')) {
    throw new EngineError('DATA_NO_ROWS', `${sink.fileName} has one column, "${name}", and every row is empty.`);
  }
  const kind = format === 'jsonl' ? 'key' : 'column';
  sink.warnings.push({
    code: 'DATA_ONE_COLUMN',
    message: `${sink.fileName} has only one ${kind}, "${name}": its rows will be used as unlabeled texts (for prediction or prompts). To fine-tune a classifier, add a label ${kind} (e.g. text,label).`,
    rows: [],
    count: 0,
  });
}

/**
 * The incremental core. `push` decoded bytes in any chunking, then `finish` once; throws
 * `EngineError` as soon as the file cannot be a dataset.
 */
export class DatasetParser {
  private readonly decoder: DatasetDecoder;
  private readonly sink: Sink;
  private reader: DelimitedReader | JsonlReader | null = null;
  private format: DatasetFormat | null = null;
  private sample = '';
  private sawText = false;

  constructor(
    readonly fileName: string,
    private readonly options: ParseOptions = {},
  ) {
    this.decoder = new DatasetDecoder(fileName, options.encoding ?? 'auto', options.sniffBytes);
    this.sink = {
      fileName,
      rows: [],
      warnings: [],
      columns: [],
      maxRowChars: options.maxRowChars ?? DEFAULT_MAX_ROW_CHARS,
    };
  }

  /** Data rows parsed so far. */
  get rowCount(): number {
    return this.sink.rows.length;
  }

  get bytesRead(): number {
    return this.decoder.bytes;
  }

  push(bytes: Uint8Array): void {
    this.feed(this.decoder.push(bytes), false);
  }

  finish(): ParsedDataset {
    this.feed(this.decoder.end(), true);
    this.reader!.finish();
    const { fileName, rows, columns } = this.sink;
    if (columns.length === 0)
      throw new EngineError(
        'DATA_NO_ROWS',
        `${fileName} has no valid rows. ${this.format === 'jsonl' ? 'JSONL needs one JSON object per line, e.g. {"text": "great movie", "label": "positive"}.' : 'It needs a header row (e.g. text,label) and data rows.'}`,
      );
    if (rows.length === 0)
      throw new EngineError(
        'DATA_NO_ROWS',
        `${fileName} has a header (${columns.join(', ')}) but no data rows. Add one row per example below the header.`,
      );
    checkSingleColumn(this.sink, this.format!);
    const warnings = [...this.decoder.warnings, ...this.sink.warnings];
    const delimiter = this.reader instanceof DelimitedReader ? this.reader.delimiter : null;
    const encoding: DatasetEncoding = this.decoder.encoding;
    return { fileName, format: this.format!, delimiter, encoding, columns, rows, warnings, bytes: this.decoder.bytes };
  }

  private feed(text: string, final: boolean): void {
    if (!this.sawText && text.trim() !== '') this.sawText = true;
    if (!this.reader) {
      this.sample += text;
      if (!final && !this.sampleReady()) return;
      if (!this.sawText) {
        throw new EngineError(
          'DATA_EMPTY',
          `${this.fileName} is empty (only whitespace). Choose a CSV, TSV or JSONL file with a header row and at least one data row.`,
        );
      }
      this.start(this.sample, final);
      text = this.sample;
      this.sample = '';
    }
    this.reader!.push(text, final);
  }

  /**
   * Enough text to choose format and delimiter: `sniffChars` characters that are not all
   * whitespace, holding the header line and one more (or one overlong row, reported later).
   */
  private sampleReady(): boolean {
    const s = this.sample;
    if (!this.sawText || s.length < (this.options.sniffChars ?? SNIFF_CHARS)) return false;
    if (s.length > this.sink.maxRowChars) return true;
    if (s.endsWith('\r')) return false; // the LF of a CRLF may be in the next chunk
    const lineBreak = /\r\n?|\n/g;
    lineBreak.lastIndex = s.search(/\S/);
    return lineBreak.exec(s) !== null && lineBreak.exec(s) !== null;
  }

  private start(sample: string, final: boolean): void {
    const forced = this.options.format;
    const kind = forced
      ? forced === 'jsonl'
        ? 'jsonl'
        : 'delimited'
      : sniffFormat(this.fileName, sample, this.sink.warnings);
    if (kind === 'jsonl') {
      this.format = 'jsonl';
      this.reader = new JsonlReader(this.sink);
      return;
    }
    // Lone CR line ends only in files without any LF (classic Mac); else LF, with CR dropped.
    const newline = sample.includes('\n') || !sample.includes('\r') ? '\n' : '\r';
    const ext = extensionOf(this.fileName);
    const preferTab = forced === 'tsv' || ext === 'tsv' || ext === 'tab';
    const delimiter =
      this.options.delimiter ?? sniffDelimiter(sample, newline, final, preferTab) ?? (preferTab ? '\t' : ',');
    this.format = delimiter === '\t' ? 'tsv' : 'csv';
    this.reader = new DelimitedReader(this.sink, delimiter, newline);
  }
}

/** Parses a whole file held in memory. Throws `EngineError` (codes `DATA_*`) for unusable files. */
export function parseDatasetFile(bytes: Uint8Array, fileName: string, options: ParseOptions = {}): ParsedDataset {
  const parser = new DatasetParser(fileName, options);
  parser.push(bytes);
  return parser.finish();
}

async function* chunksOf(source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (Symbol.asyncIterator in source) {
    yield* source as AsyncIterable<Uint8Array>;
    return;
  }
  // Not every browser makes ReadableStream async-iterable; the reader works everywhere.
  const reader = (source as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Parses a file as it streams in (e.g. `file.stream()` in the browser, `fs.createReadStream`
 * in Node), in slices of at most `chunkBytes`, calling `onProgress` after each slice and once at
 * the end. Same result as `parseDatasetFile` on the same bytes.
 */
export async function parseDatasetStream(
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  fileName: string,
  onProgress?: (progress: ParseProgress) => void,
  options: StreamOptions = {},
): Promise<ParsedDataset> {
  const parser = new DatasetParser(fileName, options);
  const step = Math.max(1, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  const report = () =>
    onProgress?.({ bytesRead: parser.bytesRead, totalBytes: options.totalBytes, rows: parser.rowCount });
  const checkAbort = () => {
    if (options.signal?.aborted) throw new EngineError('DATA_ABORTED', `Reading ${fileName} was cancelled.`);
  };
  for await (const chunk of chunksOf(source)) {
    for (let start = 0; start < chunk.length; start += step) {
      checkAbort();
      parser.push(chunk.subarray(start, Math.min(chunk.length, start + step)));
      report();
    }
  }
  checkAbort();
  const result = parser.finish();
  report();
  return result;
}
