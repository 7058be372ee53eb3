import { describe, expect, it } from 'vitest';
import { float16BitsToFloat32, float32ToFloat16Bits } from './dtypes';
import {
  MAX_SAFETENSORS_HEADER_BYTES,
  findDuplicateTopLevelKey,
  parseSafetensors,
  writeSafetensors,
} from './safetensors';
import { bitsOf, expectCode, expectedTensors, fixtureBytes } from './test-fixtures';
import type { RawTensor } from './types';

/** Builds a safetensors file from a header object (or raw header text) and a data section. */
function build(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

describe('parseSafetensors on files written by python', () => {
  for (const file of ['model_f32.safetensors', 'model_f16.safetensors', 'model_bf16.safetensors']) {
    it(`decodes ${file} exactly as torch does`, () => {
      const { tensors, metadata } = parseSafetensors(fixtureBytes(file), file);
      const expected = expectedTensors(file);
      expect([...tensors.keys()]).toEqual([...expected.keys()]);
      for (const [name, want] of expected) {
        const got = tensors.get(name)!;
        expect(got.name).toBe(name);
        expect(got.shape).toEqual(want.shape);
        expect(bitsOf(got.data)).toEqual(want.bits);
      }
      expect(metadata).toEqual({ format: 'pt', made_by: 'make_checkpoint_fixtures.py' });
    });
  }
});

describe('writeSafetensors', () => {
  const tensors: RawTensor[] = [
    { name: 'a.weight', shape: [2, 3], data: Float32Array.from([1, -2.5, 3e-8, 65504, 1e6, -0]) },
    { name: 'scalar', shape: [], data: Float32Array.from([7]) },
    { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
    { name: 'special', shape: [4], data: Float32Array.from([Infinity, -Infinity, 1 / 3, 2 ** -140]) },
  ];

  it('round-trips F32 bit-exactly, including NaN payloads, -0 and subnormals', () => {
    const withNaN = new Float32Array(3);
    new Uint32Array(withNaN.buffer).set([0x7fc00001, 0xffc12345, 0x00000001]);
    const all = [...tensors, { name: 'nan', shape: [3], data: withNaN }];
    const bytes = writeSafetensors(all, { dtype: 'F32', metadata: { format: 'pt' } });
    const { tensors: back, metadata } = parseSafetensors(bytes);
    expect(metadata).toEqual({ format: 'pt' });
    expect([...back.keys()]).toEqual(all.map((t) => t.name));
    for (const t of all) {
      expect(back.get(t.name)!.shape).toEqual(t.shape);
      expect(bitsOf(back.get(t.name)!.data)).toEqual(bitsOf(t.data));
    }
  });

  it('pads the header with spaces so the data starts 8-byte aligned', () => {
    for (const name of ['x', 'xy', 'xyz', 'a.much.longer.name']) {
      const bytes = writeSafetensors([{ name, shape: [1], data: Float32Array.from([1]) }], { dtype: 'F32' });
      const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect((8 + headerLength) % 8).toBe(0);
      const header = new TextDecoder().decode(bytes.subarray(8, 8 + headerLength));
      expect(header.trimEnd().endsWith('}')).toBe(true);
      expect(/^[^ ]*} *$/.test(header)).toBe(true);
    }
  });

  it('writes F16 with round-to-nearest-even and reads it back as the rounded values', () => {
    const bytes = writeSafetensors(tensors, { dtype: 'F16' });
    const header = JSON.parse(
      new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))),
    );
    expect(header['a.weight']).toEqual({ dtype: 'F16', shape: [2, 3], data_offsets: [0, 12] });
    const back = parseSafetensors(bytes).tensors;
    for (const t of tensors) {
      const rounded = Float32Array.from(t.data, (v) => float16BitsToFloat32(float32ToFloat16Bits(v)));
      expect(bitsOf(back.get(t.name)!.data)).toEqual(bitsOf(rounded));
    }
    expect(Array.from(back.get('a.weight')!.data)).toEqual([1, -2.5, float16BitsToFloat32(1), 65504, Infinity, -0]);
  });

  it('refuses duplicate names and data that does not match the shape', () => {
    const t = tensors[0];
    expectCode(() => writeSafetensors([t, t], { dtype: 'F32' }), 'SAFETENSORS_DUPLICATE_NAME', 'a.weight');
    expectCode(
      () => writeSafetensors([{ name: 'bad', shape: [3], data: new Float32Array(2) }], { dtype: 'F32' }),
      'SAFETENSORS_SIZE_MISMATCH',
      'bad',
    );
  });
});

