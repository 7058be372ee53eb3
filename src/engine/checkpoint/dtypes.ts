/**
 * Element types found in checkpoints and their conversion to/from float32.
 *
 * Everything is decoded to float32 because that is what the model trains in; half precision only exists on disk.
 * All multi-byte values in safetensors and in PyTorch storages are little-endian.
 */

/** safetensors dtype tags this module can decode (a subset of the format's tags). */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Bytes per element for each decodable dtype. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** Returns true when `tag` is a dtype we can decode. */
export function isSupportedDtype(tag: string): tag is SafetensorsDtype {
  return Object.prototype.hasOwnProperty.call(DTYPE_BYTES, tag);
}

// Scratch views used to reinterpret float32 <-> uint32 bits without allocating per value.
const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** Float32 bit pattern of `value` (after rounding it to float32). */
export function float32ToBits(value: number): number {
  scratchFloat[0] = value;
  return scratchBits[0];
}

/** Float32 value of a 32-bit pattern. */
export function bitsToFloat32(bits: number): number {
  scratchBits[0] = bits >>> 0;
  return scratchFloat[0];
}

/** Lazily built table of all 65536 half-precision values as float32 (256 KB, built once, exact). */
let halfTable: Float32Array | null = null;

function buildHalfTable(): Float32Array {
  const table = new Float32Array(65536);
  const bits = new Uint32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) {
      // Zero or subnormal: value = mantissa × 2^-24, exactly representable in float32.
      table[h] = (sign ? -1 : 1) * mantissa * 2 ** -24;
    } else if (exponent === 0x1f) {
      // Inf or NaN: keep the payload bits so a NaN stays a NaN (quiet bit included).
      bits[h] = sign | 0x7f800000 | (mantissa << 13);
    } else {
      // Normal: rebias the exponent from 15 to 127 and widen the mantissa from 10 to 23 bits.
      bits[h] = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
  }
  return table;
}

/** Float32 value of an IEEE 754 half-precision bit pattern. */
export function float16BitsToFloat32(halfBits: number): number {
  halfTable ??= buildHalfTable();
  return halfTable[halfBits & 0xffff];
}

/**
 * IEEE 754 half-precision bit pattern of `value`, rounded to nearest with ties to even (what numpy and torch do).
 * Values beyond the half range become ±inf, tiny values become subnormals or ±0, NaN stays NaN.
 */
export function float32ToFloat16Bits(value: number): number {
  const x = float32ToBits(value);
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;

  if (exponent === 0xff) {
    // Inf stays inf; any NaN becomes a quiet NaN carrying the top payload bits.
    return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  }
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // too large for half: overflow to inf
  if (halfExponent <= 0) {
    // Result is subnormal (or zero) in half precision. Below 2^-25 everything rounds to zero; the exact tie 2^-25
    // rounds to the even neighbour (zero) too, which the general path below also gets right for halfExponent = -10.
    if (halfExponent < -10) return sign;
    mantissa |= 0x800000; // make the implicit leading 1 explicit
    const droppedBits = 14 - halfExponent; // 13 mantissa bits plus the extra shift into the subnormal range
    const kept = mantissa >>> droppedBits;
    const remainder = mantissa & ((1 << droppedBits) - 1);
    const halfway = 1 << (droppedBits - 1);
    // A carry out of the subnormal range (kept = 0x400) is exactly the smallest normal's encoding.
    const rounded = remainder > halfway || (remainder === halfway && (kept & 1) === 1) ? kept + 1 : kept;
    return sign | rounded;
  }
  const truncated = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  // A carry into the exponent is correct, including rounding 65520 and above up to inf.
  const rounded = remainder > 0x1000 || (remainder === 0x1000 && (truncated & 1) === 1) ? truncated + 1 : truncated;
  return sign | rounded;
}

/** Float32 value of a bfloat16 bit pattern (bfloat16 is the top half of a float32). */
export function bfloat16BitsToFloat32(bits: number): number {
  return bitsToFloat32((bits & 0xffff) << 16);
}

/** True on little-endian hosts (every browser and Node platform we target); big-endian falls back to DataView. */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes `count` little-endian elements of `dtype` starting at `bytes[0]` into a new Float32Array.
 * `bytes` may start at any alignment; the caller has already checked that it holds count × size bytes.
 */
export function decodeToFloat32(bytes: Uint8Array, dtype: SafetensorsDtype, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      if (HOST_IS_LITTLE_ENDIAN) {
        // Byte copy keeps every bit (NaN payloads included) and handles unaligned input.
        new Uint8Array(out.buffer).set(bytes.subarray(0, count * 4));
      } else {
        for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      }
      return out;
    }
    case 'F16': {
      halfTable ??= buildHalfTable();
      const table = halfTable;
      for (let i = 0; i < count; i++) out[i] = table[bytes[2 * i] | (bytes[2 * i + 1] << 8)];
      return out;
    }
    case 'BF16': {
      const outBits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) outBits[i] = ((bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16) >>> 0;
      return out;
    }
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    case 'I64':
      // Integer buffers such as position_ids are small; values beyond 2^24 lose precision in float32, as in torch.
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      return out;
    case 'I32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    case 'I16':
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    case 'I8':
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      return out;
    case 'U8':
    case 'BOOL':
      for (let i = 0; i < count; i++) out[i] = bytes[i];
      return out;
  }
}

/** Encodes float32 data as little-endian bytes of `dtype` (F32 is bit-exact, F16 rounds to nearest even). */
export function encodeFloat32(data: Float32Array, dtype: 'F32' | 'F16', target: Uint8Array): void {
  if (dtype === 'F32') {
    if (HOST_IS_LITTLE_ENDIAN) {
      target.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } else {
      const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
      for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
    }
    return;
  }
  for (let i = 0; i < data.length; i++) {
    const half = float32ToFloat16Bits(data[i]);
    target[2 * i] = half & 0xff;
    target[2 * i + 1] = half >>> 8;
  }
}
