/**
 * Node-only helpers shared by the tokenizer tests (fixture paths, CSV reading, the Hugging Face
 * Rust tokenizer used as an oracle). Imported by `*.test.ts` files only, never by engine code.
 *
 * The bert-base-uncased files come from the repository (the embedded model's vocab.txt and a
 * vendored tokenizer.json without its vocabulary), so these tests run without `../shared`; only the
 * datasets' texts (`loadDatasetTexts`) need it. See tests/fixtures/README.md.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Tokenizer as OracleTokenizer } from 'tokenizers';
import { sharedPath } from '../../../tests/support/shared-data';

const REPO_DIR = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES_DIR = path.join(REPO_DIR, 'tests/fixtures');
/** bert-base-uncased's vocab.txt: the embedded default model ships this very file. */
export const VOCAB_TXT_PATH = path.join(REPO_DIR, 'public/models/fewshot-mini/vocab.txt');
/** SHA-256 of bert-base-uncased's vocab.txt (30,522 tokens). */
const BERT_UNCASED_VOCAB_SHA256 = '07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3';
/** bert-base-uncased's tokenizer.json with `model.vocab` emptied; `bertUncasedTokenizerJson` refills it. */
export const TOKENIZER_JSON_WITHOUT_VOCAB_PATH = path.join(
  FIXTURES_DIR,
  'tokenizer/bert-base-uncased.tokenizer-without-vocab.json',
);
/** The `Xenova/bert-base-uncased` rows of the shared `bert_tokenizer_cases.jsonl`. */
export const CASES_PATH = path.join(FIXTURES_DIR, 'tokenizer/bert_tokenizer_cases.bert-base-uncased.jsonl');
/**
 * The rows of the shared `bert_tokenizer_cases.jsonl` for other BERT WordPiece models (cased, Chinese,
 * many-language vocabularies; `WORDPIECE_CASE_MODELS` in tests/support/vendored-fixtures.ts).
 */
export const OTHER_WORDPIECE_CASES_PATH = path.join(
  FIXTURES_DIR,
  'tokenizer/bert_tokenizer_cases.other-wordpiece.jsonl',
);
/** A few SST-2 rows (`train.csv`, `test.csv`), for checks that must also run without `../shared`. */
export const FIXTURE_SST2_DIR = path.join(FIXTURES_DIR, 'datasets/sst2');
/** Every benchmark dataset: in `../shared` only. */
export const DATASETS_DIR = sharedPath('data/datasets');

export function readText(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

/**
 * bert-base-uncased's vocab.txt. Checked by hash because it is borrowed from the embedded model:
 * should that model ever get another vocabulary, the tokenizer tests must say so, not fail on ids.
 */
export function readBertUncasedVocabTxt(): string {
  const text = readText(VOCAB_TXT_PATH);
  const sha256 = createHash('sha256').update(text).digest('hex');
  if (sha256 !== BERT_UNCASED_VOCAB_SHA256) {
    throw new Error(
      `${VOCAB_TXT_PATH} is no longer bert-base-uncased's vocab.txt (sha256 ${sha256}); ` +
        'the tokenizer tests need that vocabulary: vendor it under tests/fixtures/tokenizer and point VOCAB_TXT_PATH there.',
    );
  }
  return text;
}

/** bert-base-uncased's tokenizer.json, parsed: the vendored file with its vocabulary refilled (id = line). */
export function bertUncasedTokenizerJson(): Record<string, unknown> & {
  model: Record<string, unknown>;
  normalizer: Record<string, unknown>;
} {
  const json = JSON.parse(readText(TOKENIZER_JSON_WITHOUT_VOCAB_PATH));
  const tokens = readBertUncasedVocabTxt().split('\n');
  if (tokens[tokens.length - 1] === '') tokens.pop();
  json.model.vocab = Object.fromEntries(tokens.map((token, id) => [token, id]));
  return json;
}

/** The official HF Rust tokenizer (bert-base-uncased unless `json` is given), padding and truncation off. */
export function loadOracle(json: unknown = bertUncasedTokenizerJson()): OracleTokenizer {
  // `tokenizers` is a CommonJS native addon; require keeps vitest from transforming it.
  const require = createRequire(import.meta.url);
  const { Tokenizer } = require('tokenizers') as typeof import('tokenizers');
  const oracle = Tokenizer.fromString(JSON.stringify(json));
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

/** The `text` column of a CSV file. */
function csvTexts(file: string): string[] {
  const [header, ...rows] = parseCsv(readText(file));
  const column = header.indexOf('text');
  if (column < 0) throw new Error(`${file} has no text column: ${header.join(',')}`);
  return rows.map((row) => row[column]);
}

/** The `text` column of every `datasets/<name>/test.csv` in `../shared` (which must be present). */
export function loadDatasetTexts(): { dataset: string; texts: string[] }[] {
  return fs
    .readdirSync(DATASETS_DIR)
    .sort()
    .filter((name) => fs.existsSync(path.join(DATASETS_DIR, name, 'test.csv')))
    .map((dataset) => ({ dataset, texts: csvTexts(path.join(DATASETS_DIR, dataset, 'test.csv')) }));
}

/**
 * Texts in the repository: the vendored SST-2 rows and the golden cases' texts and text pairs
 * (accents, CJK, emoji, [MASK]). Far fewer than `loadDatasetTexts`, but always there.
 */
export function loadFixtureTexts(): { dataset: string; texts: string[] }[] {
  const cases = readText(CASES_PATH)
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as { text: string; text_pair: string | null });
  return [
    { dataset: 'sst2/train.csv', texts: csvTexts(path.join(FIXTURE_SST2_DIR, 'train.csv')) },
    { dataset: 'sst2/test.csv', texts: csvTexts(path.join(FIXTURE_SST2_DIR, 'test.csv')) },
    {
      dataset: 'bert_tokenizer_cases',
      texts: cases.flatMap(({ text, text_pair }) => (text_pair === null ? [text] : [text, text_pair])),
    },
  ];
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
