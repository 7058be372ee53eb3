/**
 * Fuzzing dataset files (src/engine/data, and the door's `parseDataset` in studio/data.ts):
 * CSV/TSV/JSONL written with every quoting, line ending, BOM and encoding choice must read back
 * exactly; streaming in random chunks must give what the in-memory parser gives, for good and
 * broken files alike; mutated files, fixtures and random bytes end in a dataset or an EngineError.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDatasetFile, parseDatasetStream } from '../../src/engine/data';
import type { ParseOptions, ParsedDataset, StreamOptions } from '../../src/engine/data/types';
import { parseDataset } from '../../src/engine/studio/data';
import { RUNS, mutatedBytesOf, runCase, runCaseAsync, utf8, type Outcome } from './support';

const FIXTURE_DIR = resolve(process.cwd(), 'tests/fixtures/data');
const FIXTURES = readdirSync(FIXTURE_DIR).filter((f) => f !== 'README.md');
const fixture = (name: string) => new Uint8Array(readFileSync(resolve(FIXTURE_DIR, name)));

/** Control characters other than tab and line feed: a file full of them is refused as binary. */
const isControl = (c: string) => (c < ' ' && c !== '\t' && c !== '\n') || c === '\u007f';

/**
 * Cell text: the characters that matter to CSV/TSV/JSON (delimiters, quotes, line feeds, braces,
 * backslashes), spaces, accents, CJK and emoji. Lone CRs are left out: a CR at the end of a row's
 * last cell is read as half of a CRLF.
 */
const cellText = fc.oneof(
  fc.string({ maxLength: 12, unit: fc.constantFrom(...'ab ,;|\t"\'\n{}[]\\é中🙂#'.split(/(?:)/u)) }),
  fc.string({ maxLength: 12, unit: 'grapheme' }).filter((s) => ![...s].some(isControl)),
);
/** Labels that are neither blank nor a missing-value marker (those are read as "no label"). */
const labelText = fc.constantFrom('positive', 'negative', 'neutral', 'spam', '1', '0', 'très bien', '好');

interface Example {
  text: string;
  label: string;
}

interface Written {
  fileName: string;
  bytes: Uint8Array;
  rows: Example[];
  format: 'csv' | 'tsv' | 'jsonl';
}

