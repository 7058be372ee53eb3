/**
 * Fuzzing `pytorch_model.bin` (src/engine/checkpoint/pytorch-bin.ts) and its restricted unpickler
 * (pickle.ts): state dicts written the way torch.save writes them (protocols 2 and 4, memo, tied
 * storages, transposed views, Parameters), then the same with their storage declarations, views,
 * pickle bytes, zip bytes and zip size fields mutated, random opcode programs and very long ones.
 */
import fc from 'fast-check';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { unpickleRestricted } from '../../src/engine/checkpoint/pickle';
import { parsePytorchBin } from '../../src/engine/checkpoint/pytorch-bin';
import { bitsOf, expectedTensors, fixtureBytes } from '../../src/engine/checkpoint/test-fixtures';
import type { TensorMap } from '../../src/engine/checkpoint/types';
import {
  DTYPE_SIZE,
  RUNS,
  byteEdit,
  applyByteEdits,
  elementValue,
  mutatedBytesOf,
  product,
  runCase,
  sameValue,
  utf8,
  type Dtype,
} from './support';

const FIXTURES = ['pytorch_model.bin', 'module_state_protocol4.bin', 'parameter.bin'];

/** torch's legacy storage classes and the element type of their bytes. */
const STORAGE_CLASS: Record<Dtype, string> = {
  F32: 'FloatStorage',
  F16: 'HalfStorage',
  BF16: 'BFloat16Storage',
  F64: 'DoubleStorage',
  I64: 'LongStorage',
  I32: 'IntStorage',
  I16: 'ShortStorage',
  I8: 'CharStorage',
  U8: 'ByteStorage',
  BOOL: 'BoolStorage',
};

// -------------------------------------------------------------------------------------------------
// A small pickle writer (the subset torch.save emits), with the encoding choices torch varies.

const OP = {
  PROTO: 0x80,
  FRAME: 0x95,
  STOP: 0x2e,
  MARK: 0x28,
  EMPTY_DICT: 0x7d,
  EMPTY_LIST: 0x5d,
  EMPTY_TUPLE: 0x29,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  BINUNICODE: 0x58,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  LONG1: 0x8a,
  BINFLOAT: 0x47,
  NONE: 0x4e,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  MEMOIZE: 0x94,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
  SETITEM: 0x73,
  SETITEMS: 0x75,
  APPEND: 0x61,
  APPENDS: 0x65,
  GLOBAL: 0x63,
  STACK_GLOBAL: 0x93,
  BINPERSID: 0x51,
  REDUCE: 0x52,
  BUILD: 0x62,
} as const;

interface Encoding {
  protocol: 2 | 4;
  /** Reuse globals through the memo (BINPUT/MEMOIZE + BINGET), as the pickler does. */
  memo: boolean;
  /** SETITEMS in one batch, or one SETITEM per entry. */
  batch: boolean;
  /** Append the `_metadata` BUILD torch writes for a Module.state_dict(). */
  build: boolean;
}

class PickleWriter {
  private readonly out: number[] = [];
  private readonly memo = new Map<string, number>();
  private memoSize = 0;
  constructor(private readonly enc: Encoding) {}

