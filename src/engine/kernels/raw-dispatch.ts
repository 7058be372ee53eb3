/**
 * A WGSL compute shader of ours dispatched straight into TensorFlow.js's WebGPU command stream, on the
 * buffers of existing tensors, read-only or read-write (docs/ARCHITECTURE.md, "Own kernels").
 *
 * Why: tfjs's program API gives a program one new output and read-only inputs, so an update "in
 * place" costs a new buffer per tensor and one dispatch per output. The multi-tensor AdamW writes
 * several parameters and their moments where they are, in one dispatch. The dispatch joins tfjs's
 * open compute pass and its submit batching (`WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE`), so it is ordered
 * with tfjs's own programs by the queue, it shows in the benchmark's dispatch counter like theirs,
 * and `tf.time` times it when the device has timestamp queries.
 *
 * The caller must own every buffer it writes: a tensor whose data another tensor shares
 * (`tf.clone`, a snapshot) would change under that tensor too. `soleOwner` says whether it does.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';

/** Threads per workgroup of the raw dispatches (a grid-stride loop covers any size). */
export const RAW_WORKGROUP_SIZE = 256;

/** What this module uses of tfjs's WebGPU backend; private there, so read through this view. */
interface BackendInternals {
  device: GPUDevice;
  tensorMap: {
    get(dataId: object): { resource: unknown; refCount: number; values: unknown; dtype: string } | undefined;
    has(dataId: object): boolean;
  };
  uploadToGPU(dataId: object): void;
  makeUniforms(uniforms: Array<{ type: string; data: number[] }>): GPUBufferBinding;
  commandQueueOwnedIds: WeakSet<object>;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  commandEncoder: GPUCommandEncoder;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  activeTimers: Array<{ name: string; query: Promise<number> }> | null;
  supportTimestampQuery: boolean;
  querySet: GPUQuerySet | null;
  querySetCount: number;
  getQueryTime(): Promise<number>;
}

/** One tensor bound to the shader as `var<storage, access> name : array<f32>` (or `array<u32>`). */
export interface RawBinding {
  name: string;
  tensor: tf.TensorInfo;
  access: 'read' | 'read_write';
  /** WGSL element type; default f32. `bufferElement` says which type a tensor's buffer holds. */
  element?: 'f32' | 'u32' | 'i32';
}

/** One scalar of the shader's `uniforms` struct, in declaration order. */
export interface RawUniform {
  name: string;
  type: 'f32' | 'u32' | 'i32';
  value: number;
}

export interface RawDispatch {
  /** Shader name: the pipeline cache key (with the binding layout) and the name `tf.time` reports. */
  name: string;
  /** Part of the cache key too: tells apart the shaders of one name whose code differs (shapes baked in). */
  variant?: string;
  bindings: RawBinding[];
  uniforms: RawUniform[];
  /**
   * WGSL after the generated declarations: must define `@compute @workgroup_size(RAW_WORKGROUP_SIZE)
   * fn main(...)` and use every binding and the uniforms (layouts are derived from the code).
   */
  body: string;
  /** Workgroups along x, clamped to the device's per-dimension limit (loop over the rest). */
  workgroups: number;
}

function internals(): BackendInternals {
  return tf.backend() as unknown as BackendInternals;
}

/** Whether `tensor`'s buffer belongs to it alone, so writing it in place changes no other tensor. */
export function soleOwner(tensor: tf.TensorInfo): boolean {
  return (internals().tensorMap.get(tensor.dataId)?.refCount ?? 0) === 1;
}

/**
 * The WGSL element type of `tensor`'s buffer: tfjs keeps a cast without loss (int32 → float32) in the
 * original buffer, so a "float32" tensor may hold i32 values; read them with `f32(…)`.
 */
export function bufferElement(tensor: tf.TensorInfo): 'f32' | 'i32' {
  const dtype = internals().tensorMap.get(tensor.dataId)?.dtype ?? tensor.dtype;
  return dtype === 'float32' ? 'f32' : 'i32';
}

/** The device's limits (for sizing groups of tensors to what one binding may hold). */
export function deviceLimits(): GPUSupportedLimits {
  return (tf.backend() as unknown as WebGPUBackend).device.limits;
}

/**
 * A new float32 tensor on the webgpu backend whose buffer a raw dispatch fills (contents undefined
 * until then; tfjs's own programs make their outputs the same way). The caller owns it.
 */