function quoteCell(cell: string, delimiter: string, always: boolean): string {
  const needs = always || cell.includes(delimiter) || /["\n\r]/.test(cell) || cell.trim() !== cell;
  return needs ? `"${cell.replace(/"/g, '""')}"` : cell;
}

function encode(text: string, encoding: 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be'): Uint8Array {
  if (encoding === 'utf-8') return utf8(text);
  if (encoding === 'utf-8-bom') return utf8('\ufeff' + text);
  const out = new Uint8Array(2 + 2 * text.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0xfeff, encoding === 'utf-16le');
  for (let i = 0; i < text.length; i++) view.setUint16(2 + 2 * i, text.charCodeAt(i), encoding === 'utf-16le');
  return out;
}

/** A valid labeled dataset written as CSV, TSV or JSONL with a random mix of legal choices. */
const datasetFile = (minRows: number, maxRows: number): fc.Arbitrary<Written> =>
  fc
    .record({
      rows: fc.array(fc.record({ text: cellText, label: labelText }), { minLength: minRows, maxLength: maxRows }),
      format: fc.constantFrom('csv' as const, 'tsv' as const, 'jsonl' as const),
      labelFirst: fc.boolean(),
      quoteAll: fc.boolean(),
      crlf: fc.boolean(),
      trailingNewline: fc.boolean(),
      encoding: fc.constantFrom('utf-8' as const, 'utf-8-bom' as const, 'utf-16le' as const, 'utf-16be' as const),
    })
    // A file whose every text is empty is a dataset of empty texts; keep at least one real text.
    .filter(({ rows }) => rows.some((r) => r.text.trim() !== ''))
    .map(({ rows, format, labelFirst, quoteAll, crlf, trailingNewline, encoding }) => {
      const eol = crlf ? '\r\n' : '\n';
      const columns = labelFirst ? (['label', 'text'] as const) : (['text', 'label'] as const);
      let lines: string[];
      if (format === 'jsonl') {
        lines = rows.map((r) => JSON.stringify(labelFirst ? { label: r.label, text: r.text } : r));
      } else {
        const delimiter = format === 'csv' ? ',' : '\t';
        lines = [columns.join(delimiter)];
        for (const r of rows) lines.push(columns.map((c) => quoteCell(r[c], delimiter, quoteAll)).join(delimiter));
      }
      const text = lines.join(eol) + (trailingNewline ? eol : '');
      return { fileName: `data.${format}`, bytes: encode(text, encoding), rows, format };
    });
const writtenDataset = datasetFile(1, 15);
/**
 * Files past the decoder's first KiB (held back for the binary check), so that streaming really
 * reaches the format sniffing and the readers chunk by chunk.
 */
const longDataset = datasetFile(60, 120);

/** What every accepted file must satisfy, whatever its bytes. */
function checkAccepted(d: ParsedDataset): void {
  expect(d.rows.length).toBeGreaterThan(0);
  expect(new Set(d.columns).size).toBe(d.columns.length);
  for (const c of d.columns) expect(c.length).toBeGreaterThan(0);
  expect(d.delimiter === null).toBe(d.format === 'jsonl');
  let previous = 0;
  for (const r of d.rows) {
    expect(r.row).toBeGreaterThan(previous);
    previous = r.row;
    for (const c of d.columns) {
      if (!Object.prototype.hasOwnProperty.call(r.values, c) || typeof r.values[c] !== 'string')
        expect.fail(`row ${r.row} lacks column ${JSON.stringify(c)}`);
    }
  }
  for (const w of d.warnings) {
    expect(w.code).toMatch(/^DATA_[A-Z0-9_]+$/);
    expect(w.message.length).toBeGreaterThan(0);
  }
}

async function* chunksOf(bytes: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length];
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

/** The comparable part of an outcome: the dataset, or the error's code. */
const comparable = (o: Outcome<ParsedDataset>) => (o.ok ? o.value : o.error.code);

/** Small windows and limits so that short generated files cross every boundary the parser has. */
const parseOptions: fc.Arbitrary<ParseOptions> = fc.record(
  {
    // Below 1024 the binary check sees whatever the first chunk held (a test-only knob).
    sniffBytes: fc.integer({ min: 1024, max: 1100 }),
    sniffChars: fc.integer({ min: 1, max: 64 }),
    maxRowChars: fc.integer({ min: 1, max: 200 }),
    encoding: fc.constantFrom('auto' as const, 'utf-8' as const, 'windows-1252' as const),
  },
  { requiredKeys: [] },
);

const FILE_NAMES = ['data.csv', 'data.tsv', 'data.jsonl', 'data.json', 'data.txt', 'data'];

/** Broken and odd inputs: edited valid files and fixtures, random bytes and text, under any name. */
const brokenFile = fc.record({
  bytes: fc.oneof(
    { weight: 3, arbitrary: writtenDataset.chain((w) => mutatedBytesOf([w.bytes])) },
    { weight: 2, arbitrary: mutatedBytesOf(FIXTURES.map(fixture)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'grapheme' }).map(utf8) },
  ),
  fileName: fc.constantFrom(...FILE_NAMES),
});