  op(...bytes: number[]): this {
    for (const b of bytes) this.out.push(b);
    return this;
  }
  u32(value: number): this {
    return this.op(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, (value >>> 24) & 0xff);
  }
  str(text: string): this {
    const bytes = utf8(text);
    if (this.enc.protocol === 4 && bytes.length < 256) this.op(OP.SHORT_BINUNICODE, bytes.length);
    else this.op(OP.BINUNICODE).u32(bytes.length);
    for (const b of bytes) this.out.push(b);
    return this;
  }
  int(value: number): this {
    if (value >= 0 && value < 256) return this.op(OP.BININT1, value);
    if (value >= 0 && value < 65536) return this.op(OP.BININT2, value & 0xff, value >> 8);
    if (value >= -(2 ** 31) && value < 2 ** 31) return this.op(OP.BININT).u32(value >>> 0);
    // LONG1: little-endian two's complement in as few bytes as keep the sign.
    const bytes: number[] = [];
    let v = BigInt(value);
    do {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
    } while (!(v === 0n && (bytes[bytes.length - 1] & 0x80) === 0) && !(v === -1n && bytes[bytes.length - 1] & 0x80));
    return this.op(OP.LONG1, bytes.length, ...bytes);
  }
  private remember(key: string): void {
    if (!this.enc.memo) return;
    if (this.enc.protocol === 4) this.op(OP.MEMOIZE);
    else this.op(OP.BINPUT, this.memoSize);
    this.memo.set(key, this.memoSize++);
  }
  global(module: string, name: string): this {
    const key = `${module} ${name}`;
    const index = this.memo.get(key);
    if (index !== undefined) return index < 256 ? this.op(OP.BINGET, index) : this.op(OP.LONG_BINGET).u32(index);
    if (this.enc.protocol === 4) this.str(module).str(name).op(OP.STACK_GLOBAL);
    else this.op(OP.GLOBAL, ...utf8(`${module}\n${name}\n`));
    this.remember(key);
    return this;
  }
  orderedDict(): this {
    return this.global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE, OP.REDUCE);
  }
  bytes(): Uint8Array {
    const body = Uint8Array.from(this.out);
    if (this.enc.protocol !== 4) return Uint8Array.from([OP.PROTO, 2, ...body]);
    // FRAME carries the length of what follows; the reader treats it as a hint.
    const out = new Uint8Array(2 + 9 + body.length);
    out.set([OP.PROTO, 4, OP.FRAME]);
    new DataView(out.buffer).setBigUint64(3, BigInt(body.length), true);
    out.set(body, 11);
    return out;
  }
}

// -------------------------------------------------------------------------------------------------
// State dicts as data: what the pickle declares, and the storage bytes in the zip.

interface StorageSpec {
  key: string;
  dtype: Dtype;
  /** Element count declared in the pickle. */
  numel: number;
  /** Storage class name written in the pickle (normally STORAGE_CLASS[dtype]). */
  className: string;
}

interface TensorSpec {
  name: string;
  storage: number;
  offset: number;
  shape: number[];
  stride: number[];
  parameter: boolean;
}

interface StateDictSpec {
  prefix: string;
  storages: StorageSpec[];
  /** Bytes of each storage's zip entry (absent: entry left out). */
  raw: (Uint8Array | undefined)[];
  tensors: TensorSpec[];
  encoding: Encoding;
  byteorder: string | null;
}

function statePickle(spec: StateDictSpec): Uint8Array {
  const w = new PickleWriter(spec.encoding);
  w.orderedDict();
  if (spec.encoding.batch) w.op(OP.MARK);
  for (const t of spec.tensors) {
    const s = spec.storages[t.storage];
    w.str(t.name);
    if (t.parameter) w.global('torch._utils', '_rebuild_parameter').op(OP.MARK);
    w.global('torch._utils', '_rebuild_tensor_v2').op(OP.MARK);
    w.op(OP.MARK).str('storage').global('torch', s.className).str(s.key).str('cpu').int(s.numel).op(OP.TUPLE);
    w.op(OP.BINPERSID).int(t.offset);
    w.op(OP.MARK);
    for (const d of t.shape) w.int(d);
    w.op(OP.TUPLE, OP.MARK);
    for (const d of t.stride) w.int(d);
    w.op(OP.TUPLE, OP.NEWFALSE).orderedDict().op(OP.TUPLE, OP.REDUCE);
    if (t.parameter) w.op(OP.NEWFALSE).orderedDict().op(OP.TUPLE, OP.REDUCE);
    if (!spec.encoding.batch) w.op(OP.SETITEM);
  }
  if (spec.encoding.batch) w.op(OP.SETITEMS);
  if (spec.encoding.build) {
    // {'_metadata': OrderedDict({'': {'version': 1}})}, as Module.state_dict() leaves it.
    w.op(OP.EMPTY_DICT).str('_metadata').orderedDict().str('').op(OP.EMPTY_DICT).str('version').int(1);
    w.op(OP.SETITEM, OP.SETITEM, OP.SETITEM, OP.BUILD);
  }
  return w.op(OP.STOP).bytes();
}

