/**
 * A restricted pickle interpreter.
 *
 * Python's pickle is a small stack machine whose GLOBAL + REDUCE opcodes can call any importable function, which
 * is why `torch.load` on an untrusted file can run arbitrary code. This interpreter understands only the opcodes that
 * `torch.save` emits for a state dict, resolves GLOBAL only against a caller-supplied allow-list, and "calls" an
 * allow-listed global by running the caller's TypeScript re-implementation of it. Any other opcode or global stops
 * the interpretation with `PICKLE_FORBIDDEN` before anything happens: nothing in the file is ever executed.
 *
 * Values: str → string, int → number, bool → boolean, None → null, tuple → PickleTuple, list → unknown[],
 * dict / OrderedDict → Map.
 */
import { EngineError } from '../errors';

/** A Python tuple (kept distinct from lists so that callers can check argument shapes). */
export class PickleTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** A resolved, allow-listed global such as `torch._utils._rebuild_tensor_v2`. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    /** TS stand-in invoked by REDUCE; absent for globals that may only be referenced (e.g. storage classes). */
    readonly call?: (args: readonly unknown[]) => unknown,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

export interface AllowedGlobal {
  /** Called by REDUCE with the argument tuple's items; omit to allow only referencing the global. */
  call?: (args: readonly unknown[]) => unknown;
}

export interface UnpickleOptions {
  /** File name for error messages, e.g. `pytorch_model.bin (archive/data.pkl)`. */
  fileName: string;
  /** Allowed globals keyed by `"module name"` exactly as GLOBAL writes them (e.g. `"collections OrderedDict"`). */
  globals: ReadonlyMap<string, AllowedGlobal>;
  /** Resolves BINPERSID ids (torch uses them for storages); when absent, BINPERSID is forbidden. */
  persistentLoad?: (pid: unknown) => unknown;
}

/** Marker pushed by MARK; never escapes the interpreter. */
const MARK = Symbol('pickle-mark');

/** Opcode bytes this interpreter implements, named as in CPython's pickletools. */
const OP = {
  PROTO: 0x80,
  FRAME: 0x95,
  STOP: 0x2e, // '.'
  MARK: 0x28, // '('
  EMPTY_DICT: 0x7d, // '}'
  EMPTY_LIST: 0x5d, // ']'
  EMPTY_TUPLE: 0x29, // ')'
  TUPLE: 0x74, // 't'
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  BINUNICODE: 0x58, // 'X'
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BININT: 0x4a, // 'J'
  BININT1: 0x4b, // 'K'
  BININT2: 0x4d, // 'M'
  LONG1: 0x8a,
  BINFLOAT: 0x47, // 'G'
  NONE: 0x4e, // 'N'
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  BINPUT: 0x71, // 'q'
  LONG_BINPUT: 0x72, // 'r'
  MEMOIZE: 0x94,
  BINGET: 0x68, // 'h'
  LONG_BINGET: 0x6a, // 'j'
  SETITEM: 0x73, // 's'
  SETITEMS: 0x75, // 'u'
  APPEND: 0x61, // 'a'
  APPENDS: 0x65, // 'e'
  GLOBAL: 0x63, // 'c'
  STACK_GLOBAL: 0x93,
  BINPERSID: 0x51, // 'Q'
  REDUCE: 0x52, // 'R'
  BUILD: 0x62, // 'b'
} as const;

const OPCODE_NAMES = new Map<number, string>(Object.entries(OP).map(([name, code]) => [code, name]));

/** Well-known dangerous or unsupported opcodes, named in errors so that the user sees what the file tried. */
const KNOWN_FORBIDDEN_OPCODES: Record<number, string> = {
  0x69: 'INST',
  0x6f: 'OBJ',
  0x81: 'NEWOBJ',
  0x92: 'NEWOBJ_EX',
  0x50: 'PERSID',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES',
  0x8e: 'BINBYTES8',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x56: 'UNICODE',
  0x49: 'INT',
  0x4c: 'LONG',
  0x46: 'FLOAT',
};

