import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  arrayCorpusSource,
  CORPUS_START,
  packSequences,
  SequenceStream,
  takeHeldOut,
  type PackedSequence,
} from './corpus';
import { fileCorpusSource, listCorpusFiles, looksBinary } from './node-corpus';
import { goldenTokenizer, syntheticLines } from './test-support';

const tok = goldenTokenizer();

async function collect(gen: AsyncIterable<PackedSequence>): Promise<PackedSequence[]> {
  const out: PackedSequence[] = [];
  for await (const s of gen) out.push(s);
  return out;
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'fewshot-corpus-'));
}

describe('packing', () => {
  it('packs consecutive lines into [CLS] … [SEP] sequences of maxLength, the last one short', async () => {
    const lines = syntheticLines(20); // 8 tokens each = 160 tokens
    const seqs = await collect(packSequences(arrayCorpusSource([lines]), tok, 16, CORPUS_START));
    const body = seqs.flatMap((s) => s.ids.slice(1, -1));
    const expected = lines.flatMap((l) => tok.encode(l, null, { addSpecialTokens: false }).ids);
    expect(body).toEqual(expected);
    for (const s of seqs.slice(0, -1)) expect(s.ids.length).toBe(16);
    expect(seqs[0].ids[0]).toBe(tok.clsTokenId);
    expect(seqs[0].ids[15]).toBe(tok.sepTokenId);
    expect(seqs.at(-1)!.ids.length).toBe(2 + (expected.length % 14));
  });

  it('restores the exact stream from a saved position, across files and epochs', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.txt'), `${syntheticLines(7, 1).join('\n')}\n\n`);
    writeFileSync(join(dir, 'b.txt'), syntheticLines(5, 2).join('\r\n'));
    const { files } = await listCorpusFiles([dir]);
    const source = fileCorpusSource(files);
    const heldOut = { count: 2, every: 3 };
    const sequences = await takeHeldOut(source, tok, 12, heldOut);
    expect(sequences).toHaveLength(2);
    const pass = await collect(packSequences(source, tok, 12, CORPUS_START));
    expect(sequences).toEqual([pass[0].ids, pass[3].ids]);
    const a = new SequenceStream(source, tok, 12, heldOut);
    const all: PackedSequence[] = [];
    const positions = [];
    for (let i = 0; i < 25; i++) {
      positions.push(a.position);
      all.push(await a.next());
    }
    expect(all.at(-1)!.start.epoch).toBeGreaterThan(1); // wrapped at least twice
    for (const k of [0, 3, 9, 17]) {
      const b = new SequenceStream(source, tok, 12, heldOut, positions[k]);
      for (let i = k; i < 25; i++) expect((await b.next()).ids).toEqual(all[i].ids);
    }
    // held-out sequences are never trained on; every other sequence of each pass is, in order
    const training = pass.filter((_, i) => i !== 0 && i !== 3).map((q) => q.ids);
    expect(all.map((q) => q.ids)).toEqual(Array.from({ length: 25 }, (_, i) => training[i % training.length]));
  });
});

describe('corpus files', () => {
  it('refuses an empty folder with its path', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'sub'));
    await expect(listCorpusFiles([dir])).rejects.toMatchObject({
      code: 'CORPUS_EMPTY',
      message: expect.stringContaining(dir),
    });
  });

  it('skips binary files with a warning and non-.txt files in folders', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'ok.txt'), 'the cat sat .\n');
    writeFileSync(join(dir, 'blob.txt'), new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 255, 254, 0, 1]));
    writeFileSync(join(dir, 'notes.md'), 'the dog ran .\n');
    const { files, warnings } = await listCorpusFiles([dir]);
    expect(files.map((f) => f.path)).toEqual([join(dir, 'ok.txt')]);
    expect(warnings.join()).toContain('blob.txt');
    expect(looksBinary(new TextEncoder().encode('héllo wörld — ok'))).toBe(false);
  });

  it('reports a corpus shorter than one batch, and one too short for the held-out slice', async () => {
    const source = arrayCorpusSource([syntheticLines(6)]); // 54 tokens → 4 sequences of 16
    const heldOut = { count: 1, every: 1 };
    await takeHeldOut(source, tok, 16, heldOut);
    const s = new SequenceStream(source, tok, 16, heldOut, CORPUS_START, 8);
    await expect(s.take(8)).rejects.toMatchObject({
      code: 'CORPUS_TOO_SMALL',
      message: expect.stringContaining('fewer than one batch'),
    });
    await expect(takeHeldOut(source, tok, 16, { count: 10, every: 1 })).rejects.toMatchObject({
      code: 'CORPUS_TOO_SMALL',
    });
    await expect(takeHeldOut(arrayCorpusSource([['', '  ']]), tok, 16, { count: 4, every: 1 })).rejects.toMatchObject({
      code: 'CORPUS_EMPTY',
    });
  });
});
