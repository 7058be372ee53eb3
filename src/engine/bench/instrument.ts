/**
 * Counting instrumentation for benchmarks (docs/ARCHITECTURE.md, "Performance": count, don't guess). While a `Counters`
 * object is installed it wraps a few methods of the active tfjs backend, of the tfjs engine and (on
 * webgpu) of the WebGPU API prototypes, and counts what the training path does. `uninstall()`
 * puts every original method back. Counting can be paused (e.g. around the benchmark's own sync
 * readback) without uninstalling.
 *
 * What each count means, per backend:
 *
 * | count          | webgpu                                                      | wasm / cpu                                              |
 * |----------------|-------------------------------------------------------------|---------------------------------------------------------|
 * | kernels        | tfjs kernels run through the engine (`engine.runKernel`), forward and backward, all backends alike                                   |||
 * | dispatches     | `GPUComputePassEncoder.dispatchWorkgroups` calls (GPU compute dispatches) | = kernels (each kernel is one call into wasm / JS)     |
 * | submits        | `GPUQueue.submit` calls (command buffers handed to the GPU) | 0                                                       |
 * | readbacks      | GPU→CPU reads: `GPUBuffer.mapAsync(READ)` + `readSync` of a tensor whose data is only on the GPU (anywhere, kernels included) | `backend.read`/`readSync` calls made outside kernels (data handed back to JS) |
 * | kernelHostReads| 0                                                           | `readSync` calls made inside kernels (host copies, e.g. our wasm UnsortedSegmentSum reads its inputs) |
 * | uploads        | CPU→GPU tensor uploads: `uploadToGPU` of a tensor whose values are on the CPU (inputs, scalars, JS-generated random masks) | `backend.write` with values, outside kernels (tensors created from JS arrays) |
 * | uniformWrites  | `GPUQueue.writeBuffer` calls (tfjs writes one uniform buffer per dispatch) | 0                                            |
 * | bufferCreates  | `GPUDevice.createBuffer` calls (new GPU allocations; the pool missed) | 0                                            |
 *
 * Bytes are counted alongside uploads, uniform writes and readbacks. Output shapes of every kernel
 * are collected (`dtype[d0,d1,…]`), so a benchmark can report how many distinct shapes a step uses.
 *
 * Engine-only (no DOM): the WebGPU classes are read from `globalThis`, which a dedicated worker has.
 */
import * as tf from '@tensorflow/tfjs';

export interface CountSnapshot {
  kernels: number;
  dispatches: number;
  submits: number;
  readbacks: number;
  readbackBytes: number;
  kernelHostReads: number;
  uploads: number;
  uploadBytes: number;
  uniformWrites: number;
  uniformBytes: number;
  bufferCreates: number;
  bufferCreateBytes: number;
}

export function emptyCounts(): CountSnapshot {
  return {
    kernels: 0,
    dispatches: 0,
    submits: 0,
    readbacks: 0,
    readbackBytes: 0,
    kernelHostReads: 0,
    uploads: 0,
    uploadBytes: 0,
    uniformWrites: 0,
    uniformBytes: 0,
    bufferCreates: 0,
    bufferCreateBytes: 0,
  };
}

/** `after - before`, field by field. */
export function diffCounts(after: CountSnapshot, before: CountSnapshot): CountSnapshot {
  const out = emptyCounts();
  for (const key of Object.keys(out) as (keyof CountSnapshot)[]) out[key] = after[key] - before[key];
  return out;
}

/** The parts of tfjs backends we wrap (private API of tfjs 4.22; checked at install time). */
interface TensorDataLike {
  values?: unknown;
  resource?: unknown;
  dtype: tf.DataType;
  shape: number[];
}
interface BackendLike {
  read?: (dataId: tf.DataId) => Promise<unknown>;
  readSync?: (dataId: tf.DataId, ...rest: unknown[]) => unknown;
  write?: (values: unknown, shape: number[], dtype: tf.DataType) => tf.DataId;
  uploadToGPU?: (dataId: tf.DataId) => void;
  tensorMap?: { get(dataId: tf.DataId): TensorDataLike | undefined };
  pipelineCache?: Record<string, unknown>;
  bufferManager?: {
    freeBuffers?: Map<string, unknown[]>;
    usedBuffers?: Map<string, unknown[]>;
    numBytesAllocated?: number;
    numBytesUsed?: number;
  };
  wasm?: { HEAPU8?: Uint8Array };
}
interface EngineLike {
  runKernel: (kernelName: string, inputs: tf.NamedTensorMap, attrs?: unknown) => tf.Tensor | tf.Tensor[];
}