function stateZip(spec: StateDictSpec, pickle: Uint8Array = statePickle(spec)): Uint8Array {
  const files: Record<string, Uint8Array> = {
    [`${spec.prefix}/data.pkl`]: pickle,
    [`${spec.prefix}/version`]: utf8('3\n'),
  };
  if (spec.byteorder !== null) files[`${spec.prefix}/byteorder`] = utf8(spec.byteorder);
  spec.storages.forEach((s, i) => {
    const raw = spec.raw[i];
    if (raw !== undefined) files[`${spec.prefix}/data/${s.key}`] = raw;
  });
  // torch stores entries uncompressed.
  return zipSync(files, { level: 0 });
}

/** Row-major strides of `shape` laid out in the axis order `order` (outermost first). */
function stridesFor(shape: number[], order: number[]): number[] {
  const stride = new Array<number>(shape.length).fill(0);
  let step = 1;
  for (let k = order.length - 1; k >= 0; k--) {
    stride[order[k]] = step;
    step *= shape[order[k]];
  }
  return stride;
}

/** A valid state dict: every view fits its storage; some tensors share a storage (tied weights). */
const validSpec: fc.Arbitrary<StateDictSpec> = fc
  .record({
    prefix: fc.constantFrom('archive', 'pytorch_model', 'my_model-1'),
    names: fc.uniqueArray(
      fc.oneof(
        fc.string({ minLength: 1, maxLength: 10, unit: 'grapheme' }),
        fc.constantFrom('bert.pooler.dense.weight', 'cls.predictions.bias', '__proto__'),
      ),
      { minLength: 1, maxLength: 4 },
    ),
    encoding: fc.record({
      protocol: fc.constantFrom(2 as const, 4 as const),
      memo: fc.boolean(),
      batch: fc.boolean(),
      build: fc.boolean(),
    }),
    byteorder: fc.constantFrom(null, 'little', 'little\n'),
  })
  .chain(({ prefix, names, encoding, byteorder }) =>
    fc
      .tuple(
        ...names.map((name, i) =>
          fc.record({
            name: fc.constant(name),
            shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
            dtype: fc.constantFrom(...(Object.keys(STORAGE_CLASS) as Dtype[])),
            offset: fc.integer({ min: 0, max: 3 }),
            slack: fc.integer({ min: 0, max: 3 }),
            // Share the storage (and view) of an earlier tensor, as tied weights do.
            tiedTo: i === 0 ? fc.constant(-1) : fc.integer({ min: -3, max: i - 1 }),
            order: fc.integer({ min: 0, max: 5 }),
            parameter: fc.boolean(),
          }),
        ),
      )
      .chain((drafts) => {
        const storages: StorageSpec[] = [];
        const tensors: TensorSpec[] = [];
        for (const d of drafts) {
          const tied = d.tiedTo >= 0 ? tensors[d.tiedTo] : undefined;
          if (tied) {
            tensors.push({ ...tied, name: d.name, parameter: d.parameter });
            continue;
          }
          // A permutation of the axes picks the memory layout (e.g. a transposed weight).
          const axes = d.shape.map((_, k) => k);
          const order = axes.length > 1 ? rotate(axes, d.order % axes.length).reverse() : axes;
          const numel = d.offset + product(d.shape) + d.slack;
          storages.push({ key: String(storages.length), dtype: d.dtype, numel, className: STORAGE_CLASS[d.dtype] });
          tensors.push({
            name: d.name,
            storage: storages.length - 1,
            offset: d.offset,
            shape: d.shape,
            stride: stridesFor(d.shape, order),
            parameter: d.parameter,
          });
        }
        return fc
          .tuple(
            ...storages.map((s) =>
              fc.uint8Array({ minLength: s.numel * DTYPE_SIZE[s.dtype], maxLength: s.numel * DTYPE_SIZE[s.dtype] }),
            ),
          )
          .map((raw): StateDictSpec => ({ prefix, storages, raw, tensors, encoding, byteorder }));
      }),
  );

function rotate<T>(list: T[], by: number): T[] {
  return [...list.slice(by), ...list.slice(0, by)];
}

/**
 * What the reader must produce for `t`, or null when the view does not fit its storage. Storages are
 * zip entries named by key: when mutated declarations give two storages one key, the zip holds the
 * last one written and the first declaration (in dict order) of that key is the one that counts.
 */
