/**
 * Shared pieces of the fuzz suite (tests/fuzz/*.test.ts): the one property every parser must keep
 * ("a correct result or an EngineError, quickly, without allocating far beyond the input"), and
 * generators that mutate valid inputs (bytes, text, JSON trees) rather than only throwing random
 * bytes, which rarely get past a format's first check.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { DTYPE_BYTES, type SafetensorsDtype } from '../../src/engine/checkpoint/dtypes';
import type { CheckpointSource } from '../../src/engine/checkpoint/source';
import { EngineError } from '../../src/engine/errors';

/** Generated cases per property; with a fixed seed per property, CI sees the same cases every run. */
export const RUNS = 300;

/**
 * Wall-clock bound per case. Generous on purpose (the machine is shared and slow): it catches hangs
 * and quadratic blow-ups, not ordinary slowness.
 */
export const CASE_MS = 2000;

/**
 * Array buffer bytes a parser may allocate beyond its input before we call it a blow-up. Parsers
 * decode to float32 (up to 4x a U8 input) and keep a copy or two: a multiple of the input plus a floor.
 */
const ALLOWED_BUFFER_GROWTH = (inputBytes: number) => 32 * 1024 * 1024 + 16 * inputBytes;
/**
 * JS heap growth allowed per case (strings, objects; garbage not yet collected counts too, hence
 * the large floor): catches parsers that build millions of objects from a few bytes.
 */
const ALLOWED_HEAP_GROWTH = (inputBytes: number) => 256 * 1024 * 1024 + 64 * inputBytes;

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: EngineError };

function memory(): { buffers: number; heap: number } {
  const usage = process.memoryUsage();
  return { buffers: usage.arrayBuffers, heap: usage.heapUsed };
}

/** Fails the property unless `error` is an EngineError with a code and a message. */
export function expectEngineError(error: unknown): EngineError {
  if (!(error instanceof EngineError)) {
    // The cause carries the original error and its stack into fast-check's report.
    const what = error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
    throw new Error(`expected an EngineError, got ${what}`, { cause: error });
  }
  expect(error.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
  expect(error.message.trim().length).toBeGreaterThan(0);
  return error;
}

function checkCost(started: number, before: { buffers: number; heap: number }, inputBytes: number): void {
  const ms = performance.now() - started;
  expect(ms, 'one case took too long (a hang or a quadratic blow-up?)').toBeLessThan(CASE_MS);
  const after = memory();
  expect(after.buffers - before.buffers, 'the parser allocated buffers far beyond the input').toBeLessThan(
    ALLOWED_BUFFER_GROWTH(inputBytes),
  );
  expect(after.heap - before.heap, 'the parser built far more objects than the input holds').toBeLessThan(
    ALLOWED_HEAP_GROWTH(inputBytes),
  );
}

/**
 * Runs one case of a parser: its value, or the EngineError it threw. Any other error, a slow case
 * or a large allocation fails the property.
 */
export function runCase<T>(fn: () => T, inputBytes = 0): Outcome<T> {
  const before = memory();
  const started = performance.now();
  let outcome: Outcome<T>;
  try {
    outcome = { ok: true, value: fn() };
  } catch (error) {
    outcome = { ok: false, error: expectEngineError(error) };
  }
  checkCost(started, before, inputBytes);
  return outcome;
}

/** `runCase` for async parsers. */
export async function runCaseAsync<T>(fn: () => Promise<T>, inputBytes = 0): Promise<Outcome<T>> {
  const before = memory();
  const started = performance.now();
  let outcome: Outcome<T>;
  try {
    outcome = { ok: true, value: await fn() };
  } catch (error) {
    outcome = { ok: false, error: expectEngineError(error) };
  }
  checkCost(started, before, inputBytes);
  return outcome;
}

// -------------------------------------------------------------------------------------------------
// Byte mutations

/** Integers that sit on format boundaries (lengths, signs, 32/64-bit limits). */
const INTERESTING_U32 = [0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

export type ByteEdit =
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'duplicate'; at: number; count: number }
  | { kind: 'u32'; at: number; value: number };

/** One edit; positions are taken modulo the current length when applied. */
export const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 0x0a, 0x22, 0x7f, 0x80, 0xff),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 32 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.constantFrom(...INTERESTING_U32) }),
);