describe('fuzz: dataset files', () => {
  const fixturesBefore = FIXTURES.map((name) => comparable(runCase(() => parseDatasetFile(fixture(name), name))));

  it('reads valid CSV, TSV and JSONL back exactly (quoting, CRLF, BOM, UTF-16), through the door too', () => {
    fc.assert(
      fc.property(writtenDataset, ({ fileName, bytes, rows, format }) => {
        const outcome = runCase(() => parseDatasetFile(bytes, fileName), bytes.length);
        if (!outcome.ok) throw outcome.error;
        checkAccepted(outcome.value);
        expect(outcome.value.format).toBe(format);
        expect(outcome.value.rows.map((r) => ({ text: r.values.text, label: r.values.label }))).toEqual(rows);

        const door = runCase(() => parseDataset(bytes, fileName), bytes.length);
        if (!door.ok) throw door.error;
        expect(door.value.mapping).toEqual({ text: 'text', textPair: null, label: 'label' });
        expect(door.value.examples.map((e) => ({ text: e.text, label: e.label }))).toEqual(rows);
        expect(door.value.summary.total).toBe(rows.length);
      }),
      { numRuns: RUNS, seed: 0xda7a_0001 },
    );
  });

  it('streams in random chunks to exactly what the in-memory parser gives, good files and broken', async () => {
    const input = fc.record({
      file: fc.oneof(
        { weight: 2, arbitrary: longDataset.map((w) => ({ bytes: w.bytes, fileName: w.fileName })) },
        {
          weight: 2,
          arbitrary: fc.record({
            bytes: longDataset.chain((w) => mutatedBytesOf([w.bytes])),
            fileName: fc.constantFrom(...FILE_NAMES),
          }),
        },
        { weight: 1, arbitrary: brokenFile },
      ),
      sizes: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }),
      chunkBytes: fc.integer({ min: 1, max: 64 }),
      options: parseOptions,
    });
    await fc.assert(
      fc.asyncProperty(input, async ({ file, sizes, chunkBytes, options }) => {
        const n = file.bytes.length;
        const stream = (o: StreamOptions) =>
          runCaseAsync(() => parseDatasetStream(chunksOf(file.bytes, sizes), file.fileName, undefined, o), n);
        // A row longer than maxRowChars is refused only when a chunk boundary falls far enough into
        // it (the limit guards the unfinished row), so outcomes are compared with a limit no row
        // reaches; under the small limit both entry points must still give a result or an EngineError.
        const roomy = { ...options, maxRowChars: Math.max(options.maxRowChars ?? 0, n + 1) };
        const whole = runCase(() => parseDatasetFile(file.bytes, file.fileName, roomy), n);
        const streamed = await stream({ ...roomy, chunkBytes });
        expect(comparable(streamed)).toEqual(comparable(whole));
        if (whole.ok) checkAccepted(whole.value);
        if (options.maxRowChars !== undefined) {
          const small = runCase(() => parseDatasetFile(file.bytes, file.fileName, options), n);
          if (small.ok) checkAccepted(small.value);
          const smallStreamed = await stream({ ...options, chunkBytes });
          if (smallStreamed.ok) checkAccepted(smallStreamed.value);
        }
      }),
      { numRuns: RUNS, seed: 0xda7a_0002 },
    );
  });

  it('refuses broken files with an EngineError or reads a consistent dataset, through the door too', () => {
    fc.assert(
      fc.property(brokenFile, ({ bytes, fileName }) => {
        const outcome = runCase(() => parseDatasetFile(bytes, fileName), bytes.length);
        if (outcome.ok) checkAccepted(outcome.value);
        const door = runCase(() => parseDataset(bytes, fileName), bytes.length);
        if (door.ok) {
          expect(door.value.examples.length).toBe(door.value.summary.total);
          for (const e of door.value.examples) {
            expect(typeof e.text).toBe('string');
            if (e.label !== null) expect(e.label).toBe(e.label.trim());
          }
        }
      }),
      { numRuns: RUNS, seed: 0xda7a_0003 },
    );
  });

  it('still parses the fixtures exactly as before the fuzzing (no state left behind)', () => {
    const after = FIXTURES.map((name) => comparable(runCase(() => parseDatasetFile(fixture(name), name))));
    expect(after).toEqual(fixturesBefore);
  });
});
