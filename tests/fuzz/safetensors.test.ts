/**
 * Fuzzing the safetensors reader (src/engine/checkpoint/safetensors.ts): files it wrote itself,
 * hand-assembled files of every dtype, and those files with their header length, header JSON
 * (dtypes, shapes, offsets, duplicate names, metadata) and bytes mutated.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { float32ToFloat16Bits } from '../../src/engine/checkpoint/dtypes';
import { parseSafetensors, writeSafetensors } from '../../src/engine/checkpoint/safetensors';
import { bitsOf, expectedTensors, fixtureBytes } from '../../src/engine/checkpoint/test-fixtures';
import type { RawTensor } from '../../src/engine/checkpoint/types';
import {
  DTYPES,
  DTYPE_SIZE as SIZE,
  RUNS,
  type Dtype,
  elementValue as expectedValue,
  halfToNumber,
  mutatedBytesOf,
  mutatedJson,
  product,
  runCase,
  sameValue,
  utf8,
  withDuplicateKey,
} from './support';

const FIXTURES = ['model_f32.safetensors', 'model_f16.safetensors', 'model_bf16.safetensors'];

/** A file from a header (object or text), an explicit header length field and a data section. */
function assemble(header: unknown, data: Uint8Array, lengthField?: bigint): Uint8Array {
  const text = utf8(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

const tensorName = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }),
  fc.constantFrom('bert.embeddings.word_embeddings.weight', '__proto__', 'constructor', 'a"b\\c', '🙂'),
);
const smallShape = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });

/** Tensors with unique names and float32 data of any bit pattern (NaN payloads, -0, subnormals). */
const rawTensors: fc.Arbitrary<RawTensor[]> = fc.uniqueArray(
  fc
    .record({ name: tensorName, shape: smallShape })
    .chain(({ name, shape }) =>
      fc
        .uint32Array({ minLength: product(shape), maxLength: product(shape) })
        .map((bits) => ({ name, shape, data: new Float32Array(bits.buffer) })),
    ),
  { selector: (t) => t.name, maxLength: 4 },
);
const stringMap = fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 });

interface PlacedTensor {
  name: string;
  dtype: Dtype;
  shape: number[];
  raw: Uint8Array;
}

/**
 * Tensors of every dtype with random bytes, placed in the data section in a shuffled order with
 * gaps (allowed by the format), plus the header describing them.
 */
const placedFile = fc
  .uniqueArray(
    fc
      .record({ name: tensorName, dtype: fc.constantFrom(...DTYPES), shape: smallShape })
      .chain((t) =>
        fc
          .uint8Array({ minLength: product(t.shape) * SIZE[t.dtype], maxLength: product(t.shape) * SIZE[t.dtype] })
          .map((raw): PlacedTensor => ({ ...t, raw })),
      ),
    { selector: (t) => t.name, minLength: 1, maxLength: 4 },
  )
  .chain((tensors) =>
    fc.record({
      tensors: fc.constant(tensors),
      order: fc.shuffledSubarray(
        tensors.map((_, i) => i),
        { minLength: tensors.length, maxLength: tensors.length },
      ),
      gaps: fc.array(fc.integer({ min: 0, max: 8 }), { minLength: tensors.length, maxLength: tensors.length }),
      metadata: fc.option(stringMap, { nil: undefined }),
    }),
  )
  .map(({ tensors, order, gaps, metadata }) => {
    const header: Record<string, unknown> = {};
    const chunks: Uint8Array[] = [];
    let offset = 0;
    const offsets = new Map<number, [number, number]>();
    order.forEach((index, k) => {
      offset += gaps[k];
      chunks.push(new Uint8Array(gaps[k]), tensors[index].raw);
      offsets.set(index, [offset, offset + tensors[index].raw.length]);
      offset += tensors[index].raw.length;
    });
    for (const [i, t] of tensors.entries()) {
      Object.defineProperty(header, t.name, {
        value: { dtype: t.dtype, shape: t.shape, data_offsets: offsets.get(i) },
        enumerable: true,
      });
    }
    if (metadata !== undefined) header.__metadata__ = metadata;
    const data = new Uint8Array(offset);
    let cursor = 0;
    for (const chunk of chunks) {
      data.set(chunk, cursor);
      cursor += chunk.length;
    }
    return { tensors, header, data, metadata: metadata ?? {} };
  });

/** Checks what any accepted file must satisfy, whatever its header said. */
function checkAccepted(bytes: Uint8Array, tensors: Map<string, RawTensor>): void {
  let decoded = 0;
  for (const [name, t] of tensors) {
    expect(t.name).toBe(name);
    expect(t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)).toBe(true);
    expect(t.data.length).toBe(product(t.shape));
    decoded += t.data.byteLength;
  }
  // Every element has at least one byte in the file, so float32 data is at most 4x the file.
  expect(decoded).toBeLessThanOrEqual(4 * bytes.length);
}

