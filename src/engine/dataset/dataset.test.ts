import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../checkpoint/types';
import { applyColumnMapping, detectColumns, parseDatasetFile } from '.';

const utf8 = (text: string) => new TextEncoder().encode(text);
const DATASETS = '../shared/data/datasets';

function expectEngineError(fn: () => unknown, code: string, message: RegExp) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe(code);
    expect((error as EngineError).message).toMatch(message);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('parseDatasetFile + detectColumns on the real datasets', () => {
  for (const name of readdirSync(DATASETS)) {
    it(`${name}/train.csv: parses and finds text + label`, () => {
      const bytes = new Uint8Array(readFileSync(`${DATASETS}/${name}/train.csv`));
      const parsed = parseDatasetFile(bytes, 'train.csv');
      expect(parsed.columns).toEqual(['text', 'label']);
      expect(parsed.rows.length).toBeGreaterThan(10);
      const detected = detectColumns(parsed.columns, parsed.rows.slice(0, 200));
      expect(detected).toMatchObject({ text: 'text', label: 'label', textPair: null });
      const examples = applyColumnMapping(parsed, detected);
      expect(examples.every((e) => e.text.length > 0 && e.label !== null)).toBe(true);
    });
  }
});

describe('parseDatasetFile on awkward files', () => {
  it('strips a BOM, handles CRLF and quoted fields with embedded newlines and commas', () => {
    const parsed = parseDatasetFile(utf8('\uFEFFtext,label\r\n"hello, world",pos\r\n"two\r\nlines",neg\r\n'), 'a.csv');
    expect(parsed.columns).toEqual(['text', 'label']);
    expect(parsed.rows.map((r) => r.values.text)).toEqual(['hello, world', 'two\r\nlines']);
    expect(parsed.rows.map((r) => r.row)).toEqual([1, 2]);
  });

  it('pads short rows and drops extra fields, with row numbers in warnings', () => {
    const parsed = parseDatasetFile(utf8('text,label\nonly text\nok,pos\ntoo,many,fields\n'), 'r.csv');
    expect(parsed.rows[0].values).toEqual({ text: 'only text', label: '' });
    expect(parsed.rows[2].values).toEqual({ text: 'too', label: 'many' });
    expect(parsed.warnings.join('\n')).toMatch(/fewer fields.*Rows: 1\./);
    expect(parsed.warnings.join('\n')).toMatch(/more fields.*Rows: 3\./);
  });

  it('reads TSV, semicolon-separated and pipe-separated files', () => {
    expect(parseDatasetFile(utf8('sentence\tlabel\na, b\tx\nc\ty\n'), 'a.tsv').rows[0].values).toEqual({ sentence: 'a, b', label: 'x' });
    expect(parseDatasetFile(utf8('text;label\nhello;pos\nbye;neg\n'), 'a.csv').columns).toEqual(['text', 'label']);
    expect(parseDatasetFile(utf8('text|label\nhello|pos\nbye|neg\n'), 'a.csv').rows[1].values.label).toBe('neg');
  });

  it('reads JSONL and skips bad lines with their numbers', () => {
    const parsed = parseDatasetFile(utf8('{"text": "a", "label": 1}\nnot json\n{"text": "b", "label": "x", "extra": true}\n[1,2]\n'), 'd.jsonl');
    expect(parsed.format).toBe('jsonl');
    expect(parsed.columns).toEqual(['text', 'label', 'extra']);
    expect(parsed.rows.map((r) => r.values)).toEqual([
      { text: 'a', label: '1', extra: '' },
      { text: 'b', label: 'x', extra: 'true' },
    ]);
    expect(parsed.warnings[0]).toMatch(/Lines: 2, 4\./);
  });

  it('reads Windows-1252 bytes with a warning that names the first bad byte', () => {
    const bytes = new Uint8Array([...utf8('text,label\ncaf'), 0xe9, ...utf8(',pos\n')]);
    const parsed = parseDatasetFile(bytes, 'latin.csv');
    expect(parsed.encoding).toBe('windows-1252');
    expect(parsed.rows[0].values.text).toBe('café');
    expect(parsed.warnings[0]).toMatch(/not valid UTF-8 \(first bad byte at offset 14\)/);
  });

  it('reads UTF-16 with a BOM', () => {
    const text = 'text,label\nhé,pos\n';
    const bytes = new Uint8Array(2 + text.length * 2);
    bytes.set([0xff, 0xfe]);
    for (let i = 0; i < text.length; i++) bytes.set([text.charCodeAt(i) & 0xff, text.charCodeAt(i) >> 8], 2 + i * 2);
    expect(parseDatasetFile(bytes, 'u16.csv').rows[0].values.text).toBe('hé');
  });

  it('renames duplicate and blank header names', () => {
    const parsed = parseDatasetFile(utf8('text,text,\na,b,c\n'), 'dup.csv');
    expect(parsed.columns).toEqual(['text', 'text (2)', 'column 3']);
    expect(parsed.warnings[0]).toMatch(/more than once/);
  });

  it('rejects empty, whitespace-only, header-only and binary files with specific errors', () => {
    expectEngineError(() => parseDatasetFile(new Uint8Array(), 'e.csv'), 'DATA_EMPTY', /e\.csv is empty/);
    expectEngineError(() => parseDatasetFile(utf8('  \n\n'), 'w.csv'), 'DATA_EMPTY', /whitespace/);
    expectEngineError(() => parseDatasetFile(utf8('text,label\n'), 'h.csv'), 'DATA_NO_ROWS', /no data rows/);
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);
    expectEngineError(() => parseDatasetFile(png, 'photo.csv'), 'DATA_BINARY', /binary file/);
  });
});

describe('detectColumns', () => {
  const rows = (records: Record<string, string>[]) => records.map((values, i) => ({ values, row: i + 1 }));

  it('finds a pair dataset by names', () => {
    const d = detectColumns(['sentence1', 'sentence2', 'gold'], rows([{ sentence1: 'a', sentence2: 'b', gold: 'x' }]));
    expect(d).toMatchObject({ text: 'sentence1', textPair: 'sentence2', label: 'gold' });
  });

  it('falls back to statistics when names say nothing', () => {
    const data = Array.from({ length: 20 }, (_, i) => ({ id: String(i), body_txt: `a fairly long sentence number ${i} about things`, kind: i % 2 ? 'spam' : 'ham' }));
    const d = detectColumns(['id', 'body_txt', 'kind'], rows(data));
    expect(d.text).toBe('body_txt');
    expect(d.label).toBe('kind');
    expect(d.reasons.join(' ')).toMatch(/longest values/);
  });

  it('treats a single-column file as unlabeled texts', () => {
    const parsed = parseDatasetFile(utf8('review\ngreat film with a long description\nbad film with another long description\nok\n'), 'one.csv');
    const d = detectColumns(parsed.columns, parsed.rows);
    expect(d).toMatchObject({ text: 'review', label: null });
    expect(applyColumnMapping(parsed, d).every((e) => e.label === null)).toBe(true);
  });

  it('keeps rows with an empty label as unlabeled and trims labels', () => {
    const parsed = parseDatasetFile(utf8('text,label\na, pos \nb,\n'), 'u.csv');
    expect(applyColumnMapping(parsed, { text: 'text', textPair: null, label: 'label' }).map((e) => e.label)).toEqual(['pos', null]);
  });
});
