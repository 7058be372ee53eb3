/**
 * Kernels that stock tfjs 4.22 backends lack but our training path needs.
 *
 * tfjs-backend-wasm has no `UnsortedSegmentSum` kernel, and tfjs-core's gradient of `tf.gather`
 * (embedding lookups, gathering masked positions for MLM) is built on it, so without this every
 * backward pass through a gather fails on wasm with "Kernel 'UnsortedSegmentSum' not registered".
 * The kernel below is plain JavaScript over the wasm heap (wasm tensors live in CPU memory, so
 * reading and writing them is a copy, not a GPU readback). It runs once per gather per backward
 * pass; for bert-base (vocab 30522, hidden 768, 8×128 tokens) that is ~0.8 M adds plus zeroing the
 * 23 M-float output — small next to the matmuls.
 *
 * Browser-safe: registering needs neither the wasm package nor Node. Call `registerWasmKernels()`
 * before the first backward pass on wasm (`initNodeBackend` does; the worker must too when it
 * falls back to wasm). webgpu and cpu have their own UnsortedSegmentSum.
 */
import * as tf from '@tensorflow/tfjs';

/** The subset of tfjs-backend-wasm's `BackendWasm` this kernel uses (avoids importing the package). */
interface WasmBackendLike {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * `out[s, ...] = Σ_{i : ids[i] = s} x[i, ...]`, TF semantics: ids outside [0, numSegments) are
 * dropped. `segmentIds` may have any rank; its shape must be a prefix of x's shape.
 */
export function unsortedSegmentSumJs(
  x: ArrayLike<number>,
  xShape: number[],
  ids: ArrayLike<number>,
  idsShape: number[],
  numSegments: number,
  out: { [i: number]: number; length: number },
): void {
  const n = sizeOf(idsShape);
  const inner = n === 0 ? 0 : sizeOf(xShape) / n;
  for (let i = 0; i < out.length; i++) out[i] = 0;
  for (let i = 0; i < n; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j] += x[src + j];
  }
}

const unsortedSegmentSumWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const wasm = backend as unknown as WasmBackendLike;
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  // Read inputs first: makeOutput may grow the wasm heap, which detaches earlier heap views.
  const xVals = wasm.readSync(x.dataId) as tf.backend_util.TypedArray; // copies
  const idVals = wasm.readSync(segmentIds.dataId) as tf.backend_util.TypedArray; // copies
  const out = wasm.makeOutput(outShape, x.dtype);
  if (sizeOf(outShape) === 0) return out;
  const outVals = wasm.typedArrayFromHeap(out);
  unsortedSegmentSumJs(xVals, x.shape, idVals, segmentIds.shape, numSegments, outVals);
  return out;
};

let registered = false;

/** Registers the missing wasm kernels (idempotent; safe before or after the wasm backend loads). */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: unsortedSegmentSumWasm });
  }
}