describe('fuzz: safetensors', () => {
  it('round-trips what writeSafetensors writes (F32 bit-exact, F16 rounded to nearest even)', () => {
    fc.assert(
      fc.property(
        rawTensors,
        fc.constantFrom('F32' as const, 'F16' as const),
        stringMap,
        (tensors, dtype, metadata) => {
          const bytes = writeSafetensors(tensors, { dtype, metadata });
          const outcome = runCase(() => parseSafetensors(bytes), bytes.length);
          expect(outcome.ok).toBe(true);
          if (!outcome.ok) return;
          expect([...outcome.value.tensors.keys()]).toEqual(tensors.map((t) => t.name));
          expect(outcome.value.metadata).toEqual(metadata);
          for (const t of tensors) {
            const got = outcome.value.tensors.get(t.name)!;
            expect(got.shape).toEqual(t.shape);
            if (dtype === 'F32') {
              expect(bitsOf(got.data)).toEqual(bitsOf(t.data));
            } else {
              t.data.forEach((v, i) =>
                expect(sameValue(got.data[i], halfToNumber(float32ToFloat16Bits(v)))).toBe(true),
              );
            }
          }
        },
      ),
      { numRuns: RUNS, seed: 0x5afe_0001 },
    );
  });

  it('decodes every dtype at any offset, with gaps between tensors, as the bytes say', () => {
    fc.assert(
      fc.property(placedFile, ({ tensors, header, data, metadata }) => {
        const bytes = assemble(header, data);
        const outcome = runCase(() => parseSafetensors(bytes), bytes.length);
        expect(outcome.ok).toBe(true);
        if (!outcome.ok) return;
        expect(outcome.value.metadata).toEqual(metadata);
        expect(outcome.value.tensors.size).toBe(tensors.length);
        for (const t of tensors) {
          const got = outcome.value.tensors.get(t.name)!;
          expect(got.shape).toEqual(t.shape);
          for (let i = 0; i < got.data.length; i++) {
            const want = expectedValue(t.raw, t.dtype, i);
            if (!sameValue(got.data[i], want)) expect(got.data[i], `${t.name}[${i}] (${t.dtype})`).toBe(want);
          }
        }
      }),
      { numRuns: RUNS, seed: 0x5afe_0002 },
    );
  });

  it('refuses mutated headers (dtypes, shapes, offsets, metadata) with an EngineError or reads them consistently', () => {
    const mutatedFile = placedFile.chain(({ header, data }) =>
      fc.oneof(
        { weight: 4, arbitrary: mutatedJson(header).map((h) => assemble(h, data)) },
        // A name written twice: JSON.parse keeps the second silently.
        {
          weight: 1,
          arbitrary: fc
            .constantFrom(...Object.keys(header))
            .map((name) => assemble(withDuplicateKey(header, name), data)),
        },
        // The 8-byte length field: off by a little, zero, or astronomically large.
        {
          weight: 1,
          arbitrary: fc
            .oneof(
              fc.integer({ min: -9, max: 9 }).map((d) => BigInt(Math.max(0, utf8(JSON.stringify(header)).length + d))),
              fc.constantFrom(0n, 2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n),
              fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
            )
            .map((length) => assemble(header, data, length)),
        },
      ),
    );
    fc.assert(
      fc.property(mutatedFile, (bytes) => {
        const outcome = runCase(() => parseSafetensors(bytes), bytes.length);
        if (outcome.ok) checkAccepted(bytes, outcome.value.tensors);
      }),
      { numRuns: RUNS, seed: 0x5afe_0003 },
    );
  });

  it('refuses shapes that claim far more data than the file holds, before allocating it', () => {
    // Declared sizes from 256 MB to far beyond the address space, with offsets that agree with the
    // shape (so only the bounds check can stop it) or that are themselves huge.
    const hugeHeader = fc.record({
      dtype: fc.constantFrom(...DTYPES),
      shape: fc.array(fc.integer({ min: 1, max: 2 ** 16 }), { minLength: 2, maxLength: 4 }),
      scale: fc.integer({ min: 1, max: 2 ** 8 }),
      dataBytes: fc.integer({ min: 0, max: 64 }),
      agree: fc.boolean(),
    });
    fc.assert(
      fc.property(hugeHeader, ({ dtype, shape, scale, dataBytes, agree }) => {
        const dims = [...shape.slice(0, -1), shape[shape.length - 1] * scale];
        const size = product(dims) * SIZE[dtype];
        fc.pre(size >= 2 ** 28);
        const end = agree && Number.isSafeInteger(size) ? size : Math.min(Number.MAX_SAFE_INTEGER, size);
        const bytes = assemble({ big: { dtype, shape: dims, data_offsets: [0, end] } }, new Uint8Array(dataBytes));
        const outcome = runCase(() => parseSafetensors(bytes), bytes.length);
        expect(outcome.ok).toBe(false);
      }),
      { numRuns: RUNS, seed: 0x5afe_0004 },
    );
  });

  it('refuses byte-level corruption of real files and random bytes with an EngineError', () => {
    const seeds = FIXTURES.map((f) => fixtureBytes(f));
    const input = fc.oneof(
      { weight: 3, arbitrary: mutatedBytesOf(seeds) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
      // A plausible length field followed by random bytes reaches the UTF-8 and JSON checks.
      {
        weight: 1,
        arbitrary: fc
          .uint8Array({ maxLength: 128 })
          .map((rest) => assemble(new TextDecoder().decode(rest), new Uint8Array(0))),
      },
    );
    fc.assert(
      fc.property(input, (bytes) => {
        const outcome = runCase(() => parseSafetensors(bytes), bytes.length);
        if (outcome.ok) checkAccepted(bytes, outcome.value.tensors);
      }),
      { numRuns: RUNS, seed: 0x5afe_0005 },
    );
  });

  it('still reads the python fixtures exactly after the fuzzing (no state left behind)', () => {
    for (const file of FIXTURES) {
      const { tensors } = parseSafetensors(fixtureBytes(file), file);
      for (const [name, want] of expectedTensors(file)) expect(bitsOf(tensors.get(name)!.data)).toEqual(want.bits);
    }
  });
});