describe('parseSafetensors validation', () => {
  const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);
  const entry = (begin: number, end: number, shape = [(end - begin) / 4]) => ({
    dtype: 'F32',
    shape,
    data_offsets: [begin, end],
  });

  it('accepts gaps between tensors (only overlap is an error) and an empty file of tensors', () => {
    const parsed = parseSafetensors(build({ a: entry(0, 4), b: entry(8, 12) }, f32([1, 99, 2])), 'gap.safetensors');
    expect(Array.from(parsed.tensors.get('b')!.data)).toEqual([2]);
    expect(parseSafetensors(build({})).tensors.size).toBe(0);
  });

  it('rejects a file shorter than 8 bytes', () => {
    expectCode(
      () => parseSafetensors(new Uint8Array(5), 'tiny.safetensors'),
      'SAFETENSORS_TOO_SHORT',
      'tiny.safetensors',
    );
  });

  it('rejects a header length beyond the file', () => {
    const bytes = build({ a: entry(0, 4) }, f32([1]));
    new DataView(bytes.buffer).setBigUint64(0, BigInt(bytes.length), true);
    expectCode(
      () => parseSafetensors(bytes, 'short.safetensors'),
      'SAFETENSORS_HEADER_OUT_OF_BOUNDS',
      'short.safetensors',
    );
  });

  it('rejects an absurd header length before allocating anything', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(MAX_SAFETENSORS_HEADER_BYTES) + 1n, true);
    expectCode(() => parseSafetensors(bytes), 'SAFETENSORS_HEADER_TOO_LARGE');
    new DataView(bytes.buffer).setBigUint64(0, 0xffffffffffffffffn, true);
    expectCode(() => parseSafetensors(bytes), 'SAFETENSORS_HEADER_TOO_LARGE');
  });

  it('rejects a header that is not JSON, not UTF-8 or not an object', () => {
    expectCode(() => parseSafetensors(build('{"a": ')), 'SAFETENSORS_HEADER_NOT_JSON', 'not valid JSON');
    expectCode(() => parseSafetensors(build('[1,2]')), 'SAFETENSORS_HEADER_NOT_JSON');
    const bad = build('{"a":1}');
    bad[9] = 0xff;
    expectCode(() => parseSafetensors(bad), 'SAFETENSORS_HEADER_NOT_JSON', 'UTF-8');
  });

  it('rejects missing or invalid fields, naming the tensor', () => {
    expectCode(() => parseSafetensors(build({ w: 3 })), 'SAFETENSORS_BAD_ENTRY', '"w"');
    expectCode(
      () => parseSafetensors(build({ w: { shape: [1], data_offsets: [0, 4] } }, f32([1]))),
      'SAFETENSORS_BAD_ENTRY',
      'dtype',
    );
    expectCode(
      () => parseSafetensors(build({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32([1]))),
      'SAFETENSORS_BAD_ENTRY',
      'shape',
    );
    expectCode(
      () => parseSafetensors(build({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, f32([1]))),
      'SAFETENSORS_BAD_ENTRY',
      'shape',
    );
    expectCode(
      () => parseSafetensors(build({ w: { dtype: 'F32', shape: [1] } }, f32([1]))),
      'SAFETENSORS_BAD_ENTRY',
      'data_offsets',
    );
    expectCode(
      () => parseSafetensors(build({ w: { dtype: 'F32', shape: [1], data_offsets: [4, 0] } }, f32([1]))),
      'SAFETENSORS_BAD_ENTRY',
      'data_offsets',
    );
    expectCode(
      () => parseSafetensors(build({ w: { dtype: 'F32', shape: [1], data_offsets: [0, '4'] } }, f32([1]))),
      'SAFETENSORS_BAD_ENTRY',
      'data_offsets',
    );
    expectCode(() => parseSafetensors(build({ __metadata__: { a: 1 } })), 'SAFETENSORS_BAD_METADATA', '__metadata__.a');
  });

  it('rejects an unknown dtype', () => {
    expectCode(
      () =>
        parseSafetensors(
          build({ w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
          'q.safetensors',
        ),
      'SAFETENSORS_UNSUPPORTED_DTYPE',
      'F8_E4M3',
      '"w"',
      'q.safetensors',
    );
  });

  it('rejects a shape whose byte size differs from the offsets', () => {
    expectCode(
      () => parseSafetensors(build({ w: entry(0, 8, [3]) }, f32([1, 2]))),
      'SAFETENSORS_SIZE_MISMATCH',
      '"w"',
      '12 bytes',
      '8 bytes',
    );
    expectCode(
      () =>
        parseSafetensors(build({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, f32([1, 2]))),
      'SAFETENSORS_BAD_ENTRY',
      'absurdly',
    );
  });

  it('rejects offsets outside the data section', () => {
    expectCode(
      () => parseSafetensors(build({ w: entry(4, 12) }, f32([1, 2]))),
      'SAFETENSORS_OFFSET_OUT_OF_BOUNDS',
      '"w"',
    );
  });

  it('rejects overlapping tensors', () => {
    expectCode(
      () => parseSafetensors(build({ a: entry(0, 8), b: entry(4, 12) }, f32([1, 2, 3]))),
      'SAFETENSORS_OVERLAP',
      '"a"',
      '"b"',
    );
    // Identical ranges overlap too; a zero-length tensor overlaps nothing.
    expectCode(() => parseSafetensors(build({ a: entry(0, 4), b: entry(0, 4) }, f32([1]))), 'SAFETENSORS_OVERLAP');
    expect(
      parseSafetensors(build({ a: entry(0, 4), z: entry(0, 0, [0]) }, f32([1]))).tensors.get('z')!.data.length,
    ).toBe(0);
  });

  it('rejects duplicate tensor names that JSON.parse would silently merge', () => {
    const header =
      '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    expectCode(
      () => parseSafetensors(build(header, f32([1, 2])), 'dup.safetensors'),
      'SAFETENSORS_DUPLICATE_NAME',
      '"w"',
      'dup.safetensors',
    );
    expect(findDuplicateTopLevelKey('{"a":{"a":1,"b":"a"},"b":[{"a":2}],"c\\"":"x"}')).toBeNull();
    expect(findDuplicateTopLevelKey('{"a\\u0041":1, "aA":2}')).toBe('aA');
  });
});
