/**
 * `pytorch_model.bin` reader (torch.save's zip format, PyTorch ≥ 1.6).
 *
 * The zip holds `<prefix>/data.pkl` (a pickle of the state dict in which every tensor refers to a storage by key)
 * and `<prefix>/data/<key>` (each storage's raw little-endian bytes). `<prefix>` is whatever name torch chose,
 * usually the file's stem or `archive`. The pickle is interpreted by the restricted unpickler with the small set of
 * torch globals below, each re-implemented here; nothing in the file is executed.
 */
import { unzipSync } from 'fflate';
import { DTYPE_BYTES, decodeToFloat32, type SafetensorsDtype } from './dtypes';
import { PickleGlobal, PickleTuple, unpickleRestricted, type AllowedGlobal } from './pickle';
import { type TensorMap } from './types';
import { EngineError } from '../errors';

/** File name used in error messages when the caller does not pass one. */
const DEFAULT_FILE_NAME = 'pytorch_model.bin';

/** Legacy typed storage classes torch pickles by name, mapped to the element type of their bytes. */
const STORAGE_DTYPES: Readonly<Record<string, SafetensorsDtype>> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** Decoded data may be at most this many times the file's size (see the budget in parsePytorchBin). */
const MAX_EXPANSION = 4;
/** ... plus this much, so tiny test checkpoints with small views still load. */
const BUDGET_SLACK_BYTES = 1 << 20;

/** A storage reference produced by BINPERSID: which zip entry holds the bytes, and their type. */
interface StorageRef {
  readonly kind: 'storage';
  readonly dtype: SafetensorsDtype;
  readonly key: string;
  /** Number of elements in the storage. */
  readonly numel: number;
}

/** What `_rebuild_tensor_v2` returns: a strided view into a storage. */
interface TensorRef {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly offset: number;
  readonly shape: number[];
  readonly stride: number[];
}

function isStorageRef(value: unknown): value is StorageRef {
  return typeof value === 'object' && value !== null && (value as StorageRef).kind === 'storage';
}
function isTensorRef(value: unknown): value is TensorRef {
  return typeof value === 'object' && value !== null && (value as TensorRef).kind === 'tensor';
}