export function applyByteEdits(input: Uint8Array, edits: readonly ByteEdit[]): Uint8Array {
  let bytes = input.slice();
  for (const edit of edits) {
    const n = bytes.length;
    const at = n === 0 ? 0 : edit.at % n;
    switch (edit.kind) {
      case 'flip':
        if (n > 0) bytes[at] ^= edit.xor;
        break;
      case 'set':
        if (n > 0) bytes[at] = edit.value;
        break;
      case 'truncate':
        bytes = bytes.slice(0, edit.at % (n + 1));
        break;
      case 'insert': {
        const out = new Uint8Array(n + edit.bytes.length);
        out.set(bytes.subarray(0, at));
        out.set(edit.bytes, at);
        out.set(bytes.subarray(at), at + edit.bytes.length);
        bytes = out;
        break;
      }
      case 'delete':
        bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + edit.count)]);
        break;
      case 'duplicate': {
        const piece = bytes.slice(at, at + edit.count);
        const out = new Uint8Array(n + piece.length);
        out.set(bytes.subarray(0, at + piece.length));
        out.set(piece, at + piece.length);
        out.set(bytes.subarray(at + piece.length), at + 2 * piece.length);
        bytes = out;
        break;
      }
      case 'u32':
        if (n >= 4) new DataView(bytes.buffer).setUint32(Math.min(at, n - 4), edit.value, true);
        break;
    }
  }
  return bytes;
}

/** One to four byte edits of `seed`. */
export function mutatedBytes(seed: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.array(byteEdit, { minLength: 1, maxLength: 4 }).map((edits) => applyByteEdits(seed, edits));
}

/** Edits of one of several seeds. */
export function mutatedBytesOf(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(...seeds.map((seed) => mutatedBytes(seed)));
}

// -------------------------------------------------------------------------------------------------
// JSON tree mutations

/** Values that break naive validation: wrong types, boundaries, huge and fractional numbers, prototype names. */
export const interestingJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    -0.5,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    2 ** 64,
    1e308,
    -1e308,
    '',
    '0',
    'x',
    '__proto__',
    'constructor',
    'toString',
    [],
    {},
    [0],
    [-1],
    [2 ** 40, 2 ** 40],
  ),
  fc.jsonValue({ maxDepth: 2 }),
);

export type JsonEdit =
  | { op: 'replace'; path: number; value: unknown }
  | { op: 'delete'; path: number }
  | { op: 'insert'; path: number; key: string; value: unknown }
  | { op: 'wrap'; path: number };

export const jsonEdit: fc.Arbitrary<JsonEdit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('replace' as const), path: fc.nat(), value: interestingJson }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), path: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      path: fc.nat(),
      key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', '0', 'id', 'type')),
      value: interestingJson,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('wrap' as const), path: fc.nat() }) },
);

type Slot = { parent: Record<string, unknown> | unknown[]; key: string | number };