function referenceTensor(spec: StateDictSpec, t: TensorSpec): Float32Array | null {
  const key = spec.storages[t.storage].key;
  let raw: Uint8Array | undefined;
  spec.storages.forEach((s, i) => {
    if (s.key === key && spec.raw[i] !== undefined) raw = spec.raw[i];
  });
  const first = spec.tensors.find((u) => spec.storages[u.storage].key === key)!;
  const s = spec.storages[first.storage];
  if (raw === undefined || raw.length < s.numel * DTYPE_SIZE[s.dtype]) return null;
  const count = product(t.shape);
  const out = new Float32Array(count);
  const index = new Array<number>(t.shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let source = t.offset;
    index.forEach((k, axis) => (source += k * t.stride[axis]));
    if (source >= s.numel) return null;
    out[i] = elementValue(raw, s.dtype, source);
    for (let axis = t.shape.length - 1; axis >= 0 && ++index[axis] === t.shape[axis]; axis--) index[axis] = 0;
  }
  return out;
}

/** An accepted file must give exactly the reference tensors of its spec, in the dict's order. */
function checkAgainstSpec(spec: StateDictSpec, tensors: TensorMap): void {
  expect([...tensors.keys()]).toEqual(spec.tensors.map((t) => t.name));
  for (const t of spec.tensors) {
    const got = tensors.get(t.name)!;
    expect(got.shape).toEqual(t.shape);
    const want = referenceTensor(spec, t);
    expect(want, `${t.name} was accepted but does not fit its storage`).not.toBeNull();
    for (let i = 0; i < want!.length; i++) {
      if (!sameValue(got.data[i], want![i])) expect(got.data[i], `${t.name}[${i}]`).toBe(want![i]);
    }
  }
  // Tensors never alias each other, even when they share a storage.
  const buffers = new Set([...tensors.values()].filter((t) => t.data.length > 0).map((t) => t.data.buffer));
  expect(buffers.size).toBe([...tensors.values()].filter((t) => t.data.length > 0).length);
}

function checkAccepted(tensors: TensorMap): void {
  for (const [name, t] of tensors) {
    expect(t.name).toBe(name);
    expect(t.data.length).toBe(product(t.shape));
  }
}

/** Mutations of the declarations only: the pickle stays well-formed, what it claims changes. */
const HUGE = [2 ** 20, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 52, Number.MAX_SAFE_INTEGER];
type SpecEdit = (spec: StateDictSpec, pick: number, value: number) => void;
const SPEC_EDITS: SpecEdit[] = [
  (s, p, v) => (s.storages[p % s.storages.length].numel = v),
  (s, p, v) => (s.tensors[p % s.tensors.length].offset = v),
  (s, p, v) => {
    const t = s.tensors[p % s.tensors.length];
    if (t.shape.length > 0) t.shape[p % t.shape.length] = v;
    else t.shape = [v];
  },
  (s, p, v) => {
    const t = s.tensors[p % s.tensors.length];
    if (t.stride.length > 0) t.stride[p % t.stride.length] = v % 7;
  },
  (s, p, v) => {
    const t = s.tensors[p % s.tensors.length];
    if (t.stride.length > 0) t.stride[p % t.stride.length] = v;
  },
  (s, p) => (s.raw[p % s.raw.length] = undefined),
  (s, p, v) => (s.raw[p % s.raw.length] = s.raw[p % s.raw.length]?.slice(0, v % 9)),
  (s, p) => (s.storages[p % s.storages.length].key = ['../x', '', 'a/b', '__proto__', '0 1'][p % 5]),
  (s, p) => (s.storages[p % s.storages.length].className = ['FooStorage', 'UntypedStorage', 'Tensor'][p % 3]),
  (s, p) => (s.tensors[p % s.tensors.length].storage = (p + 1) % s.storages.length),
  (s) => (s.byteorder = 'big'),
  // Two views of one element claiming a huge shape: stride 0 repeats it (a "view bomb").
  (s, p, v) => {
    const t = s.tensors[p % s.tensors.length];
    t.shape = [v, v];
    t.stride = [0, 0];
  },
];

