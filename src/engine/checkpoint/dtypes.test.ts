import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  bfloat16BitsToFloat32,
  bitsToFloat32,
  decodeToFloat32,
  float16BitsToFloat32,
  float32ToBits,
  float32ToFloat16Bits,
} from './dtypes';
import { FIXTURE_DIR } from './test-fixtures';

const rounding = JSON.parse(readFileSync(FIXTURE_DIR + 'f16_rounding.json', 'utf8')) as {
  input_f32_bits: number[];
  expected_f16_bits: number[];
  nan_input_f32_bits: number[];
};

describe('float16 conversion', () => {
  it('matches numpy float32 → float16 (round to nearest even, subnormals, overflow) bit for bit', () => {
    const mismatches: string[] = [];
    rounding.input_f32_bits.forEach((bits, i) => {
      const got = float32ToFloat16Bits(bitsToFloat32(bits));
      if (got !== rounding.expected_f16_bits[i]) {
        mismatches.push(
          `${bitsToFloat32(bits)}: got 0x${got.toString(16)}, numpy 0x${rounding.expected_f16_bits[i].toString(16)}`,
        );
      }
    });
    expect(mismatches).toEqual([]);
    expect(rounding.input_f32_bits.length).toBeGreaterThan(600);
  });

  it('keeps NaN a NaN and preserves the sign of zero and infinities', () => {
    for (const bits of rounding.nan_input_f32_bits) {
      const half = float32ToFloat16Bits(bitsToFloat32(bits));
      expect((half & 0x7c00) === 0x7c00 && (half & 0x3ff) !== 0).toBe(true);
      expect(Number.isNaN(float16BitsToFloat32(half))).toBe(true);
    }
    expect(float32ToFloat16Bits(-0)).toBe(0x8000);
    expect(float32ToFloat16Bits(-Infinity)).toBe(0xfc00);
    expect(float32ToFloat16Bits(Infinity)).toBe(0x7c00);
  });

  it('decodes every finite half value and re-encodes it to the same bits', () => {
    const failures: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaN payloads are canonicalised
      if (float32ToFloat16Bits(float16BitsToFloat32(h)) !== h) failures.push(h);
    }
    expect(failures).toEqual([]);
    expect(float16BitsToFloat32(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(float16BitsToFloat32(0x7bff)).toBe(65504); // largest finite
    expect(float16BitsToFloat32(0x3c00)).toBe(1);
    expect(Object.is(float16BitsToFloat32(0x8000), -0)).toBe(true);
  });
});

describe('bfloat16 and integer decoding', () => {
  it('treats bfloat16 as the top 16 bits of a float32', () => {
    expect(bfloat16BitsToFloat32(0x3f80)).toBe(1);
    expect(bfloat16BitsToFloat32(0xc040)).toBe(-3);
    expect(float32ToBits(bfloat16BitsToFloat32(0x7fc0))).toBe(0x7fc00000);
  });

  it('decodes little-endian integers and doubles from unaligned input', () => {
    const bytes = new Uint8Array(1 + 16);
    const view = new DataView(bytes.buffer, 1);
    view.setBigInt64(0, -5n, true);
    view.setBigInt64(8, 1234567n, true);
    expect(Array.from(decodeToFloat32(bytes.subarray(1), 'I64', 2))).toEqual([-5, 1234567]);
    view.setFloat64(0, 0.1, true);
    expect(decodeToFloat32(bytes.subarray(1), 'F64', 1)[0]).toBe(Math.fround(0.1));
    view.setFloat32(0, 2.5, true);
    expect(decodeToFloat32(bytes.subarray(1), 'F32', 1)[0]).toBe(2.5);
    expect(Array.from(decodeToFloat32(new Uint8Array([0xff, 0x80, 0x7f]), 'I8', 3))).toEqual([-1, -128, 127]);
  });
});
