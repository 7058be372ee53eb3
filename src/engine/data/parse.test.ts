import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { parseDatasetFile } from './parse';
import type { ParsedDataset } from './types';

const fixture = (name: string) => new Uint8Array(readFileSync(resolve(process.cwd(), 'tests/fixtures/data', name)));
const parseFixture = (name: string) => parseDatasetFile(fixture(name), name);
const enc = (s: string) => new TextEncoder().encode(s);
const plain = (d: ParsedDataset) => d.rows.map((r) => ({ ...r.values }));
const codes = (d: ParsedDataset) => d.warnings.map((w) => w.code);

function engineError(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  throw new Error('expected an EngineError');
}

describe('parseDatasetFile: fixtures', () => {
  it('strips a UTF-8 BOM from the first column name', () => {
    const d = parseFixture('bom.csv');
    expect(d.columns).toEqual(['text', 'label']);
    expect(d.encoding).toBe('utf-8');
    expect(d.format).toBe('csv');
    expect(plain(d)[0]).toEqual({ text: 'I love this café', label: 'positive' });
    expect(d.rows.map((r) => r.row)).toEqual([2, 3, 4]);
    expect(d.warnings).toEqual([]);
  });

  it('reads Windows line endings without a stray CR', () => {
    const d = parseFixture('crlf.csv');
    expect(plain(d)).toEqual([
      { text: 'great phone', label: 'positive' },
      { text: 'battery died in a day', label: 'negative' },
      { text: 'quoted, with comma', label: 'positive' },
    ]);
  });

  it('keeps quoted newlines, commas and doubled quotes; rows count records, lines count lines', () => {
    const d = parseFixture('quoted-newlines.csv');
    expect(d.rows.map((r) => r.values.text)).toEqual([
      'first line\nsecond line, with a comma',
      'he said "wow" twice',
      'plain row',
      'three\nline\ntext',
      'last row',
    ]);
    expect(d.rows.map((r) => r.row)).toEqual([2, 3, 4, 5, 6]);
    expect(d.rows.map((r) => r.line)).toEqual([2, 4, 5, 6, 9]);
    expect(d.warnings).toEqual([]);
  });

  it('pads short rows and drops extra fields, naming the rows', () => {
    const d = parseFixture('ragged.csv');
    expect(plain(d)).toEqual([
      { text: 'good movie', label: 'positive' },
      { text: 'missing label', label: '' },
      { text: 'bad movie', label: 'negative' },
      { text: 'ok movie', label: 'neutral' },
      { text: 'fine movie', label: 'positive' },
    ]);
    const short = d.warnings.find((w) => w.code === 'DATA_RAGGED_SHORT')!;
    const long = d.warnings.find((w) => w.code === 'DATA_RAGGED_LONG')!;
    expect(short.rows).toEqual([3]);
    expect(short.message).toMatch(/ragged\.csv.*fewer fields.*left empty.*Rows: 3\./);
    expect(long.rows).toEqual([4]); // row 5 only has a trailing empty field: silent
    expect(long.message).toMatch(/extra fields were dropped.*Rows: 4\..*double quotes/);
    expect(d.warnings).toHaveLength(2);
  });

  it('accepts one text column as unlabeled texts, with a warning', () => {
    const d = parseFixture('one-column.csv');
    expect(d.columns).toEqual(['text']);
    expect(d.rows).toHaveLength(3);
    expect(codes(d)).toEqual(['DATA_ONE_COLUMN']);
    expect(d.warnings[0].message).toMatch(/unlabeled texts.*add a label column/);
  });

  it('rejects one column that holds labels only', () => {
    const e = engineError(() => parseFixture('one-column-label.csv'));
    expect(e.code).toBe('DATA_ONE_COLUMN');
    expect(e.message).toMatch(/one-column-label\.csv.*"label".*no text.*Add a text column/);
  });

  it('rejects one column that is several names glued by an unsupported delimiter', () => {
    const e = engineError(() => parseDatasetFile(enc('text:label\nhello:pos\nbye:neg\n'), 'colon.csv'));
    expect(e.code).toBe('DATA_ONE_COLUMN');
    expect(e.message).toMatch(/comma, tab, semicolon or \|/);
  });

  it('parses a single-class file without complaint', () => {
    const d = parseFixture('one-label.csv');
    expect(d.rows.map((r) => r.values.label)).toEqual(['spam', 'spam', 'spam']);
    expect(d.warnings).toEqual([]);
  });

  it('reads TSV (format from the extension, tab delimiter), keeping an empty text cell', () => {
    const d = parseFixture('data.tsv');
    expect(d.format).toBe('tsv');
    expect(d.delimiter).toBe('\t');
    expect(d.columns).toEqual(['sentence', 'label']);
    expect(plain(d)).toEqual([
      { sentence: 'an utterly charming film, really', label: 'positive' },
      { sentence: '', label: 'negative' },
      { sentence: 'slow and dull', label: 'negative' },
    ]);
  });

  it('reads JSONL, skipping a bad line and a non-object with their line numbers', () => {
    const d = parseFixture('bad-line.jsonl');
    expect(d.format).toBe('jsonl');
    expect(d.delimiter).toBeNull();
    expect(d.columns).toEqual(['text', 'label', 'score']);
    expect(d.rows.map((r) => r.row)).toEqual([1, 4, 6]);
    expect(plain(d)).toEqual([
      { text: 'great product', label: 'positive', score: '' },
      { text: 'works as described', label: 'positive', score: '4' },
      { text: 'no label here', label: '', score: '' },
    ]);
    const bad = d.warnings.find((w) => w.code === 'DATA_BAD_JSON_LINE')!;
    expect(bad.rows).toEqual([2]);
    expect(bad.message).toMatch(/bad-line\.jsonl: 1 line is not valid JSON and was skipped.*Lines: 2\./);
    expect(d.warnings.find((w) => w.code === 'DATA_NOT_OBJECT')!.rows).toEqual([5]);
    expect(d.warnings.find((w) => w.code === 'DATA_MISSING_KEY' && w.message.includes('"label"'))!.rows).toEqual([6]);
  });

  it('sniffs a semicolon delimiter even with commas inside texts', () => {
    const d = parseFixture('semicolon.csv');
    expect(d.delimiter).toBe(';');
    expect(d.format).toBe('csv');
    expect(plain(d)).toEqual([
      { text: 'I paid 3,50 for this; not worth it', label: 'negative' },
      { text: 'best purchase, ever', label: 'positive' },
      { text: 'meh', label: 'neutral' },
    ]);
  });

  it('sniffs a pipe delimiter in a .txt file', () => {
    const d = parseFixture('pipe.txt');
    expect(d.delimiter).toBe('|');
    expect(d.columns).toEqual(['review', 'rating_class']);
    expect(d.rows[1].values.rating_class).toBe('bad');
  });

  it('rejects a PNG as binary, saying what it is', () => {
    const e = engineError(() => parseFixture('binary.png'));
    expect(e.code).toBe('DATA_BINARY');
    expect(e.message).toMatch(/binary\.png is a PNG image.*CSV, TSV or JSONL/);
  });

  it('rejects binary bytes without a known signature (NUL byte)', () => {
    const bytes = enc('text,label\nab');
    const withNul = new Uint8Array([...bytes, 0, 1, 2]);
    const e = engineError(() => parseDatasetFile(withNul, 'blob.csv'));
    expect(e.code).toBe('DATA_BINARY');
    expect(e.message).toMatch(/NUL byte at offset 13/);
  });

  it('rejects an empty file and a whitespace-only file', () => {
    expect(engineError(() => parseFixture('empty.csv')).code).toBe('DATA_EMPTY');
    expect(engineError(() => parseDatasetFile(enc(' \n\r\n  \n'), 'blank.csv')).code).toBe('DATA_EMPTY');
    expect(engineError(() => parseDatasetFile(new Uint8Array([0xef, 0xbb, 0xbf]), 'bom-only.csv')).code).toBe(
      'DATA_EMPTY',
    );
  });

  it('rejects a header without data rows', () => {
    const e = engineError(() => parseDatasetFile(enc('text,label\n\n'), 'header.csv'));
    expect(e.code).toBe('DATA_NO_ROWS');
    expect(e.message).toMatch(/header \(text, label\) but no data rows/);
  });

  it('reads latin-1 bytes as windows-1252 with a warning giving the byte offset', () => {
    const d = parseFixture('latin1.csv');
    expect(d.encoding).toBe('windows-1252');
    expect(plain(d)).toEqual([
      { text: 'crème brûlée was great', label: 'positive' },
      { text: 'naïve façade', label: 'negative' },
    ]);
    expect(d.warnings[0].code).toBe('DATA_WINDOWS_1252');
    // "text,label\ncr" is 13 bytes, so è (0xE8) sits at offset 13 on line 2.
    expect(d.warnings[0].message).toMatch(/byte offset 13 \(line 2, byte 0xE8\)/);
    expect(d.warnings[0].message).toMatch(/re-save the file as UTF-8/);
  });

  it('with encoding "utf-8" a latin-1 file is an error naming the offset', () => {
    const e = engineError(() => parseDatasetFile(fixture('latin1.csv'), 'latin1.csv', { encoding: 'utf-8' }));
    expect(e.code).toBe('DATA_NOT_UTF8');
    expect(e.message).toMatch(/latin1\.csv is not valid UTF-8.*byte offset 13.*Re-save the file as UTF-8/);
  });

  it('reads a pair dataset', () => {
    const d = parseFixture('pair.csv');
    expect(d.columns).toEqual(['sentence1', 'sentence2', 'label']);
    expect(d.rows[2].values).toEqual({
      sentence1: 'A woman reads a book.',
      sentence2: 'She is at a library.',
      label: 'neutral',
    });
  });

  it('renames a repeated column name and says so', () => {
    const d = parseFixture('duplicate-columns.csv');
    expect(d.columns).toEqual(['text', 'label', 'text_2']);
    expect(d.rows[0].values).toEqual({ text: 'first', label: 'a', text_2: 'other one' });
    expect(codes(d)).toEqual(['DATA_DUPLICATE_COLUMN']);
    expect(d.warnings[0].message).toMatch(/"text" \(column 3\) → "text_2"/);
  });
});

