/**
 * safetensors reader and writer.
 *
 * Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data section. The JSON maps tensor
 * names to `{dtype, shape, data_offsets: [begin, end]}` (offsets relative to the data section) plus an optional
 * `__metadata__` object of string → string.
 *
 * The reader validates everything before it trusts a single offset: a file from the internet is input, not code.
 * Gaps between tensors are accepted (the format does not forbid them and some writers align tensors); overlapping
 * byte ranges are rejected because no honest writer produces them and they would alias two parameters.
 */
import { DTYPE_BYTES, decodeToFloat32, encodeFloat32, isSupportedDtype } from './dtypes';
import { type RawTensor, type TensorMap } from './types';
import { EngineError } from '../errors';

/** Headers above this size are rejected before allocating; real headers are a few hundred KB at most. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100 * 1024 * 1024;

/** File name used in error messages when the caller does not pass one. */
const DEFAULT_FILE_NAME = 'model.safetensors';

/** What to tell the user when the file itself is broken. */
const REDOWNLOAD_HINT = 'The file is corrupt, truncated or not a safetensors file: download or export it again.';

export interface ParsedSafetensors {
  tensors: TensorMap;
  metadata: Record<string, string>;
}

interface HeaderEntry {
  name: string;
  dtype: keyof typeof DTYPE_BYTES;
  shape: number[];
  begin: number;
  end: number;
}

