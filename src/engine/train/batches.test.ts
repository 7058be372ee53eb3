import { describe, expect, it } from 'vitest';
import { EngineError } from '../errors';
import { Rng } from '../util/rng';
import { countDistinctShapes, makeBatches, type EncodedExample } from './batches';

function encoded(n: number, seed = 0, maxLen = 60): EncodedExample[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const len = 2 + r.nextInt(maxLen - 1);
    return {
      inputIds: Array.from({ length: len }, (_, t) => (t === 0 ? 101 : 1000 + i)),
      tokenTypeIds: Array.from({ length: len }, (_, t) => (t > len / 2 ? 1 : 0)),
      label: i % 3,
    };
  });
}

describe('makeBatches', () => {
  const data = encoded(203);
  const opts = { batchSize: 8, seed: 1, epoch: 0, maxLength: 64 };

  it('pads each batch to a multiple of 8 with correct ids, masks and labels', () => {
    const batches = makeBatches(data, opts);
    for (const b of batches) {
      expect(b.seqLen % 8).toBe(0);
      expect(b.inputIds.length).toBe(b.batchSize * b.seqLen);
      const longest = Math.max(...Array.from(b.indices, (i) => data[i].inputIds.length));
      expect(b.seqLen).toBe(Math.ceil(longest / 8) * 8);
      b.indices.forEach((idx, row) => {
        const e = data[idx];
        const len = e.inputIds.length;
        const off = row * b.seqLen;
        expect(Array.from(b.inputIds.subarray(off, off + len))).toEqual(e.inputIds);
        expect(Array.from(b.tokenTypeIds.subarray(off, off + len))).toEqual(e.tokenTypeIds);
        expect(b.attentionMask.subarray(off, off + b.seqLen).reduce((s, x) => s + x, 0)).toBe(len);
        expect(Array.from(b.inputIds.subarray(off + len, off + b.seqLen)).every((x) => x === 0)).toBe(true);
        expect(b.labels[row]).toBe(e.label);
      });
    }
  });

  it('contains every example exactly once per epoch and bounds distinct shapes', () => {
    const batches = makeBatches(data, opts);
    const seen = batches.flatMap((b) => Array.from(b.indices)).sort((a, b) => a - b);
    expect(seen).toEqual(data.map((_, i) => i));
    expect(batches.length).toBe(Math.ceil(203 / 8));
    expect(batches.filter((b) => b.batchSize !== 8).length).toBe(1);
    // T in {8, 16, ..., 64} and B in {8, 203 % 8}: at most 8 * 2 shapes
    expect(countDistinctShapes(batches)).toBeLessThanOrEqual(16);
    const tValues = new Set(batches.map((b) => b.seqLen));
    expect(tValues.size).toBeLessThanOrEqual(8);
    // bucketing reduces padding compared to no sorting at all (window of one batch)
    const pad = (bs: ReturnType<typeof makeBatches>) =>
      bs.reduce((s, b) => s + b.attentionMask.length - b.attentionMask.reduce((a, x) => a + x, 0), 0);
    expect(pad(batches)).toBeLessThan(pad(makeBatches(data, { ...opts, sortWindowBatches: 1 })));
  });

  it('is seeded: same seed+epoch identical, other epoch or seed different', () => {
    const order = (o: Partial<typeof opts>) =>
      makeBatches(data, { ...opts, ...o }).flatMap((b) => Array.from(b.indices));
    expect(order({})).toEqual(order({}));
    expect(order({ epoch: 1 })).not.toEqual(order({}));
    expect(order({ seed: 2 })).not.toEqual(order({}));
  });

  it('without shuffle sorts by length over the whole set; dropLast drops the short batch', () => {
    const batches = makeBatches(data, { ...opts, shuffle: false });
    const lens = batches.flatMap((b) => Array.from(b.indices, (i) => data[i].inputIds.length));
    expect(lens).toEqual(lens.slice().sort((a, b) => a - b));
    const dropped = makeBatches(data, { ...opts, dropLast: true });
    expect(dropped.every((b) => b.batchSize === 8)).toBe(true);
    expect(dropped.length).toBe(Math.floor(203 / 8));
  });

  it('caps T at maxLength when maxLength is not a multiple of padMultiple', () => {
    const d = [{ inputIds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], label: 0 }];
    expect(makeBatches(d, { batchSize: 4, maxLength: 10 })[0].seqLen).toBe(10);
    expect(makeBatches(d, { batchSize: 4, maxLength: 64, padMultiple: 16 })[0].seqLen).toBe(16);
  });

  it('rejects over-long examples and bad options with EngineError', () => {
    expect(() => makeBatches([{ inputIds: new Array(70).fill(1), label: 0 }], opts)).toThrow(
      /example 0 has 70 tokens.*maxLength is 64/,
    );
    expect(() => makeBatches(data, { ...opts, batchSize: 0 })).toThrow(EngineError);
    expect(() => makeBatches([{ inputIds: [1, 2], tokenTypeIds: [0], label: 0 }], opts)).toThrow(/same length/);
    expect(makeBatches([], opts)).toEqual([]);
  });
});