type Restore = () => void;

/** Replaces `obj[key]` (own or inherited) with `make(original)` until the returned function runs. */
function patch<T extends object, K extends keyof T>(obj: T, key: K, make: (original: T[K]) => T[K]): Restore {
  const hadOwn = Object.prototype.hasOwnProperty.call(obj, key);
  const original = obj[key];
  obj[key] = make(original);
  return () => {
    if (hadOwn) obj[key] = original;
    else delete obj[key];
  };
}

const bytesPerElement = (dtype: tf.DataType) => (dtype === 'complex64' ? 8 : dtype === 'string' ? 0 : 4);
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export class Counters {
  readonly backendName: string;
  private readonly counts = emptyCounts();
  private readonly restores: Restore[] = [];
  private readonly shapes = new Map<string, number>();
  private active = true;
  private readDepth = 0;
  /** > 0 while a kernel runs (engine.runKernel is on the stack). */
  private kernelDepth = 0;
  /** Which hooks could be installed (a missing one means its count stays 0). */
  readonly hooks: string[] = [];

  private constructor(backendName: string) {
    this.backendName = backendName;
  }

  /** Wraps the active backend (call after the backend is ready). */
  static install(): Counters {
    const c = new Counters(tf.getBackend());
    c.installAll();
    return c;
  }

  private installAll(): void {
    const backend = tf.backend() as unknown as BackendLike;
    const engine = tf.engine() as unknown as EngineLike;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrappers are plain functions whose own `this` is the wrapped object
    const self = this;

    // Every tfjs kernel (forward and backward) goes through engine.runKernel.
    this.restores.push(
      patch(
        engine,
        'runKernel',
        (original) =>
          function runKernel(this: unknown, name: string, inputs: tf.NamedTensorMap, attrs?: unknown) {
            self.kernelDepth++;
            let out: tf.Tensor | tf.Tensor[];
            try {
              out = original.call(engine, name, inputs, attrs);
            } finally {
              self.kernelDepth--;
            }
            if (self.active) {
              self.counts.kernels++;
              if (self.backendName !== 'webgpu') self.counts.dispatches++;
              for (const t of Array.isArray(out) ? out : [out]) {
                const key = `${t.dtype}[${t.shape.join(',')}]`;
                self.shapes.set(key, (self.shapes.get(key) ?? 0) + 1);
              }
            }
            return out;
          },
      ),
    );
    this.hooks.push('engine.runKernel');

    if (this.backendName === 'webgpu') this.installWebGpu(backend);
    else this.installHostBackend(backend);
  }

  /** wasm and cpu: tensors live in CPU memory; count copies in (write) and out (read/readSync). */
  private installHostBackend(backend: BackendLike): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrappers are plain functions whose own `this` is the wrapped object
    const self = this;
    if (typeof backend.readSync === 'function') {
      this.restores.push(
        patch(
          backend,
          'readSync',
          (original) =>
            function readSync(this: unknown, dataId: tf.DataId, ...rest: unknown[]) {
              self.readDepth++;
              try {
                const values = original!.call(backend, dataId, ...rest) as ArrayLike<number> & { byteLength?: number };
                if (self.active && self.readDepth === 1) self.countHostRead(values);
                return values;
              } finally {
                self.readDepth--;
              }
            },
        ),
      );
      this.hooks.push('backend.readSync');
    }
    if (typeof backend.read === 'function') {
      this.restores.push(
        patch(
          backend,
          'read',
          (original) =>
            async function read(this: unknown, dataId: tf.DataId) {
              // wasm's and cpu's read() call readSync() before their first await: count the outer call once.
              let pending: Promise<unknown>;
              self.readDepth++;
              try {
                pending = original!.call(backend, dataId);
              } finally {
                self.readDepth--;
              }
              const values = (await pending) as (ArrayLike<number> & { byteLength?: number }) | undefined;
              if (self.active) self.countHostRead(values);
              return values;
            },
        ),
      );
      this.hooks.push('backend.read');
    }
    if (typeof backend.write === 'function') {
      this.restores.push(
        patch(
          backend,
          'write',
          (original) =>
            function write(this: unknown, values: unknown, shape: number[], dtype: tf.DataType) {
              // Kernel outputs are written from inside kernels (and with null values on wasm): only
              // tensors made from JS values outside kernels are uploads.
              if (self.active && values != null && self.kernelDepth === 0) {
                self.counts.uploads++;
                self.counts.uploadBytes += sizeOf(shape) * bytesPerElement(dtype);
              }
              return original!.call(backend, values, shape, dtype);
            },
        ),
      );
      this.hooks.push('backend.write');
    }
  }

  private installWebGpu(backend: BackendLike): void {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrappers are plain functions whose own `this` is the wrapped object
    const self = this;
    const g = globalThis as unknown as Record<string, { prototype: Record<string, unknown> } | undefined>;
    const proto = (name: string) => g[name]?.prototype as Record<string, (...args: unknown[]) => unknown> | undefined;

    const pass = proto('GPUComputePassEncoder');
    if (pass?.dispatchWorkgroups) {
      this.restores.push(
        patch(
          pass,
          'dispatchWorkgroups',
          (original) =>
            function dispatchWorkgroups(this: unknown, ...args: unknown[]) {
              if (self.active) self.counts.dispatches++;
              return original.apply(this, args);
            },
        ),
      );
      this.hooks.push('GPUComputePassEncoder.dispatchWorkgroups');
    }
    const queue = proto('GPUQueue');
    if (queue?.submit) {
      this.restores.push(
        patch(
          queue,
          'submit',
          (original) =>
            function submit(this: unknown, ...args: unknown[]) {
              if (self.active) self.counts.submits++;
              return original.apply(this, args);
            },
        ),
      );
      this.hooks.push('GPUQueue.submit');
    }
    if (queue?.writeBuffer) {
      this.restores.push(
        patch(
          queue,
          'writeBuffer',
          (original) =>
            function writeBuffer(this: unknown, ...args: unknown[]) {
              if (self.active) {
                self.counts.uniformWrites++;
                const data = args[2] as { byteLength?: number } | undefined;
                const size = typeof args[4] === 'number' ? args[4] : (data?.byteLength ?? 0);
                self.counts.uniformBytes += size;
              }
              return original.apply(this, args);
            },
        ),
      );
      this.hooks.push('GPUQueue.writeBuffer');
    }
    const buffer = proto('GPUBuffer');
    if (buffer?.mapAsync) {
      this.restores.push(
        patch(
          buffer,
          'mapAsync',
          (original) =>
            function mapAsync(this: { size?: number }, ...args: unknown[]) {
              // GPUMapMode.READ === 1
              if (self.active && ((args[0] as number) & 1) !== 0) {
                self.counts.readbacks++;
                self.counts.readbackBytes += typeof args[2] === 'number' ? args[2] : Number(this.size ?? 0);
              }
              return original.apply(this, args);
            },
        ),
      );
      this.hooks.push('GPUBuffer.mapAsync');
    }
    const device = proto('GPUDevice');
    if (device?.createBuffer) {
      this.restores.push(
        patch(
          device,
          'createBuffer',
          (original) =>
            function createBuffer(this: unknown, ...args: unknown[]) {
              if (self.active) {
                self.counts.bufferCreates++;
                self.counts.bufferCreateBytes += Number((args[0] as { size?: number } | undefined)?.size ?? 0);
              }
              return original.apply(this, args);
            },
        ),
      );
      this.hooks.push('GPUDevice.createBuffer');
    }
    const tensorMap = backend.tensorMap;
    if (typeof backend.uploadToGPU === 'function' && tensorMap) {
      this.restores.push(
        patch(
          backend,
          'uploadToGPU',
          (original) =>
            function uploadToGPU(this: unknown, dataId: tf.DataId) {
              if (self.active) {
                const d = tensorMap.get(dataId);
                if (d && d.resource == null && d.values != null) {
                  self.counts.uploads++;
                  self.counts.uploadBytes += sizeOf(d.shape) * bytesPerElement(d.dtype);
                }
              }
              return original!.call(backend, dataId);
            },
        ),
      );
      this.hooks.push('backend.uploadToGPU');
    }
    if (typeof backend.readSync === 'function' && tensorMap) {
      // Synchronous reads go through canvases, not mapAsync: count those that really touch the GPU.
      this.restores.push(
        patch(
          backend,
          'readSync',
          (original) =>
            function readSync(this: unknown, dataId: tf.DataId, ...rest: unknown[]) {
              const d = tensorMap.get(dataId);
              if (self.active && d && d.values == null && d.resource != null) {
                self.counts.readbacks++;
                self.counts.readbackBytes += sizeOf(d.shape) * bytesPerElement(d.dtype);
              }
              return original!.call(backend, dataId, ...rest);
            },
        ),
      );
      this.hooks.push('backend.readSync');
    }
  }

  /** wasm/cpu: a read outside kernels is a readback; one inside a kernel is a host copy. */
  private countHostRead(values: (ArrayLike<number> & { byteLength?: number }) | undefined): void {
    if (this.kernelDepth > 0) {
      this.counts.kernelHostReads++;
      return;
    }
    this.counts.readbacks++;
    this.counts.readbackBytes += values?.byteLength ?? (values?.length ?? 0) * 4;
  }

  /** Stops counting (hooks stay installed). */
  pause(): void {
    this.active = false;
  }

  resume(): void {
    this.active = true;
  }

  snapshot(): CountSnapshot {
    return { ...this.counts };
  }

  /** Distinct kernel output shapes seen so far (`dtype[dims]` → number of kernel outputs). */
  shapeSet(): Set<string> {
    return new Set(this.shapes.keys());
  }

  resetShapes(): void {
    this.shapes.clear();
  }

  uninstall(): void {
    while (this.restores.length > 0) this.restores.pop()!();
  }
}