/** Parses a complete safetensors file into float32 tensors (in header order) and its string metadata. */
export function parseSafetensors(bytes: Uint8Array, fileName: string = DEFAULT_FILE_NAME): ParsedSafetensors {
  const fail = (code: string, what: string): never => {
    throw new EngineError(code, `${fileName}: ${what} ${REDOWNLOAD_HINT}`);
  };

  if (bytes.byteLength < 8) {
    fail('SAFETENSORS_TOO_SHORT', `the file has ${bytes.byteLength} bytes, fewer than the 8-byte header length.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) {
    fail(
      'SAFETENSORS_HEADER_TOO_LARGE',
      `the header claims ${headerLength} bytes, more than the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit.`,
    );
  }
  const headerBytes = Number(headerLength);
  if (8 + headerBytes > bytes.byteLength) {
    fail(
      'SAFETENSORS_HEADER_OUT_OF_BOUNDS',
      `the header claims ${headerBytes} bytes but the file has only ${bytes.byteLength - 8} bytes after the length field.`,
    );
  }

  let headerText: string;
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerBytes));
  } catch {
    return fail('SAFETENSORS_HEADER_NOT_JSON', 'the header is not valid UTF-8.');
  }
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (error) {
    return fail('SAFETENSORS_HEADER_NOT_JSON', `the header is not valid JSON (${(error as Error).message}).`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    fail('SAFETENSORS_HEADER_NOT_JSON', 'the header is JSON but not an object of tensors.');
  }
  // JSON.parse keeps the last of two equal keys silently, so duplicates must be found in the text itself.
  const duplicate = findDuplicateTopLevelKey(headerText);
  if (duplicate !== null) {
    fail('SAFETENSORS_DUPLICATE_NAME', `tensor "${duplicate}" appears twice in the header.`);
  }

  const dataStart = 8 + headerBytes;
  const dataLength = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];

  for (const [name, rawEntry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (rawEntry === null || typeof rawEntry !== 'object' || Array.isArray(rawEntry)) {
        fail('SAFETENSORS_BAD_METADATA', '"__metadata__" must be an object of string values.');
      }
      for (const [key, value] of Object.entries(rawEntry as Record<string, unknown>)) {
        if (typeof value !== 'string')
          fail('SAFETENSORS_BAD_METADATA', `"__metadata__.${key}" must be a string, got ${typeof value}.`);
        // Defined, not assigned: a key named "__proto__" would otherwise set the prototype and vanish.
        Object.defineProperty(metadata, key, { value, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    entries.push(validateEntry(name, rawEntry, dataLength, fail));
  }

  // Overlap check: sort by begin and compare neighbours; empty tensors cannot overlap anything.
  const byOffset = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < byOffset.length; i++) {
    const previous = byOffset[i - 1];
    const current = byOffset[i];
    if (current.begin < previous.end) {
      fail(
        'SAFETENSORS_OVERLAP',
        `tensor "${current.name}" (bytes ${current.begin}–${current.end}) overlaps tensor "${previous.name}" (bytes ${previous.begin}–${previous.end}).`,
      );
    }
  }

  const tensors: TensorMap = new Map();
  for (const entry of entries) {
    const count = (entry.end - entry.begin) / DTYPE_BYTES[entry.dtype];
    const slice = bytes.subarray(dataStart + entry.begin, dataStart + entry.end);
    tensors.set(entry.name, { name: entry.name, shape: entry.shape, data: decodeToFloat32(slice, entry.dtype, count) });
  }
  return { tensors, metadata };
}

function validateEntry(
  name: string,
  raw: unknown,
  dataLength: number,
  fail: (code: string, what: string) => never,
): HeaderEntry {
  const bad = (what: string): never => fail('SAFETENSORS_BAD_ENTRY', `tensor "${name}": ${what}`);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) bad('the entry is not an object.');
  const entry = raw as Record<string, unknown>;

  const dtype = entry.dtype;
  if (typeof dtype !== 'string') bad('"dtype" is missing or not a string.');
  if (!isSupportedDtype(dtype as string)) {
    fail(
      'SAFETENSORS_UNSUPPORTED_DTYPE',
      `tensor "${name}": dtype "${String(dtype)}" is not supported (supported: ${Object.keys(DTYPE_BYTES).join(', ')}); convert the checkpoint to F32, F16 or BF16.`,
    );
  }
  const shape = entry.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    bad('"shape" must be an array of non-negative integers.');
  }
  const offsets = entry.data_offsets;
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    bad('"data_offsets" must be [begin, end] with 0 ≤ begin ≤ end.');
  }
  const [begin, end] = offsets as [number, number];
  const elementBytes = DTYPE_BYTES[dtype as keyof typeof DTYPE_BYTES];
  // The product of a shape [] is 1 (a scalar). Checked as we go so that absurd shapes cannot overflow silently.
  let elements = 1;
  for (const dim of shape as number[]) {
    elements *= dim;
    if (!Number.isSafeInteger(elements * elementBytes))
      bad(`shape [${(shape as number[]).join(', ')}] is absurdly large.`);
  }
  if (elements * elementBytes !== end - begin) {
    fail(
      'SAFETENSORS_SIZE_MISMATCH',
      `tensor "${name}": shape [${(shape as number[]).join(', ')}] × ${elementBytes} bytes (${dtype}) = ${elements * elementBytes} bytes, but data_offsets span ${end - begin} bytes.`,
    );
  }
  if (end > dataLength) {
    fail(
      'SAFETENSORS_OFFSET_OUT_OF_BOUNDS',
      `tensor "${name}": data_offsets [${begin}, ${end}] reach past the end of the data section (${dataLength} bytes).`,
    );
  }
  return { name, dtype: dtype as keyof typeof DTYPE_BYTES, shape: [...(shape as number[])], begin, end };
}

/**
 * Returns the first key that occurs twice at the top level of a JSON object text, or null.
 * Only called on text that JSON.parse accepted, so the scanner can assume well-formed input.
 */
export function findDuplicateTopLevelKey(json: string): string | null {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      // Find the closing quote, skipping escaped characters.
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(json.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      if (depth === 1 && c === '{') expectKey = true;
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return null;
}

export interface WriteSafetensorsOptions {
  /** On-disk dtype. F32 round-trips bit-exactly; F16 halves the size and rounds to nearest even. */
  dtype: 'F32' | 'F16';
  /**
   * String metadata stored under `__metadata__`. Hugging Face transformers refuses safetensors files whose metadata
   * lacks `format` (it expects "pt"), so `exportFolder` passes `{format: 'pt'}`; this low-level writer adds nothing.
   */
  metadata?: Record<string, string>;
}

/** Serialises tensors (in iteration order, packed without gaps) into a safetensors file. */
export function writeSafetensors(tensors: Iterable<RawTensor>, opts: WriteSafetensorsOptions): Uint8Array {
  const elementBytes = opts.dtype === 'F32' ? 4 : 2;
  // No prototype, so a tensor named "__proto__" is an entry like any other instead of vanishing.
  const header: Record<string, unknown> = Object.create(null);
  const list: RawTensor[] = [];
  let offset = 0;
  for (const tensor of tensors) {
    if (tensor.name === '__metadata__' || Object.prototype.hasOwnProperty.call(header, tensor.name)) {
      throw new EngineError(
        'SAFETENSORS_DUPLICATE_NAME',
        `Cannot write tensor "${tensor.name}": the name is used twice or reserved.`,
      );
    }
    const elements = tensor.shape.reduce((a, b) => a * b, 1);
    if (elements !== tensor.data.length) {
      throw new EngineError(
        'SAFETENSORS_SIZE_MISMATCH',
        `Cannot write tensor "${tensor.name}": shape [${tensor.shape.join(', ')}] has ${elements} elements but the data has ${tensor.data.length}.`,
      );
    }
    const size = elements * elementBytes;
    header[tensor.name] = { dtype: opts.dtype, shape: tensor.shape, data_offsets: [offset, offset + size] };
    list.push(tensor);
    offset += size;
  }
  if (opts.metadata !== undefined) header.__metadata__ = opts.metadata;

  const json = new TextEncoder().encode(JSON.stringify(header));
  // Pad with spaces (valid JSON whitespace) so the data section starts 8-byte aligned, as the reference writer does.
  const paddedLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + paddedLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(paddedLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + paddedLength);
  let cursor = 8 + paddedLength;
  for (const tensor of list) {
    const size = tensor.data.length * elementBytes;
    encodeFloat32(tensor.data, opts.dtype, out.subarray(cursor, cursor + size));
    cursor += size;
  }
  return out;
}