export function emptyTensor(shape: number[]): tf.Tensor {
  const info = (tf.backend() as unknown as WebGPUBackend).makeTensorInfo(shape, 'float32');
  return tf.engine().makeTensorFromTensorInfo(info);
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

function shaderCode(d: RawDispatch): string {
  const storage = d.bindings
    .map((b, i) => `@group(0) @binding(${i}) var<storage, ${b.access}> ${b.name} : array<${b.element ?? 'f32'}>;`)
    .join('\n');
  const fields = d.uniforms.map((u) => `  ${u.name} : ${u.type},`).join('\n');
  return `${storage}
struct Uniforms {
${fields}
};
@group(0) @binding(${d.bindings.length}) var<uniform> uniforms : Uniforms;
${d.body}`;
}

function pipelineFor(backend: BackendInternals, d: RawDispatch): GPUComputePipeline {
  let cache = pipelines.get(backend.device);
  if (!cache) {
    cache = new Map();
    pipelines.set(backend.device, cache);
  }
  const key = `${d.name}|${d.variant ?? ''}|${d.bindings.map((b) => `${b.access}:${b.element ?? 'f32'}`).join(',')}|${d.uniforms.map((u) => u.type).join(',')}`;
  let pipeline = cache.get(key);
  if (!pipeline) {
    const module = backend.device.createShaderModule({ code: shaderCode(d), label: d.name });
    pipeline = backend.device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint: 'main' },
      label: d.name,
    });
    cache.set(key, pipeline);
  }
  return pipeline;
}

/** Records `d` on the webgpu backend (the active one); returns without waiting for the GPU. */
export function dispatchRaw(d: RawDispatch): void {
  const backend = internals();
  const buffers = d.bindings.map((b) => {
    if (!backend.tensorMap.has(b.tensor.dataId)) {
      throw new Error(`raw dispatch ${d.name}: tensor "${b.name}" has no data on the webgpu backend`);
    }
    backend.uploadToGPU(b.tensor.dataId);
    const resource = backend.tensorMap.get(b.tensor.dataId)!.resource;
    if (!(resource instanceof GPUBuffer))
      throw new Error(`raw dispatch ${d.name}: tensor "${b.name}" is not in a GPU buffer`);
    return resource;
  });
  const pipeline = pipelineFor(backend, d);
  const uniform = backend.makeUniforms(
    d.uniforms.map((u) => ({
      type: u.type === 'f32' ? 'float32' : u.type === 'u32' ? 'uint32' : 'int32',
      data: [u.value],
    })),
  );
  // tfjs frees a disposed tensor's buffer only after the submit that uses it: same for ours.
  for (const b of d.bindings) backend.commandQueueOwnedIds.add(b.tensor.dataId);
  // A tensor read back once keeps its values on the CPU, and tfjs's `read` returns them from then
  // on: a buffer written here must drop that copy, or `data()` would return the values from before.
  for (const b of d.bindings) if (b.access === 'read_write') backend.tensorMap.get(b.tensor.dataId)!.values = null;
  const bindGroup = backend.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      ...buffers.map((buffer, i) => ({ binding: i, resource: { buffer } })),
      { binding: buffers.length, resource: uniform },
    ],
  });
  const workgroups = Math.max(1, Math.min(d.workgroups, backend.device.limits.maxComputeWorkgroupsPerDimension));
  backend.ensureCommandEncoderReady();
  const timed = backend.activeTimers != null;
  if (timed && backend.supportTimestampQuery) {
    // As tfjs does for its own programs under tf.time: a pass of its own with timestamp writes.
    backend.endComputePassEncoder();
    if (backend.querySet == null) {
      backend.querySet = backend.device.createQuerySet({ type: 'timestamp', count: backend.querySetCount });
    }
    backend.computePassEncoder = backend.commandEncoder.beginComputePass({
      timestampWrites: { querySet: backend.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 },
    });
  } else if (!backend.computePassEncoder) {
    backend.computePassEncoder = backend.commandEncoder.beginComputePass({});
  }
  const pass = backend.computePassEncoder!;
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(workgroups, 1, 1);
  backend.dispatchCountInPass++;
  const batch = Number(tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE'));
  if (timed || batch <= backend.dispatchCountInPass) {
    backend.endComputePassEncoder();
    if (timed) backend.activeTimers!.push({ name: d.name, query: backend.getQueryTime() });
    else backend.submitQueue();
  }
}