const mutatedSpec = fc
  .tuple(
    validSpec,
    fc.array(
      fc.record({
        edit: fc.integer({ min: 0, max: SPEC_EDITS.length - 1 }),
        pick: fc.nat(),
        value: fc.oneof(fc.integer({ min: 0, max: 16 }), fc.constantFrom(...HUGE)),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([spec, edits]) => {
    const copy: StateDictSpec = structuredClone(spec);
    for (const e of edits) SPEC_EDITS[e.edit](copy, e.pick, e.value);
    return copy;
  });

/** Random opcode programs over the whole instruction set the reader knows, with plausible arguments. */
const GLOBALS = [
  'collections\nOrderedDict\n',
  'torch._utils\n_rebuild_tensor_v2\n',
  'torch._utils\n_rebuild_parameter\n',
  'torch\nFloatStorage\n',
  'builtins\neval\n',
  'torch\nFloatStorage',
];
const opcodeToken: fc.Arbitrary<number[]> = fc.oneof(
  fc.constantFrom(
    ...[
      OP.MARK,
      OP.EMPTY_DICT,
      OP.EMPTY_LIST,
      OP.EMPTY_TUPLE,
      OP.TUPLE,
      OP.TUPLE1,
      OP.TUPLE2,
      OP.TUPLE3,
      OP.NONE,
      OP.NEWTRUE,
      OP.NEWFALSE,
      OP.MEMOIZE,
      OP.SETITEM,
      OP.SETITEMS,
      OP.APPEND,
      OP.APPENDS,
      OP.STACK_GLOBAL,
      OP.BINPERSID,
      OP.REDUCE,
      OP.BUILD,
      OP.STOP,
    ].map((op) => [op]),
  ),
  fc.integer({ min: 0, max: 255 }).map((v) => [OP.BININT1, v]),
  fc.integer({ min: 0, max: 3 }).map((v) => [OP.BINGET, v]),
  fc.integer({ min: 0, max: 3 }).map((v) => [OP.BINPUT, v]),
  fc.string({ maxLength: 6 }).map((s) => [OP.SHORT_BINUNICODE, utf8(s).length, ...utf8(s)]),
  fc
    .constantFrom('storage', 'cpu', '0', 'collections', 'OrderedDict', 'torch')
    .map((s) => [OP.SHORT_BINUNICODE, s.length, ...utf8(s)]),
  fc.constantFrom(...GLOBALS).map((g) => [OP.GLOBAL, ...utf8(g)]),
  fc.uint8Array({ minLength: 0, maxLength: 9 }).map((b) => [OP.LONG1, b.length, ...b]),
  fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => [OP.BINFLOAT, ...b]),
  fc.uint8Array({ minLength: 1, maxLength: 9 }).map((b) => [...b]),
);
const opcodeProgram = fc
  .tuple(fc.constantFrom(2, 4, 5, 1, 9), fc.array(opcodeToken, { maxLength: 40 }), fc.boolean())
  .map(([protocol, tokens, stop]) =>
    Uint8Array.from([OP.PROTO, protocol, ...tokens.flat(), ...(stop ? [OP.STOP] : [])]),
  );

/**
 * A zip with the uncompressed size of one entry rewritten (local header at +22, central directory
 * at +24): what a zip bomb or a corrupt archive claims.
 */
function withSizeField(zip: Uint8Array, which: number, value: number): Uint8Array {
  const out = zip.slice();
  const view = new DataView(out.buffer);
  const fields: number[] = [];
  for (let i = 0; i + 30 <= out.length; i++) {
    const signature = view.getUint32(i, true);
    if (signature === 0x04034b50) fields.push(i + 22);
    if (signature === 0x02014b50) fields.push(i + 24);
  }
  if (fields.length > 0) view.setUint32(fields[which % fields.length], value, true);
  return out;
}

describe('fuzz: pytorch_model.bin', () => {
  it('reads torch.save-style state dicts exactly (every dtype, views, tied storages, both protocols)', () => {
    fc.assert(
      fc.property(validSpec, (spec) => {
        const bytes = stateZip(spec);
        const outcome = runCase(() => parsePytorchBin(bytes), bytes.length);
        if (!outcome.ok) throw outcome.error;
        checkAgainstSpec(spec, outcome.value);
      }),
      { numRuns: RUNS, seed: 0x7079_0001 },
    );
  });

  it('refuses wrong storage declarations, views, keys and byte orders, or reads exactly what they say', () => {
    fc.assert(
      fc.property(mutatedSpec, (spec) => {
        const bytes = stateZip(spec);
        const outcome = runCase(() => parsePytorchBin(bytes), bytes.length);
        if (outcome.ok) checkAgainstSpec(spec, outcome.value);
      }),
      { numRuns: RUNS, seed: 0x7079_0002 },
    );
  });

  it('refuses corrupted pickles inside a well-formed zip with an EngineError', () => {
    const input = validSpec.chain((spec) =>
      fc
        .array(byteEdit, { minLength: 1, maxLength: 4 })
        .map((edits) => stateZip(spec, applyByteEdits(statePickle(spec), edits))),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        const outcome = runCase(() => parsePytorchBin(bytes), bytes.length);
        if (outcome.ok) checkAccepted(outcome.value);
      }),
      { numRuns: RUNS, seed: 0x7079_0003 },
    );
  });

  it('runs random opcode programs without executing anything or failing other than with an EngineError', () => {
    fc.assert(
      fc.property(opcodeProgram, fc.boolean(), (pickle, zipped) => {
        const globals = new Map([['collections OrderedDict', { call: () => new Map() }]]);
        const outcome = zipped
          ? runCase(() => parsePytorchBin(zipSync({ 'archive/data.pkl': pickle })), pickle.length)
          : runCase(() => unpickleRestricted(pickle, { fileName: 'fuzz.pkl', globals }), pickle.length);
        if (outcome.ok && zipped) checkAccepted(outcome.value as TensorMap);
      }),
      { numRuns: RUNS, seed: 0x7079_0004 },
    );
  });

  it('handles very long pickles (100k+ items in one MARK group) without overflowing the stack', () => {
    // A few cases are long: a generous file can hold hundreds of thousands of opcodes.
    const input = fc.record({
      count: fc.oneof(
        { weight: 9, arbitrary: fc.integer({ min: 0, max: 2000 }) },
        { weight: 1, arbitrary: fc.integer({ min: 150_000, max: 250_000 }) },
      ),
      into: fc.constantFrom('list', 'dict', 'tuple'),
    });
    fc.assert(
      fc.property(input, ({ count, into }) => {
        const body: number[] = [OP.PROTO, 2];
        if (into === 'list') body.push(OP.EMPTY_LIST);
        if (into === 'dict') body.push(OP.EMPTY_DICT);
        body.push(OP.MARK);
        for (let i = 0; i < count; i++) body.push(OP.BININT1, i & 0xff);
        body.push(into === 'list' ? OP.APPENDS : into === 'dict' ? OP.SETITEMS : OP.TUPLE, OP.STOP);
        const pickle = Uint8Array.from(body);
        runCase(() => unpickleRestricted(pickle, { fileName: 'long.pkl', globals: new Map() }), pickle.length);
      }),
      { numRuns: RUNS, seed: 0x7079_0005 },
    );
  });

  it('refuses zip archives whose entries claim sizes far beyond the file, and corrupted real files', () => {
    const seeds = FIXTURES.map((f) => fixtureBytes(f));
    const input = fc.oneof(
      fc
        .tuple(fc.constantFrom(...seeds), fc.nat(), fc.constantFrom(0, 1, 2 ** 24, 2 ** 30, 0x7fffffff, 0xffffffff))
        .map(([zip, which, value]) => withSizeField(zip, which, value)),
      mutatedBytesOf(seeds),
      fc.uint8Array({ maxLength: 256 }).map((rest) => Uint8Array.from([0x50, 0x4b, 0x03, 0x04, ...rest])),
      fc.uint8Array({ maxLength: 64 }),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        const outcome = runCase(() => parsePytorchBin(bytes), bytes.length);
        if (outcome.ok) checkAccepted(outcome.value);
      }),
      { numRuns: RUNS, seed: 0x7079_0006 },
    );
  });

  it('still reads the torch fixtures exactly after the fuzzing (no state left behind)', () => {
    for (const file of FIXTURES) {
      const tensors = parsePytorchBin(fixtureBytes(file), file);
      for (const [name, want] of expectedTensors(file)) expect(bitsOf(tensors.get(name)!.data)).toEqual(want.bits);
    }
  });
});