/** Parses a torch.save zip of a state dict into float32 tensors, in the dict's order. */
export function parsePytorchBin(bytes: Uint8Array, fileName: string = DEFAULT_FILE_NAME): TensorMap {
  const fail = (code: string, what: string): never => {
    throw new EngineError(code, `${fileName}: ${what}`);
  };
  const isZip =
    bytes.byteLength >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  if (!isZip) {
    if (bytes.byteLength > 0 && bytes[0] === 0x80) {
      fail(
        'PYTORCH_BIN_LEGACY_FORMAT',
        'this is the legacy (pre-1.6) torch.save format, which is not supported. Re-save it with a recent PyTorch, or convert it to model.safetensors.',
      );
    }
    fail(
      'PYTORCH_BIN_NOT_ZIP',
      'not a torch.save zip archive (wrong signature). The file is corrupt or not a PyTorch checkpoint; download it again.',
    );
  }

  // Decoded float32 data may be at most this big: a state dict's storages are stored (not deflated)
  // and at worst half-precision, so a real checkpoint needs about 2x its file size. Zip bombs and
  // views that claim far more are refused before anything that big is allocated.
  let budget = MAX_EXPANSION * bytes.byteLength + BUDGET_SLACK_BYTES;
  const overBudget = (what: string): never =>
    fail(
      'PYTORCH_BIN_TOO_LARGE',
      `${what}, far more than a ${bytes.byteLength}-byte checkpoint can hold (at most ${budget} bytes would be plausible). The file is corrupt or malicious; use model.safetensors from the model's source.`,
    );
  const unzip = (keep: (name: string) => boolean): Record<string, Uint8Array> => {
    try {
      return unzipSync(bytes, {
        filter: (file) => {
          if (!keep(file.name)) return false;
          if (file.originalSize > budget) overBudget(`zip entry ${file.name} inflates to ${file.originalSize} bytes`);
          return true;
        },
      });
    } catch (error) {
      if (error instanceof EngineError) throw error;
      return fail(
        'PYTORCH_BIN_BAD_ZIP',
        `the zip archive cannot be read (${(error as Error).message}). The file is corrupt or truncated; download it again.`,
      );
    }
  };
  // First only the pickle (and byte order): storages are inflated once the pickle says which it uses.
  const entries = unzip((name) => /^[^/]+\/(data\.pkl|byteorder)$/.test(name));
  const pickleNames = Object.keys(entries).filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickleNames.length !== 1) {
    fail(
      'PYTORCH_BIN_BAD_ZIP',
      pickleNames.length === 0
        ? 'the archive has no <folder>/data.pkl, so it is not a torch.save checkpoint.'
        : `the archive has ${pickleNames.length} data.pkl files (${pickleNames.join(', ')}); expected one.`,
    );
  }
  const prefix = pickleNames[0].slice(0, -'/data.pkl'.length);
  const byteOrder = entries[`${prefix}/byteorder`];
  if (byteOrder !== undefined && new TextDecoder().decode(byteOrder).trim() !== 'little') {
    fail(
      'PYTORCH_BIN_BIG_ENDIAN',
      'the checkpoint was saved on a big-endian machine, which is not supported. Convert it to model.safetensors.',
    );
  }

  const where = `${fileName} (${prefix}/data.pkl)`;
  const stateDict = unpickleRestricted(entries[pickleNames[0]], {
    fileName: where,
    globals: torchGlobals(where),
    persistentLoad: (pid) => storageFromPersistentId(pid, where),
  });
  if (!(stateDict instanceof Map)) {
    fail(
      'PYTORCH_BIN_NOT_STATE_DICT',
      'the pickle does not hold a dict of tensors (a state dict). Save `model.state_dict()` rather than the model or a training checkpoint.',
    );
  }

  // Inflate only the storages the state dict references, each within the budget.
  const referenced = new Set<string>();
  let declared = 0;
  for (const value of (stateDict as Map<unknown, unknown>).values()) {
    if (!isTensorRef(value) || referenced.has(value.storage.key)) continue;
    referenced.add(value.storage.key);
    declared += value.storage.numel * 4;
  }
  if (declared > budget) overBudget(`its storages declare ${declared} bytes of float32 data`);
  Object.assign(
    entries,
    unzip((name) => name.startsWith(`${prefix}/data/`) && referenced.has(name.slice(prefix.length + 6))),
  );
  budget -= declared;

  const decodedStorages = new Map<string, Float32Array>();
  const tensors: TensorMap = new Map();
  for (const [name, value] of stateDict as Map<unknown, unknown>) {
    if (typeof name !== 'string')
      fail('PYTORCH_BIN_NOT_STATE_DICT', `a key of the state dict is a ${typeof name}, not a tensor name.`);
    if (!isTensorRef(value)) {
      fail(
        'PYTORCH_BIN_NOT_STATE_DICT',
        `entry "${String(name)}" is not a tensor (${describe(value)}). Save a plain state dict of tensors.`,
      );
    }
    const tensor = value as TensorRef;
    let storage = decodedStorages.get(tensor.storage.key);
    if (storage === undefined) {
      const raw = entries[`${prefix}/data/${tensor.storage.key}`];
      if (raw === undefined)
        fail(
          'PYTORCH_BIN_MISSING_STORAGE',
          `tensor "${name}" needs storage "${prefix}/data/${tensor.storage.key}", which is not in the archive. The file is truncated or corrupt.`,
        );
      const needed = tensor.storage.numel * DTYPE_BYTES[tensor.storage.dtype];
      if (raw.byteLength < needed) {
        fail(
          'PYTORCH_BIN_MISSING_STORAGE',
          `storage "${tensor.storage.key}" (tensor "${name}") has ${raw.byteLength} bytes but ${tensor.storage.numel} ${tensor.storage.dtype} elements need ${needed}. The file is truncated or corrupt.`,
        );
      }
      // Decoded once even when several tensors share it (tied weights, views).
      storage = decodeToFloat32(raw, tensor.storage.dtype, tensor.storage.numel);
      decodedStorages.set(tensor.storage.key, storage);
    }
    // A view is copied out of its storage: its own size counts against the budget (a stride-0 view of
    // one element could otherwise claim gigabytes).
    const count = tensor.shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(count) || count * 4 > budget + storage.length * 4) {
      overBudget(`tensor "${name}" has shape [${tensor.shape.join(', ')}] (${count} elements)`);
    }
    const data = materialise(tensor, storage, name as string, fileName);
    if (data.buffer !== storage.buffer) budget -= data.byteLength;
    tensors.set(name as string, { name: name as string, shape: tensor.shape, data });
  }
  return tensors;
}

/**
 * Copies a strided view out of its storage into a fresh row-major array, so that tensors sharing a storage (tied
 * weights) never alias each other. Transposed and otherwise non-contiguous views are gathered element by element.
 */