/** Interprets `bytes` as a pickle under the restrictions above and returns the value STOP leaves on the stack. */
export function unpickleRestricted(bytes: Uint8Array, options: UnpickleOptions): unknown {
  const { fileName } = options;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opcodeStart = 0;

  const malformed = (what: string): never => {
    throw new EngineError(
      'PICKLE_MALFORMED',
      `${fileName}: the pickle is malformed at byte ${opcodeStart} (${what}). The file is corrupt or truncated; download it again.`,
    );
  };
  const forbidden = (what: string): never => {
    throw new EngineError(
      'PICKLE_FORBIDDEN',
      `${fileName}: refused ${what} at byte ${opcodeStart}. Only the operations that rebuild a PyTorch state dict of tensors are allowed; nothing from the file was executed. The file may be malicious or may not be a plain state dict — prefer model.safetensors.`,
    );
  };
  const need = (count: number): number => {
    if (pos + count > bytes.byteLength) malformed(`needs ${count} more bytes but the pickle ends`);
    const start = pos;
    pos += count;
    return start;
  };
  const pop = (): unknown => {
    if (stack.length === 0) malformed('stack underflow');
    const value = stack.pop();
    if (value === MARK) malformed('unexpected MARK');
    return value;
  };
  const top = (): unknown => {
    if (stack.length === 0 || stack[stack.length - 1] === MARK) malformed('stack underflow');
    return stack[stack.length - 1];
  };
  const popToMark = (): unknown[] => {
    const markIndex = stack.lastIndexOf(MARK);
    if (markIndex < 0) malformed('no MARK on the stack');
    const items = stack.slice(markIndex + 1);
    stack.length = markIndex;
    return items;
  };
  const readUtf8 = (length: number): string => {
    const start = need(length);
    try {
      return utf8.decode(bytes.subarray(start, start + length));
    } catch {
      return malformed('string is not valid UTF-8');
    }
  };
  const readLine = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    // Module and attribute names are short; a missing or far-away newline means a corrupt stream.
    if (end < 0 || end - pos > 512) malformed('GLOBAL name is not a short newline-terminated line');
    const line = String.fromCharCode(...bytes.subarray(pos, end));
    pos = end + 1;
    return line;
  };
  const resolveGlobal = (module: string, name: string): PickleGlobal => {
    const allowed = options.globals.get(`${module} ${name}`);
    if (allowed === undefined) return forbidden(`global "${module}.${name}"`);
    return new PickleGlobal(module, name, allowed.call);
  };
  const memoPut = (index: number) => memo.set(index, top());
  const memoGet = (index: number) => {
    if (!memo.has(index)) malformed(`memo entry ${index} was never stored`);
    stack.push(memo.get(index));
  };

  while (true) {
    opcodeStart = pos;
    const opcode = bytes[need(1)];
    switch (opcode) {
      case OP.PROTO: {
        const protocol = bytes[need(1)];
        if (protocol < 2 || protocol > 5) malformed(`unsupported pickle protocol ${protocol}`);
        break;
      }
      case OP.FRAME:
        need(8); // frame length: a hint for buffered readers; the whole pickle is already in memory
        break;
      case OP.STOP: {
        const result = pop();
        if (stack.length !== 0) malformed('values left on the stack at STOP');
        return result;
      }
      case OP.MARK:
        stack.push(MARK);
        break;
      case OP.EMPTY_DICT:
        stack.push(new Map());
        break;
      case OP.EMPTY_LIST:
        stack.push([]);
        break;
      case OP.EMPTY_TUPLE:
        stack.push(new PickleTuple([]));
        break;
      case OP.TUPLE:
        stack.push(new PickleTuple(popToMark()));
        break;
      case OP.TUPLE1:
      case OP.TUPLE2:
      case OP.TUPLE3: {
        const count = opcode - OP.TUPLE1 + 1;
        const items: unknown[] = [];
        for (let i = 0; i < count; i++) items.unshift(pop());
        stack.push(new PickleTuple(items));
        break;
      }
      case OP.BINUNICODE:
        stack.push(readUtf8(view.getUint32(need(4), true)));
        break;
      case OP.SHORT_BINUNICODE:
        stack.push(readUtf8(bytes[need(1)]));
        break;
      case OP.BINUNICODE8: {
        const length = view.getBigUint64(need(8), true);
        if (length > BigInt(bytes.byteLength)) malformed('string longer than the pickle');
        stack.push(readUtf8(Number(length)));
        break;
      }
      case OP.BININT:
        stack.push(view.getInt32(need(4), true));
        break;
      case OP.BININT1:
        stack.push(bytes[need(1)]);
        break;
      case OP.BININT2:
        stack.push(view.getUint16(need(2), true));
        break;
      case OP.LONG1: {
        const length = bytes[need(1)];
        const start = need(length);
        // Little-endian two's complement of `length` bytes.
        let value = 0n;
        for (let i = length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[start + i]);
        if (length > 0 && bytes[start + length - 1] & 0x80) value -= 1n << BigInt(8 * length);
        if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER))
          malformed('integer too large');
        stack.push(Number(value));
        break;
      }
      case OP.BINFLOAT:
        stack.push(view.getFloat64(need(8), false)); // BINFLOAT is big-endian
        break;
      case OP.NONE:
        stack.push(null);
        break;
      case OP.NEWTRUE:
        stack.push(true);
        break;
      case OP.NEWFALSE:
        stack.push(false);
        break;
      case OP.BINPUT:
        memoPut(bytes[need(1)]);
        break;
      case OP.LONG_BINPUT:
        memoPut(view.getUint32(need(4), true));
        break;
      case OP.MEMOIZE:
        memoPut(memo.size);
        break;
      case OP.BINGET:
        memoGet(bytes[need(1)]);
        break;
      case OP.LONG_BINGET:
        memoGet(view.getUint32(need(4), true));
        break;
      case OP.SETITEM: {
        const value = pop();
        const key = pop();
        const dict = top();
        if (!(dict instanceof Map)) malformed('SETITEM on something that is not a dict');
        (dict as Map<unknown, unknown>).set(key, value);
        break;
      }
      case OP.SETITEMS: {
        const items = popToMark();
        const dict = top();
        if (!(dict instanceof Map) || items.length % 2 !== 0) malformed('SETITEMS on something that is not a dict');
        for (let i = 0; i < items.length; i += 2) (dict as Map<unknown, unknown>).set(items[i], items[i + 1]);
        break;
      }
      case OP.APPEND: {
        const value = pop();
        const list = top();
        if (!Array.isArray(list)) malformed('APPEND on something that is not a list');
        (list as unknown[]).push(value);
        break;
      }
      case OP.APPENDS: {
        const items = popToMark();
        const list = top();
        if (!Array.isArray(list)) malformed('APPENDS on something that is not a list');
        // One push per item: spreading a long MARK group into push() overflows the call stack.
        for (const item of items) (list as unknown[]).push(item);
        break;
      }
      case OP.GLOBAL: {
        const module = readLine();
        const name = readLine();
        stack.push(resolveGlobal(module, name));
        break;
      }
      case OP.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') malformed('STACK_GLOBAL needs two strings');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case OP.BINPERSID: {
        const pid = pop();
        if (options.persistentLoad === undefined) forbidden('persistent id (BINPERSID)');
        stack.push(options.persistentLoad!(pid));
        break;
      }
      case OP.REDUCE: {
        const args = pop();
        const callable = pop();
        if (!(callable instanceof PickleGlobal))
          return forbidden('a call (REDUCE) of something that is not an allow-listed function');
        if (callable.call === undefined)
          return forbidden(`a call (REDUCE) of "${callable.qualifiedName}", which may only be referenced`);
        if (!(args instanceof PickleTuple))
          return malformed(`arguments of "${callable.qualifiedName}" are not a tuple`);
        stack.push(callable.call(args.items));
        break;
      }
      case OP.BUILD: {
        // BUILD calls __setstate__ or updates __dict__ in Python. The only use in a state dict is the `_metadata`
        // attribute torch attaches to the OrderedDict, which carries nothing we need, so for dicts it is ignored.
        pop();
        const target = top();
        if (!(target instanceof Map)) forbidden('BUILD (object state restore) on something other than a dict');
        break;
      }
      default: {
        const name = KNOWN_FORBIDDEN_OPCODES[opcode] ?? OPCODE_NAMES.get(opcode) ?? 'unknown';
        forbidden(`opcode ${name} (0x${opcode.toString(16).padStart(2, '0')})`);
      }
    }
  }
}
