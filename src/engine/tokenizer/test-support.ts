/**
 * Node-only helpers shared by the tokenizer tests (fixture paths, CSV reading, the Hugging Face
 * Rust tokenizer used as an oracle). Imported by `*.test.ts` files only, never by engine code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Tokenizer as OracleTokenizer } from 'tokenizers';

/** /work/shared, resolved from the repository root (tests run with cwd = repo root). */
export const SHARED_DIR = path.resolve(process.cwd(), '../shared');
export const BERT_UNCASED_DIR = path.join(SHARED_DIR, 'data/tokenizer/bert-base-uncased');
export const VOCAB_TXT_PATH = path.join(BERT_UNCASED_DIR, 'vocab.txt');
export const TOKENIZER_JSON_PATH = path.join(BERT_UNCASED_DIR, 'tokenizer.json');
export const CASES_PATH = path.join(SHARED_DIR, 'data/tokenizer/bert_tokenizer_cases.jsonl');
export const DATASETS_DIR = path.join(SHARED_DIR, 'data/datasets');

export function readText(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

/** The official HF Rust tokenizer with the file's own padding/truncation switched off. */
export function loadOracle(): OracleTokenizer {
  // `tokenizers` is a CommonJS native addon; require keeps vitest from transforming it.
  const require = createRequire(import.meta.url);
  const { Tokenizer } = require('tokenizers') as typeof import('tokenizers');
  const oracle = Tokenizer.fromFile(TOKENIZER_JSON_PATH);
  oracle.disableTruncation();
  oracle.disablePadding();
  return oracle;
}

/**
 * Parses CSV as RFC 4180: fields separated by commas, optionally double-quoted; inside quotes a
 * doubled quote is a quote and commas/newlines are literal. Returns rows of fields.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let inQuotes = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        inQuotes = false;
      } else {
        field += ch;
      }
      i++;
      continue;
    }
    if (ch === '"') inQuotes = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
    i++;
  }
  if (field.length > 0 || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** The `text` column of every `datasets/<name>/test.csv`. */
export function loadDatasetTexts(): { dataset: string; texts: string[] }[] {
  return fs
    .readdirSync(DATASETS_DIR)
    .sort()
    .filter((name) => fs.existsSync(path.join(DATASETS_DIR, name, 'test.csv')))
    .map((dataset) => {
      const [header, ...rows] = parseCsv(readText(path.join(DATASETS_DIR, dataset, 'test.csv')));
      const column = header.indexOf('text');
      if (column < 0) throw new Error(`${dataset}/test.csv has no text column: ${header.join(',')}`);
      return { dataset, texts: rows.map((row) => row[column]) };
    });
}

/**
 * Maps code point index → UTF-16 index for `text` (length = code points + 1). The Rust oracle
 * reports offsets in code points; ours are UTF-16 units.
 */
export function codePointToUtf16(text: string): number[] {
  const map: number[] = [];
  let unit = 0;
  for (const ch of text) {
    map.push(unit);
    unit += ch.length;
  }
  map.push(unit);
  return map;
}

/** Converts oracle offsets (code points into `text`) to UTF-16 offsets; special tokens stay [0, 0]. */
export function oracleOffsetsToUtf16(
  offsets: number[][],
  texts: string[],
  sequenceIds: (number | null | undefined)[],
): [number, number][] {
  const maps = texts.map((text) => (/[\ud800-\udfff]/.test(text) ? codePointToUtf16(text) : null));
  return offsets.map(([start, end], k) => {
    const sequence = sequenceIds[k];
    const map = sequence === null || sequence === undefined ? null : maps[sequence];
    return map === null ? [start, end] : [map[start], map[end]];
  });
}