describe('parseDatasetFile: encodings and edge cases', () => {
  it('decodes UTF-16 LE and BE by their BOM', () => {
    const text = 'text,label\nñandú ok,pos\n';
    const le = new Uint8Array(2 + text.length * 2);
    const be = new Uint8Array(2 + text.length * 2);
    le.set([0xff, 0xfe]);
    be.set([0xfe, 0xff]);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      le[2 + 2 * i] = c & 0xff;
      le[3 + 2 * i] = c >> 8;
      be[2 + 2 * i] = c >> 8;
      be[3 + 2 * i] = c & 0xff;
    }
    for (const [bytes, encoding] of [
      [le, 'utf-16le'],
      [be, 'utf-16be'],
    ] as const) {
      const d = parseDatasetFile(bytes, 'u16.csv');
      expect(d.encoding).toBe(encoding);
      expect(plain(d)).toEqual([{ text: 'ñandú ok', label: 'pos' }]);
    }
  });

  it('keeps UTF-8 after real multi-byte text and replaces a later corrupt byte', () => {
    const good = enc('text,label\ncafé,a\n');
    const bytes = new Uint8Array([...good, 0x62, 0xff, 0x63, 0x2c, 0x62, 0x0a]); // "b\xFFc,b\n"
    const d = parseDatasetFile(bytes, 'mixed.csv');
    expect(d.encoding).toBe('utf-8');
    expect(plain(d)).toEqual([
      { text: 'café', label: 'a' },
      { text: 'b\uFFFDc', label: 'b' },
    ]);
    expect(d.warnings[0].code).toBe('DATA_BAD_UTF8');
    expect(d.warnings[0].message).toMatch(new RegExp(`byte offset ${good.length + 1} \\(line 3`));
  });

  it('reads JSON lines in a file named .csv as JSONL, with a warning', () => {
    const d = parseDatasetFile(enc('{"text":"a b","label":"x"}\n{"text":"c","label":"y"}\n'), 'actually.csv');
    expect(d.format).toBe('jsonl');
    expect(codes(d)).toEqual(['DATA_FORMAT_MISMATCH']);
  });

  it('rejects a JSON array with the fix', () => {
    const e = engineError(() => parseDatasetFile(enc('[{"text":"a","label":"b"}]'), 'data.json'));
    expect(e.code).toBe('DATA_JSON_ARRAY');
    expect(e.message).toMatch(/one object per line/);
  });

  it('counts blank lines as rows (spreadsheet numbering) and skips them', () => {
    const d = parseDatasetFile(enc('text,label\n\na,x\n\n\nb,y'), 'gaps.csv');
    expect(d.rows.map((r) => [r.row, r.values.text])).toEqual([
      [3, 'a'],
      [6, 'b'],
    ]);
  });

  it('handles mixed LF/CRLF and classic-Mac CR line endings', () => {
    expect(plain(parseDatasetFile(enc('text,label\r\na,x\nb,y\r\n'), 'mixed.csv'))).toEqual([
      { text: 'a', label: 'x' },
      { text: 'b', label: 'y' },
    ]);
    expect(plain(parseDatasetFile(enc('text,label\ra,x\rb,y\r'), 'mac.csv'))).toEqual([
      { text: 'a', label: 'x' },
      { text: 'b', label: 'y' },
    ]);
  });

  it('a quote that never closes is an error naming the row, when it swallows other lines', () => {
    const e = engineError(() => parseDatasetFile(enc('text,label\nok,x\n"broken,y\nmore,z\nrest,w\n'), 'q.csv'));
    expect(e.code).toBe('DATA_UNCLOSED_QUOTE');
    expect(e.message).toMatch(/q\.csv: row 3 \(line 3\) opens a quoted cell/);
  });

  it('an unclosed quote on the last line only is a warning', () => {
    const d = parseDatasetFile(enc('text,label\nok,x\n"broken,y'), 'q.csv');
    expect(d.rows[1].values.text).toBe('broken,y');
    expect(d.warnings.find((w) => w.code === 'DATA_UNCLOSED_QUOTE')!.rows).toEqual([3]);
  });

  it('warns when the first row looks like data instead of a header', () => {
    const long = 'this is clearly a sentence from the data and not the name of any column at all';
    const d = parseDatasetFile(enc(`${long},positive\nanother,negative\n`), 'nohead.csv');
    expect(codes(d)).toContain('DATA_NO_HEADER');
  });

  it('honors forced format and delimiter options', () => {
    const d = parseDatasetFile(enc('a;b\n1;2\n'), 'x.csv', { delimiter: ',' });
    expect(d.columns).toEqual(['a;b']); // forced comma: one column
    const t = parseDatasetFile(enc('text\tlabel\nx\ty\n'), 'x.dat', { format: 'tsv' });
    expect(t.delimiter).toBe('\t');
  });

  it('is not fooled by a column named __proto__', () => {
    const d = parseDatasetFile(enc('__proto__,label\nhello,x\n'), 'proto.csv');
    expect(d.rows[0].values['__proto__']).toBe('hello');
    expect(Object.keys(d.rows[0].values)).toEqual(['__proto__', 'label']);
  });
});
