import { existsSync, rmSync } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { unpickleRestricted } from './pickle';
import { parsePytorchBin } from './pytorch-bin';
import { parseSafetensors } from './safetensors';
import { bitsOf, expectCode, expectedTensors, fixtureBytes } from './test-fixtures';

/** Assembles pickle bytecode by hand, for inputs torch would never write. */
class PickleBytes {
  private readonly parts: number[] = [];
  op(...bytes: number[]): this {
    this.parts.push(...bytes);
    return this;
  }
  str(text: string): this {
    const utf8 = new TextEncoder().encode(text);
    this.op(0x58, utf8.length & 0xff, (utf8.length >> 8) & 0xff, 0, 0, ...utf8); // BINUNICODE
    return this;
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`)); // GLOBAL
  }
  int(value: number): this {
    if (value < 256) return this.op(0x4b, value); // BININT1
    // LONG1: little-endian two's complement in n bytes (any size, e.g. 2^40).
    const bytes: number[] = [];
    for (let v = BigInt(value); v > 0n; v >>= 8n) bytes.push(Number(v & 0xffn));
    if (bytes[bytes.length - 1] & 0x80) bytes.push(0);
    return this.op(0x8a, bytes.length, ...bytes);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const PROTO2 = [0x80, 2];
const MARK = 0x28;
const TUPLE = 0x74;
const EMPTY_TUPLE = 0x29;
const REDUCE = 0x52;
const BINPERSID = 0x51;
const SETITEM = 0x73;
const STOP = 0x2e;
const NEWFALSE = 0x89;

/** `OrderedDict()` on the stack. */
const orderedDict = (p: PickleBytes) => p.global('collections', 'OrderedDict').op(EMPTY_TUPLE, REDUCE);

/** Pickle of {name: tensor} with one float storage of `numel` elements and the given view. */
function tensorPickle(name: string, numel: number, offset: number, shape: number[], stride: number[]): Uint8Array {
  const p = new PickleBytes().op(...PROTO2);
  orderedDict(p);
  p.str(name).global('torch._utils', '_rebuild_tensor_v2').op(MARK);
  p.op(MARK).str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(numel).op(TUPLE, BINPERSID);
  p.int(offset).op(MARK);
  shape.forEach((d) => p.int(d));
  p.op(TUPLE, MARK);
  stride.forEach((s) => p.int(s));
  p.op(TUPLE, NEWFALSE);
  orderedDict(p);
  p.op(TUPLE, REDUCE, SETITEM, STOP);
  return p.bytes();
}

function torchZip(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}, prefix = 'archive'): Uint8Array {
  const files: Record<string, Uint8Array> = {
    [`${prefix}/data.pkl`]: pickle,
    [`${prefix}/version`]: new TextEncoder().encode('3\n'),
  };
  for (const [key, bytes] of Object.entries(storages)) files[`${prefix}/data/${key}`] = bytes;
  return zipSync(files, { level: 0 });
}

const floats = (...values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

describe('parsePytorchBin on files written by torch.save', () => {
  it('decodes every tensor exactly as torch does: tied weights, storage offsets, transposed views, f16, bf16, int64, 0-d', () => {
    const tensors = parsePytorchBin(fixtureBytes('pytorch_model.bin'));
    const expected = expectedTensors('pytorch_model.bin');
    expect([...tensors.keys()]).toEqual([...expected.keys()]);
    for (const [name, want] of expected) {
      expect(tensors.get(name)!.shape, name).toEqual(want.shape);
      expect(bitsOf(tensors.get(name)!.data), name).toEqual(want.bits);
    }
    // Tied weights come out as equal but independent arrays.
    const word = tensors.get('bert.embeddings.word_embeddings.weight')!.data;
    const decoder = tensors.get('cls.predictions.decoder.weight')!.data;
    expect(decoder).not.toBe(word);
    expect(decoder.buffer).not.toBe(word.buffer);
  });

  it('gives the same float32 tensors as the safetensors export of the same state dict', () => {
    const fromBin = parsePytorchBin(fixtureBytes('pytorch_model.bin'));
    const fromSafetensors = parseSafetensors(fixtureBytes('model_f32.safetensors')).tensors;
    expect(fromSafetensors.size).toBeGreaterThan(5);
    for (const [name, tensor] of fromSafetensors) {
      expect(fromBin.get(name)!.shape).toEqual(tensor.shape);
      expect(bitsOf(fromBin.get(name)!.data)).toEqual(bitsOf(tensor.data));
    }
  });

  it('unwraps nn.Parameter (torch._utils._rebuild_parameter)', () => {
    const tensors = parsePytorchBin(fixtureBytes('parameter.bin'), 'parameter.bin');
    expect(bitsOf(tensors.get('w')!.data)).toEqual(expectedTensors('parameter.bin').get('w')!.bits);
  });

  it('reads a real Module.state_dict() saved with pickle protocol 4 (BUILD of _metadata, FRAME, MEMOIZE, STACK_GLOBAL)', () => {
    const tensors = parsePytorchBin(fixtureBytes('module_state_protocol4.bin'));
    const expected = expectedTensors('module_state_protocol4.bin');
    expect([...tensors.keys()]).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    for (const [name, want] of expected) expect(bitsOf(tensors.get(name)!.data)).toEqual(want.bits);
  });
});

describe('parsePytorchBin refuses to execute anything', () => {
  it('rejects a torch.save pickle whose __reduce__ would call os.system, before any call', () => {
    rmSync('/tmp/fewshot-pwned', { force: true });
    const error = expectCode(
      () => parsePytorchBin(fixtureBytes('malicious_system.bin'), 'evil.bin'),
      'PICKLE_FORBIDDEN',
      'evil.bin',
      'posix.system',
      'nothing from the file was executed',
    );
    expect(error.message).toContain('archive/data.pkl');
    expect(existsSync('/tmp/fewshot-pwned')).toBe(false);
  });

  it('rejects builtins.eval reached through STACK_GLOBAL (protocol 4), in an archive with another prefix', () => {
    expectCode(
      () => parsePytorchBin(fixtureBytes('malicious_eval.bin')),
      'PICKLE_FORBIDDEN',
      'builtins.eval',
      'evil_model/data.pkl',
    );
  });

  it('rejects opcodes outside the allow-list, naming them', () => {
    // INST 'os system' would create an object by calling a class; NEWOBJ likewise.
    const inst = new PickleBytes()
      .op(...PROTO2, MARK, 0x69)
      .op(...new TextEncoder().encode('os\nsystem\n'))
      .op(STOP)
      .bytes();
    expectCode(() => parsePytorchBin(torchZip(inst)), 'PICKLE_FORBIDDEN', 'INST');
    expectCode(() => parsePytorchBin(torchZip(Uint8Array.from([...PROTO2, 0xfe, STOP]))), 'PICKLE_FORBIDDEN', '0xfe');
  });

  it('rejects calling a global that may only be referenced, and calling a non-global', () => {
    const callStorage = new PickleBytes()
      .op(...PROTO2)
      .global('torch', 'FloatStorage')
      .op(EMPTY_TUPLE, REDUCE, STOP)
      .bytes();
    expectCode(() => parsePytorchBin(torchZip(callStorage)), 'PICKLE_FORBIDDEN', 'torch.FloatStorage');
    const callString = new PickleBytes()
      .op(...PROTO2)
      .str('os.system')
      .op(EMPTY_TUPLE, REDUCE, STOP)
      .bytes();
    expectCode(() => parsePytorchBin(torchZip(callString)), 'PICKLE_FORBIDDEN', 'REDUCE');
  });

  it('rejects BUILD on anything but a dict, and OrderedDict with arguments', () => {
    const build = new PickleBytes().op(...PROTO2, EMPTY_TUPLE, 0x7d, 0x62, STOP).bytes(); // () {} BUILD
    expectCode(() => parsePytorchBin(torchZip(build)), 'PICKLE_FORBIDDEN', 'BUILD');
    const withArgs = new PickleBytes()
      .op(...PROTO2)
      .global('collections', 'OrderedDict')
      .op(MARK)
      .int(1)
      .op(TUPLE, REDUCE, STOP)
      .bytes();
    expectCode(() => parsePytorchBin(torchZip(withArgs)), 'PICKLE_FORBIDDEN', 'OrderedDict');
  });

  it('interprets without side effects when called directly with an empty allow-list', () => {
    const p = new PickleBytes()
      .op(...PROTO2)
      .global('collections', 'OrderedDict')
      .op(STOP)
      .bytes();
    expectCode(
      () => unpickleRestricted(p, { fileName: 'x.pkl', globals: new Map() }),
      'PICKLE_FORBIDDEN',
      'collections.OrderedDict',
    );
  });
});

describe('parsePytorchBin structure checks', () => {
  it('reads a hand-built checkpoint with a strided view', () => {
    // Storage [0..5] viewed as the transpose of a 2×3 matrix: shape [3, 2], stride [1, 3].
    const bytes = torchZip(tensorPickle('t', 6, 0, [3, 2], [1, 3]), { '0': floats(0, 1, 2, 3, 4, 5) });
    const t = parsePytorchBin(bytes).get('t')!;
    expect(t.shape).toEqual([3, 2]);
    expect(Array.from(t.data)).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('rejects a view that reaches past its storage', () => {
    const bytes = torchZip(tensorPickle('t', 4, 2, [3], [1]), { '0': floats(0, 1, 2, 3) });
    expectCode(() => parsePytorchBin(bytes, 'm.bin'), 'PYTORCH_BIN_BAD_TENSOR', 'm.bin', '"t"');
  });

  it('rejects a missing or short storage entry', () => {
    expectCode(
      () => parsePytorchBin(torchZip(tensorPickle('t', 4, 0, [4], [1]))),
      'PYTORCH_BIN_MISSING_STORAGE',
      '"t"',
      'archive/data/0',
    );
    expectCode(
      () => parsePytorchBin(torchZip(tensorPickle('t', 4, 0, [4], [1]), { '0': floats(1, 2) })),
      'PYTORCH_BIN_MISSING_STORAGE',
      '8 bytes',
    );
  });

  it('rejects a truncated pickle, non-zip input, the legacy format and a zip without data.pkl', () => {
    const full = tensorPickle('t', 1, 0, [1], [1]);
    expectCode(
      () => parsePytorchBin(torchZip(full.subarray(0, full.length - 5), { '0': floats(1) })),
      'PICKLE_MALFORMED',
    );
    expectCode(() => parsePytorchBin(new TextEncoder().encode('hello world')), 'PYTORCH_BIN_NOT_ZIP');
    expectCode(() => parsePytorchBin(Uint8Array.from([0x80, 0x02, 0x8a, 0x0a])), 'PYTORCH_BIN_LEGACY_FORMAT');
    expectCode(() => parsePytorchBin(zipSync({ 'x/other.txt': new Uint8Array(1) })), 'PYTORCH_BIN_BAD_ZIP', 'data.pkl');
    const truncatedZip = fixtureBytes('pytorch_model.bin').subarray(0, 1000);
    expectCode(() => parsePytorchBin(truncatedZip), 'PYTORCH_BIN_BAD_ZIP');
  });

  it('rejects a pickle that is not a dict of tensors, naming the entry', () => {
    const p = new PickleBytes()
      .op(...PROTO2, 0x7d)
      .str('epoch')
      .int(3)
      .op(SETITEM, STOP)
      .bytes();
    expectCode(() => parsePytorchBin(torchZip(p)), 'PYTORCH_BIN_NOT_STATE_DICT', '"epoch"');
    const list = new PickleBytes().op(...PROTO2, 0x5d, STOP).bytes();
    expectCode(() => parsePytorchBin(torchZip(list)), 'PYTORCH_BIN_NOT_STATE_DICT');
  });

  it('rejects storage keys that could escape the archive folder', () => {
    const p = new PickleBytes()
      .op(...PROTO2, MARK)
      .str('storage')
      .global('torch', 'FloatStorage')
      .str('../x')
      .str('cpu')
      .int(1)
      .op(TUPLE, BINPERSID, STOP)
      .bytes();
    expectCode(() => parsePytorchBin(torchZip(p)), 'PICKLE_MALFORMED', 'storage key');
  });
});

describe('parsePytorchBin keeps memory bounded by the file (hostile sizes)', () => {
  it('refuses a stride-0 view of one element that claims gigabytes, before allocating it', () => {
    const bomb = torchZip(tensorPickle('w', 1, 0, [30_000, 30_000], [0, 0]), { 0: floats(1) });
    expect(bomb.byteLength).toBeLessThan(2_000);
    expectCode(() => parsePytorchBin(bomb), 'PYTORCH_BIN_TOO_LARGE', 'shape [30000, 30000]', '900000000 elements');
  });

  it('refuses a 2^40-element shape with a clear error, not a RangeError', () => {
    const huge = torchZip(tensorPickle('w', 1, 0, [2 ** 20, 2 ** 20], [0, 0]), { 0: floats(1) });
    expectCode(() => parsePytorchBin(huge), 'PYTORCH_BIN_TOO_LARGE', `${2 ** 40} elements`);
  });

  it('refuses storages that declare far more data than the file holds, before inflating them', () => {
    // 64 MiB of zeros deflates to ~64 KiB: a zip bomb behind a storage the pickle does use.
    const zeros = new Uint8Array(64 << 20);
    const files = {
      'archive/data.pkl': tensorPickle('w', 16 << 20, 0, [16 << 20], [1]),
      'archive/data/0': zeros,
    };
    const bomb = zipSync(files, { level: 9 });
    expect(bomb.byteLength).toBeLessThan(1 << 20);
    expectCode(() => parsePytorchBin(bomb), 'PYTORCH_BIN_TOO_LARGE', 'declare');
  });

  it('never inflates zip entries the pickle does not reference', () => {
    // An unreferenced entry whose deflate stream is invalid (a reserved block type): inflating it
    // throws, so a successful parse shows it was never touched.
    const files = {
      'archive/data.pkl': tensorPickle('w', 2, 0, [2], [1]),
      'archive/data/0': floats(1, 2),
      'archive/data/99': new Uint8Array(4096).fill(3),
    };
    const zip = withBrokenDeflate(zipSync(files, { level: 6 }), 'archive/data/99');
    expect(() => unzipSync(zip)).toThrow(/invalid block type/);
    const tensors = parsePytorchBin(zip);
    expect(Array.from(tensors.get('w')!.data)).toEqual([1, 2]);
  });
});

/** Makes the deflate stream of zip entry `name` start with a reserved block type (BFINAL 1, BTYPE 11). */
function withBrokenDeflate(zip: Uint8Array, name: string): Uint8Array {
  const out = zip.slice();
  const view = new DataView(out.buffer);
  const nameBytes = new TextEncoder().encode(name);
  for (let at = 0; at + 30 < out.length; at++) {
    if (view.getUint32(at, true) !== 0x04034b50) continue;
    const nameLength = view.getUint16(at + 26, true);
    const extraLength = view.getUint16(at + 28, true);
    if (nameLength === nameBytes.length && nameBytes.every((b, i) => out[at + 30 + i] === b)) {
      out[at + 30 + nameLength + extraLength] = 0x07;
      return out;
    }
  }
  throw new Error(`no entry ${name}`);
}