function slotsOf(value: unknown, out: Slot[] = []): Slot[] {
  // Typed arrays (stored bytes) are leaves: their elements cannot be deleted or redefined.
  if (ArrayBuffer.isView(value)) return out;
  if (Array.isArray(value)) {
    value.forEach((child, i) => {
      out.push({ parent: value, key: i });
      slotsOf(child, out);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      out.push({ parent: value as Record<string, unknown>, key });
      slotsOf(child, out);
    }
  }
  return out;
}

/** Own-property assignment, so a key named `__proto__` becomes data as JSON.parse would make it. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Applies `edits` to a deep copy of `value` (a JSON value); slots are picked modulo their count. */
export function applyJsonEdits(value: unknown, edits: readonly JsonEdit[]): unknown {
  const root = { value: structuredClone(value) };
  for (const edit of edits) {
    const slots = [
      { parent: root as unknown as Record<string, unknown>, key: 'value' } as Slot,
      ...slotsOf(root.value),
    ];
    const { parent, key } = slots[edit.path % slots.length];
    const current = (parent as Record<string | number, unknown>)[key];
    switch (edit.op) {
      case 'replace':
        (parent as Record<string | number, unknown>)[key] = structuredClone(edit.value);
        break;
      case 'delete':
        if (parent === (root as unknown)) root.value = null;
        else if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
        break;
      case 'insert':
        if (Array.isArray(current)) current.push(structuredClone(edit.value));
        else if (current !== null && typeof current === 'object' && !ArrayBuffer.isView(current))
          setOwn(current as Record<string, unknown>, edit.key, structuredClone(edit.value));
        break;
      case 'wrap':
        (parent as Record<string | number, unknown>)[key] = [current];
        break;
    }
  }
  return root.value;
}

/** One to four JSON edits of `seed`. */
export function mutatedJson(seed: unknown): fc.Arbitrary<unknown> {
  return fc.array(jsonEdit, { minLength: 1, maxLength: 4 }).map((edits) => applyJsonEdits(seed, edits));
}

/**
 * JSON text of `value` with the top-level entry `key` written twice (JSON.parse would silently keep
 * the second; parsers that care must look at the text).
 */
export function withDuplicateKey(value: Record<string, unknown>, key: string): string {
  const text = JSON.stringify(value);
  const entry = `${JSON.stringify(key)}:${JSON.stringify(value[key] ?? null)}`;
  return text === '{}' ? `{${entry},${entry}}` : `{${entry},${text.slice(1)}`;
}

export const utf8 = (text: string) => new TextEncoder().encode(text);

// -------------------------------------------------------------------------------------------------
// Reference decoding of checkpoint element types, written independently of src/engine/checkpoint/dtypes.ts

/** Half → float32, written independently of the engine's lookup table. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa === 0 ? sign * Infinity : NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

// The element sizes are facts of the format, shared with the engine; the element decoder below is
// written apart from the engine's on purpose, as the reference its results are checked against.
export const DTYPES = Object.keys(DTYPE_BYTES) as SafetensorsDtype[];
export type Dtype = SafetensorsDtype;
export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = DTYPE_BYTES;

/** Element `i` of little-endian `bytes` of `dtype`, as the float32 value a reader must produce. */
export function elementValue(bytes: Uint8Array, dtype: Dtype, i: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F64':
      return Math.fround(view.getFloat64(8 * i, true));
    case 'F32':
      return view.getFloat32(4 * i, true);
    case 'F16':
      return halfToNumber(view.getUint16(2 * i, true));
    case 'BF16': {
      const scratch = new DataView(new ArrayBuffer(4));
      scratch.setUint32(0, view.getUint16(2 * i, true) << 16);
      return scratch.getFloat32(0);
    }
    case 'I64':
      return Math.fround(Number(view.getBigInt64(8 * i, true)));
    case 'I32':
      return Math.fround(view.getInt32(4 * i, true));
    case 'I16':
      return view.getInt16(2 * i, true);
    case 'I8':
      return view.getInt8(i);
    case 'U8':
    case 'BOOL':
      return bytes[i];
  }
}

/** Equal as float values, any NaN equal to any NaN (payloads are not part of the contract). */
export const sameValue = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

export const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

// -------------------------------------------------------------------------------------------------
// Checkpoint folders in memory

/** A checkpoint folder held in memory, read the way a dropped folder or a local directory is. */
export function memorySource(files: Record<string, Uint8Array>): CheckpointSource {
  const has = (name: string) => Object.prototype.hasOwnProperty.call(files, name);
  return {
    description: 'the fuzzed folder',
    list: async () => Object.keys(files),
    read: async (name) => (has(name) ? files[name] : null),
    locate: (name) => `fuzz/${name}`,
  };
}

/** The smallest config.json a BERT checkpoint folder can have. */
export const MINIMAL_CONFIG = {
  model_type: 'bert',
  vocab_size: 8,
  hidden_size: 4,
  num_hidden_layers: 1,
  num_attention_heads: 1,
  intermediate_size: 8,
};

/** A vocab.txt with the five BERT special tokens, MINIMAL_CONFIG.vocab_size tokens in all. */
export const MINIMAL_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b', '##c'].join('\n') + '\n';