function materialise(tensor: TensorRef, storage: Float32Array, name: string, fileName: string): Float32Array {
  const { shape, stride, offset } = tensor;
  const count = shape.reduce((a, b) => a * b, 1);
  if (count === 0) return new Float32Array(0);
  // The farthest element the view touches must lie inside the storage.
  const lastIndex = offset + shape.reduce((sum, dim, axis) => sum + (dim - 1) * stride[axis], 0);
  if (lastIndex >= storage.length) {
    throw new EngineError(
      'PYTORCH_BIN_BAD_TENSOR',
      `${fileName}: tensor "${name}" (shape [${shape.join(', ')}], stride [${stride.join(', ')}], offset ${offset}) reaches element ${lastIndex} of a storage with ${storage.length} elements. The file is corrupt.`,
    );
  }
  let contiguous = true;
  for (let axis = shape.length - 1, expected = 1; axis >= 0; axis--) {
    // Strides of size-1 axes are irrelevant to the layout (torch leaves arbitrary values there).
    if (shape[axis] !== 1 && stride[axis] !== expected) contiguous = false;
    expected *= shape[axis];
  }
  if (contiguous) return storage.slice(offset, offset + count);

  const out = new Float32Array(count);
  const index = new Array<number>(shape.length).fill(0);
  let source = offset;
  for (let i = 0; i < count; i++) {
    out[i] = storage[source];
    // Advance the multi-index like an odometer, updating the storage position incrementally.
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index[axis]++;
      source += stride[axis];
      if (index[axis] < shape[axis]) break;
      source -= stride[axis] * shape[axis];
      index[axis] = 0;
    }
  }
  return out;
}

function describe(value: unknown): string {
  if (value instanceof Map) return 'a nested dict';
  if (value instanceof PickleTuple) return 'a tuple';
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'None';
  return `a ${typeof value}`;
}

/** Validates torch's storage persistent id `('storage', StorageClass, key, location, numel)`. */
function storageFromPersistentId(pid: unknown, where: string): StorageRef {
  const bad = (what: string): never => {
    throw new EngineError(
      'PICKLE_MALFORMED',
      `${where}: bad storage reference (${what}). The file is corrupt or not a torch.save checkpoint.`,
    );
  };
  if (!(pid instanceof PickleTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage')
    return bad('expected a 5-tuple starting with "storage"');
  const [, storageClass, key, , numel] = pid.items;
  if (
    !(storageClass instanceof PickleGlobal) ||
    storageClass.module !== 'torch' ||
    !(storageClass.name in STORAGE_DTYPES)
  ) {
    return bad('unknown storage type');
  }
  // Keys are small integers written by torch; anything else could try to escape the archive folder.
  if (typeof key !== 'string' || !/^[A-Za-z0-9_]+$/.test(key)) return bad(`storage key ${JSON.stringify(key)}`);
  if (!Number.isSafeInteger(numel) || (numel as number) < 0) return bad('element count');
  return { kind: 'storage', dtype: STORAGE_DTYPES[storageClass.name], key, numel: numel as number };
}

function intTuple(value: unknown, what: string, where: string): number[] {
  if (!(value instanceof PickleTuple) || !value.items.every((v) => Number.isSafeInteger(v) && (v as number) >= 0)) {
    throw new EngineError('PICKLE_MALFORMED', `${where}: ${what} of a tensor is not a tuple of non-negative integers.`);
  }
  return value.items as number[];
}

/** The allow-list: exactly the globals torch.save writes for a state dict, each with a TS stand-in. */
function torchGlobals(where: string): Map<string, AllowedGlobal> {
  const rebuildTensor = (args: readonly unknown[]): TensorRef => {
    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    const [storage, offset, size, stride] = args;
    if (args.length < 6 || !isStorageRef(storage) || !Number.isSafeInteger(offset) || (offset as number) < 0) {
      throw new EngineError('PICKLE_MALFORMED', `${where}: _rebuild_tensor_v2 called with unexpected arguments.`);
    }
    const shape = intTuple(size, 'the size', where);
    const strides = intTuple(stride, 'the stride', where);
    if (shape.length !== strides.length)
      throw new EngineError('PICKLE_MALFORMED', `${where}: a tensor's size and stride differ in length.`);
    return { kind: 'tensor', storage, offset: offset as number, shape: [...shape], stride: [...strides] };
  };
  const rebuildParameter = (args: readonly unknown[]): TensorRef => {
    // _rebuild_parameter(data, requires_grad, backward_hooks) / _rebuild_parameter_with_state(..., state):
    // a Parameter is just its data for our purposes.
    if (!isTensorRef(args[0]))
      throw new EngineError('PICKLE_MALFORMED', `${where}: _rebuild_parameter called without a tensor.`);
    return args[0];
  };
  const globals = new Map<string, AllowedGlobal>([
    [
      'collections OrderedDict',
      {
        call: (args) => {
          // torch only ever pickles OrderedDict() with no arguments; contents follow through SETITEMS.
          if (args.length !== 0)
            throw new EngineError(
              'PICKLE_FORBIDDEN',
              `${where}: refused OrderedDict(...) with arguments; nothing from the file was executed.`,
            );
          return new Map();
        },
      },
    ],
    ['torch._utils _rebuild_tensor_v2', { call: rebuildTensor }],
    ['torch._utils _rebuild_parameter', { call: rebuildParameter }],
    ['torch._utils _rebuild_parameter_with_state', { call: rebuildParameter }],
  ]);
  // Storage classes may be referenced inside persistent ids but never called.
  for (const storageClass of Object.keys(STORAGE_DTYPES)) globals.set(`torch ${storageClass}`, {});
  return globals;
}
