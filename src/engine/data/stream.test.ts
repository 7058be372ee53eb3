import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { parseDatasetFile, parseDatasetStream } from './parse';
import type { ParseProgress, ParsedDataset } from './types';

const fixtureDir = resolve(process.cwd(), 'tests/fixtures/data');

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Result or error code, for comparing the two entry points. */
function outcome(fn: () => ParsedDataset): ParsedDataset | string {
  try {
    return fn();
  } catch (e) {
    if (e instanceof EngineError) return e.code;
    throw e;
  }
}

async function outcomeAsync(p: Promise<ParsedDataset>): Promise<ParsedDataset | string> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof EngineError) return e.code;
    throw e;
  }
}

describe('parseDatasetStream', () => {
  const files = readdirSync(fixtureDir).filter((f) => f !== 'README.md');

  // Tiny sniff windows so that these small files really are parsed chunk by chunk.
  it.each(files)('gives the same result as parseDatasetFile for %s in 1-, 3- and 7-byte chunks', async (name) => {
    const bytes = new Uint8Array(readFileSync(resolve(fixtureDir, name)));
    const expected = outcome(() => parseDatasetFile(bytes, name));
    for (const size of [1, 3, 7]) {
      for (const sniff of [{}, { sniffBytes: 4, sniffChars: 1 }]) {
        expect(await outcomeAsync(parseDatasetStream(chunked(bytes, size), name, undefined, sniff))).toEqual(expected);
      }
    }
  });

  it('reads a ReadableStream and reports progress to the end', async () => {
    const bytes = readFileSync(resolve(fixtureDir, 'quoted-newlines.csv'));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(bytes.subarray(0, 20)));
        controller.enqueue(new Uint8Array(bytes.subarray(20)));
        controller.close();
      },
    });
    const events: ParseProgress[] = [];
    const d = await parseDatasetStream(stream, 'q.csv', (p) => events.push(p), { totalBytes: bytes.length });
    expect(d.rows).toHaveLength(5);
    expect(events.at(-1)).toEqual({ bytesRead: bytes.length, totalBytes: bytes.length, rows: 5 });
  });

  it('stops with DATA_ABORTED when the signal fires', async () => {
    const controller = new AbortController();
    const bytes = new TextEncoder().encode('text,label\n' + 'a,b\n'.repeat(1000));
    const run = parseDatasetStream(
      chunked(bytes, 100),
      'a.csv',
      (p) => {
        if (p.bytesRead > 1000) controller.abort();
      },
      { signal: controller.signal },
    );
    await expect(run).rejects.toMatchObject({ code: 'DATA_ABORTED' });
  });

  it('a never-closed quote in a stream fails once the open row passes maxRowChars', async () => {
    const bytes = new TextEncoder().encode('text,label\nok,x\n"oops,y\n' + 'row,z\n'.repeat(2000));
    const run = parseDatasetStream(chunked(bytes, 512), 'big.csv', undefined, { maxRowChars: 4096 });
    await expect(run).rejects.toMatchObject({
      code: 'DATA_UNCLOSED_QUOTE',
      message: expect.stringMatching(/row 3 \(line 3\) opens a quoted cell/),
    });
  });

  it('streams a ~50 MB CSV in bounded chunks with progress and the right row count', async () => {
    // Rows cycle through plain, quoted-with-comma, quoted-with-newline and multi-byte texts so
    // that chunk boundaries fall inside quotes, CRLFs and UTF-8 sequences.
    const pad = 'a review long enough to look like real user text about a product or a film or a service';
    const variants = [
      (i: number) => `plain text number ${i}: ${pad},pos\r\n`,
      (i: number) => `"quoted, with a comma and ""quotes"" ${i}: ${pad}",neg\r\n`,
      (i: number) => `"two lines\r\nof text ${i}: ${pad}",neu\r\n`,
      (i: number) => `ünïcödé — 日本語のテキスト ${i} 🙂 ${pad},pos\r\n`,
    ];
    const parts: string[] = ['text,label\r\n'];
    let size = 0;
    let n = 0;
    while (size < 50 * 1024 * 1024) {
      const row = variants[n % 4](n);
      parts.push(row);
      size += row.length;
      n++;
    }
    const bytes = new TextEncoder().encode(parts.join(''));
    parts.length = 0;

    const events: ParseProgress[] = [];
    // Source chunks of 4 MiB + 1 byte; the parser slices them to 1 MiB steps.
    const d = await parseDatasetStream(chunked(bytes, 4 * 1024 * 1024 + 1), 'big.csv', (p) => events.push(p), {
      totalBytes: bytes.length,
    });

    expect(d.rows).toHaveLength(n);
    expect(d.warnings).toEqual([]);
    expect(d.rows[2].values).toEqual({ text: `two lines\r\nof text 2: ${pad}`, label: 'neu' });
    expect(d.rows[n - 1].row).toBe(n + 1);
    let twoLineRowsBefore = 0;
    for (let j = 0; j < n - 1; j++) if (j % 4 === 2) twoLineRowsBefore++;
    expect(d.rows[n - 1].line).toBe(n + 1 + twoLineRowsBefore);
    const last = n - 1;
    expect(d.rows[last].values.text).toBe(
      variants[last % 4](last)
        .replace(/,(pos|neg|neu)\r\n$/, '')
        .replace(/^"|"$/g, '')
        .replace(/""/g, '"'),
    );
    // Progress: one event per ≤1 MiB step, monotone, ending at the full size.
    expect(events.length).toBeGreaterThanOrEqual(Math.ceil(bytes.length / (1 << 20)));
    for (let i = 1; i < events.length; i++) {
      expect(events[i].bytesRead).toBeGreaterThanOrEqual(events[i - 1].bytesRead);
      expect(events[i].bytesRead - events[i - 1].bytesRead).toBeLessThanOrEqual(1 << 20);
      expect(events[i].rows).toBeGreaterThanOrEqual(events[i - 1].rows);
    }
    expect(events.at(-1)).toEqual({ bytesRead: bytes.length, totalBytes: bytes.length, rows: n });
  }, 60_000);
});