/** Live memory as tfjs and the backend see it. Fields absent on a backend are null. */
export interface MemorySnapshot {
  numTensors: number;
  numDataBuffers: number;
  /** Bytes of all live tensors (tf.memory().numBytes). */
  numBytes: number;
  /** webgpu: bytes of GPU buffers in use (buffer manager). */
  gpuBytesUsed: number | null;
  /** webgpu: bytes of all GPU buffers allocated by the pool (used + free; the pool never frees). */
  gpuBytesAllocated: number | null;
  /** webgpu: buffers held by the pool, in use and free. */
  gpuBuffersUsed: number | null;
  gpuBuffersFree: number | null;
  /** webgpu: compiled pipelines (one per distinct shader key). */
  pipelines: number | null;
  /** wasm: size of the wasm heap (it only grows). */
  wasmHeapBytes: number | null;
}

export function memorySnapshot(): MemorySnapshot {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  const backend = tf.backend() as unknown as BackendLike;
  const count = (map: Map<string, unknown[]> | undefined) =>
    map ? [...map.values()].reduce((n, list) => n + list.length, 0) : null;
  const bm = backend.bufferManager;
  return {
    numTensors: m.numTensors,
    numDataBuffers: m.numDataBuffers,
    numBytes: m.numBytes,
    gpuBytesUsed: m.numBytesInGPU ?? bm?.numBytesUsed ?? null,
    gpuBytesAllocated: m.numBytesAllocatedInGPU ?? bm?.numBytesAllocated ?? null,
    gpuBuffersUsed: count(bm?.usedBuffers),
    gpuBuffersFree: count(bm?.freeBuffers),
    pipelines: backend.pipelineCache ? Object.keys(backend.pipelineCache).length : null,
    wasmHeapBytes: backend.wasm?.HEAPU8?.byteLength ?? null,
  };
}
