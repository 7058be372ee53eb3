/**
 * Backend selection: WebGPU when an adapter is available, else WebAssembly, else plain JS (cpu).
 * Returns a capability report that the UI shows as a badge and that benchmarks record, including
 * why each faster backend was not used, so a user on a slow path knows what to fix.
 *
 * Runs in a browser worker and in Node: the WebGPU backend module is imported lazily, only when
 * `navigator.gpu` exists, and wasm binary locations are passed in by the caller (the worker knows
 * the bundler's URLs; Node finds the binaries next to the package).
 */
import * as tf from '@tensorflow/tfjs';
import { registerWasmKernels } from './tf/kernels';

export type BackendName = 'webgpu' | 'wasm' | 'cpu';

/**
 * Command buffers per queue submit on WebGPU: tfjs's default batching of 15 (fewer submits per step).
 * It was 1 while batching trained wrongly; the cause was an invalid addN pipeline (more inputs than
 * storage-buffer bindings) that took its whole batch down with it, fixed in `chunkWebGpuAddN`
 * (docs/ARCHITECTURE.md, "Backends"). e2e/engine-webgpu.spec.ts trains with this setting.
 */
export const WEBGPU_SUBMIT_BATCH_SIZE = 15;

/** Fastest first: the order in which backends are tried when nothing is forced. */
export const BACKEND_PREFERENCE: readonly BackendName[] = ['webgpu', 'wasm', 'cpu'];

export function isBackendName(value: string): value is BackendName {
  return (BACKEND_PREFERENCE as readonly string[]).includes(value);
}

/** The WebGPU adapter as the browser describes it. Empty strings when the browser hides a field. */
export interface AdapterReport {
  vendor: string;
  architecture: string;
  description: string;
  device: string;
}

/** The adapter limits that bound model and batch size. */
export interface LimitsReport {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupStorageSize: number;
}

export interface CapabilityReport {
  /** The backend tfjs is now running on. */
  backend: BackendName;
  /** What the caller asked for (`?backend=`), verbatim; null when nothing was forced. */
  requested: string | null;
  /** Set when `requested` is not a backend name; the best available backend is used instead. */
  invalidRequest: string | null;
  /** Present when the backend is webgpu. */
  adapter: AdapterReport | null;
  /** Present when the backend is webgpu. */
  limits: LimitsReport | null;
  /** Why each faster backend was skipped, e.g. `{ backend: 'webgpu', reason: 'no WebGPU adapter' }`. */
  skipped: { backend: BackendName; reason: string }[];
  /** wasm only: whether the multi-threaded build could be used (needs a cross-origin-isolated page). */
  wasmThreads: boolean | null;
  tfjsVersion: string;
}

/** Locations of the three tfjs wasm binaries, keyed by file name (see `setWasmPaths`). */
export type WasmPaths = Partial<
  Record<'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm', string>
>;

export interface BackendOptions {
  /**
   * Allow the multi-threaded wasm build on cross-origin-isolated pages. Off by default: in a
   * bundled module worker its pthread bootstrap fails (measured: "ReferenceError: e is not
   * defined" in Chromium 156 with tfjs 4.22), which kills the worker.
   */
  wasmThreads?: boolean;
  /** Force one backend (debugging): the raw `?backend=` value. Unknown values are reported, not obeyed. */
  override?: string | null;
  /** Where the wasm binaries are served from; omit in Node, where the package finds its own. */
  wasmPaths?: WasmPaths;
}

interface WebGpuProbe {
  adapter: GPUAdapter | null;
  reason: string | null;
}

async function probeWebGpu(): Promise<WebGpuProbe> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return { adapter: null, reason: 'this browser does not expose WebGPU (navigator.gpu is missing)' };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { adapter: null, reason: 'no WebGPU adapter' };
    return { adapter, reason: null };
  } catch (error) {
    return { adapter: null, reason: `requesting a WebGPU adapter failed: ${describeError(error)}` };
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Most inputs one WebGPU AddN program may bind. tfjs-backend-webgpu 4.22 binds every AddN input as a
 * storage buffer of one shader and, unlike its Concat, never splits, while the device it asks for has
 * WebGPU's default of 8 storage buffers per shader stage (7 inputs + the output). With more, the
 * pipeline is invalid (measured: "The number of storage buffers (42) in the Compute stage exceeds the
 * maximum per-stage limit (8)"): its dispatch does nothing and the rest of its submit batch is dropped.
 */
export const ADD_N_MAX_INPUTS = 7;

let addNChunked = false;

/**
 * Replaces the webgpu backend's AddN kernel by one that sums in programs of at most
 * ADD_N_MAX_INPUTS inputs (the first, then the running sum with the next six, in input order), so
 * every `tf.addN` is right on WebGPU whoever calls it (docs/ARCHITECTURE.md, "Backends"). Once per
 * page; cpu and wasm keep their own AddN.
 */
export function chunkWebGpuAddN(): void {
  if (addNChunked) return;
  const stock = tf.getKernel('AddN', 'webgpu');
  if (!stock) return;
  tf.unregisterKernel('AddN', 'webgpu');
  tf.registerKernel({
    ...stock,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const all = inputs as unknown as tf.TensorInfo[];
      const run = (part: tf.TensorInfo[]) =>
        stock.kernelFunc({ inputs: part as unknown as tf.NamedTensorInfoMap, backend, attrs }) as tf.TensorInfo;
      if (all.length <= ADD_N_MAX_INPUTS) return run(all);
      let sum = run(all.slice(0, ADD_N_MAX_INPUTS));
      for (let i = ADD_N_MAX_INPUTS; i < all.length; i += ADD_N_MAX_INPUTS - 1) {
        const next = run([sum, ...all.slice(i, i + ADD_N_MAX_INPUTS - 1)]);
        // The partial sum's buffer is freed once the queued programs that read it have run.
        (backend as unknown as { disposeData(id: tf.DataId): void }).disposeData(sum.dataId);
        sum = next;
      }
      return sum;
    },
  });
  addNChunked = true;
}

/**
 * Most storage buffers per shader stage we ask the device for (the adapter may offer fewer). tfjs's
 * own factory asks for WebGPU's default, 8; our multi-tensor kernels bind more tensors per dispatch
 * when the device allows: AdamW updates (n − 2) / 2 parameters per dispatch, the gradient norm sums
 * n − 2 gradients (docs/ARCHITECTURE.md, "Own kernels").
 */
export const MAX_STORAGE_BUFFERS_REQUESTED = 16;

/**
 * Replaces tfjs's 'webgpu' backend factory (before the backend exists) with one that asks for the
 * same device tfjs does (its limits and timestamp queries) plus up to
 * `MAX_STORAGE_BUFFERS_REQUESTED` storage buffers per stage. A backend already made keeps its device.
 */
function useOurWebGpuDevice(
  backendClass: new (device: GPUDevice, adapterInfo?: GPUAdapterInfo) => tf.KernelBackend,
): void {
  if (tf.findBackend('webgpu')) return;
  tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    async () => {
      const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) throw new Error('no WebGPU adapter');
      const limits = adapter.limits;
      const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
      const device = await adapter.requestDevice({
        requiredFeatures,
        requiredLimits: {
          // What tfjs's factory asks for: the adapter's own limits.
          maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxBufferSize: limits.maxBufferSize,
          maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
          maxStorageBuffersPerShaderStage: Math.min(
            limits.maxStorageBuffersPerShaderStage,
            MAX_STORAGE_BUFFERS_REQUESTED,
          ),
        },
      });
      const legacy = adapter as GPUAdapter & { requestAdapterInfo?: () => Promise<GPUAdapterInfo> };
      const info = adapter.info ?? (legacy.requestAdapterInfo ? await legacy.requestAdapterInfo() : undefined);
      return new backendClass(device, info);
    },
    3, // tfjs's priority for webgpu
  );
}

const webGpuErrors: string[] = [];
const watchedDevices = new WeakSet<object>();

/** Records a WebGPU error no one caught (the device's `uncapturederror` event). */
export function reportWebGpuError(message: string): void {
  webGpuErrors.push(message);
}

/**
 * The WebGPU errors nobody caught since the last call (an invalid pipeline, a bad binding…), and
 * forgets them. Such an error means some dispatch did nothing — results cannot be trusted — so the
 * session stops a run that raises one (docs/ARCHITECTURE.md, "Backends").
 */
export function takeWebGpuErrors(): string[] {
  return webGpuErrors.splice(0);
}

/** Listens for uncaught errors on the webgpu backend's device (once per device). */
export function watchWebGpuErrors(): void {
  const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
  if (!device || watchedDevices.has(device)) return;
  watchedDevices.add(device);
  device.addEventListener('uncapturederror', (event) =>
    reportWebGpuError((event as GPUUncapturedErrorEvent).error.message),
  );
}

async function adapterReport(adapter: GPUAdapter): Promise<AdapterReport> {
  // `adapter.info` is the current API; older Chromium only has `requestAdapterInfo()`.
  const legacy = adapter as GPUAdapter & { requestAdapterInfo?: () => Promise<GPUAdapterInfo> };
  const info: Partial<GPUAdapterInfo> | undefined =
    adapter.info ?? (legacy.requestAdapterInfo ? await legacy.requestAdapterInfo() : undefined);
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    description: info?.description ?? '',
    device: info?.device ?? '',
  };
}

/** One line for an adapter, e.g. "google swiftshader, SwiftShader driver 5.0.0" (the CLI's backend line). */
export function describeAdapter(adapter: AdapterReport): string {
  const name = [adapter.vendor, adapter.architecture].filter(Boolean).join(' ');
  return [name, adapter.description].filter(Boolean).join(', ') || 'unknown adapter';
}

/**
 * Activates tfjs's WebGPU backend on `navigator.gpu`'s adapter, with our settings: the browser
 * worker (via initBestBackend) and Node (src/engine/tf/node.ts, which sets `navigator.gpu` from
 * Dawn's bindings first) both come through here. Never throws: a failure is a reason.
 */
export async function initWebGpuBackend(): Promise<
  { ok: true; adapter: AdapterReport; limits: LimitsReport } | { ok: false; reason: string }
> {
  const probe = await probeWebGpu();
  if (!probe.adapter) return { ok: false, reason: probe.reason ?? 'no WebGPU adapter' };
  try {
    // Registers the 'webgpu' backend factory and its kernels as a side effect.
    const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
    useOurWebGpuDevice(WebGPUBackend);
    chunkWebGpuAddN();
    const ready = await tf.setBackend('webgpu');
    if (!ready) return { ok: false, reason: 'the WebGPU backend failed to initialise (device request refused)' };
    await tf.ready();
    // Batched submits (set explicitly so a tfjs upgrade cannot change it unnoticed).
    tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', WEBGPU_SUBMIT_BATCH_SIZE);
    watchWebGpuErrors();
  } catch (error) {
    return { ok: false, reason: `the WebGPU backend failed to initialise: ${describeError(error)}` };
  }
  const limits = probe.adapter.limits;
  return {
    ok: true,
    adapter: await adapterReport(probe.adapter),
    limits: {
      maxBufferSize: Number(limits.maxBufferSize),
      maxStorageBufferBindingSize: Number(limits.maxStorageBufferBindingSize),
      maxComputeWorkgroupStorageSize: Number(limits.maxComputeWorkgroupStorageSize),
    },
  };
}

async function tryWasm(
  wasmPaths: WasmPaths | undefined,
  allowThreads: boolean,
): Promise<{ ok: true; threads: boolean } | { ok: false; reason: string }> {
  if (typeof WebAssembly === 'undefined') return { ok: false, reason: 'WebAssembly is not available' };
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (wasmPaths) wasm.setWasmPaths(wasmPaths);
    if (!allowThreads) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const ready = await tf.setBackend('wasm');
    if (!ready) return { ok: false, reason: 'the wasm backend failed to initialise' };
    await tf.ready();
    // wasm lacks UnsortedSegmentSum, which the gradient of tf.gather (embedding lookup) needs.
    registerWasmKernels();
    // Threads need SharedArrayBuffer, which browsers grant only to cross-origin-isolated pages.
    const threads =
      allowThreads &&
      typeof SharedArrayBuffer !== 'undefined' &&
      (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
    return { ok: true, threads };
  } catch (error) {
    return { ok: false, reason: `the wasm backend failed to initialise: ${describeError(error)}` };
  }
}

/**
 * Picks and activates the best backend. Never throws for a missing backend: cpu always works.
 * A forced backend that fails falls back to the normal order, with the failure in `skipped`.
 */
export async function initBestBackend(options: BackendOptions = {}): Promise<CapabilityReport> {
  const requested = options.override ?? null;
  const forced = requested !== null && isBackendName(requested) ? requested : null;
  const invalidRequest = requested !== null && forced === null ? requested : null;

  const skipped: { backend: BackendName; reason: string }[] = [];
  const order: BackendName[] = forced
    ? [forced, ...BACKEND_PREFERENCE.filter((b) => b !== forced)]
    : [...BACKEND_PREFERENCE];
  const report = (backend: BackendName, extra: Partial<CapabilityReport> = {}): CapabilityReport => ({
    backend,
    requested,
    invalidRequest,
    adapter: null,
    limits: null,
    skipped,
    wasmThreads: null,
    tfjsVersion: tf.version.tfjs,
    ...extra,
  });

  for (const backend of order) {
    if (backend === 'webgpu') {
      const result = await initWebGpuBackend();
      if (result.ok) return report('webgpu', { adapter: result.adapter, limits: result.limits });
      skipped.push({ backend, reason: result.reason });
    } else if (backend === 'wasm') {
      const result = await tryWasm(options.wasmPaths, options.wasmThreads ?? false);
      if (result.ok) {
        if (forced === 'wasm') addForcedSkips(skipped, 'wasm');
        return report('wasm', { wasmThreads: result.threads });
      }
      skipped.push({ backend, reason: result.reason });
    } else {
      await tf.setBackend('cpu');
      await tf.ready();
      if (forced === 'cpu') addForcedSkips(skipped, 'cpu');
      return report('cpu');
    }
  }
  throw new Error('unreachable: the cpu backend always initialises');
}

function addForcedSkips(skipped: { backend: BackendName; reason: string }[], forced: BackendName): void {
  for (const faster of BACKEND_PREFERENCE) {
    if (faster === forced) break;
    if (!skipped.some((s) => s.backend === faster))
      skipped.push({ backend: faster, reason: `not tried: ?backend=${forced} was requested` });
  }
}

/** One-line summary for badges and logs, e.g. "WebGPU · swiftshader" or "WASM fallback: no WebGPU adapter". */
export function describeCapability(report: CapabilityReport): string {
  if (report.backend === 'webgpu') {
    const name =
      report.adapter?.architecture || report.adapter?.vendor || report.adapter?.description || 'unknown adapter';
    return `WebGPU · ${name}`;
  }
  const label = report.backend === 'wasm' ? 'WASM' : 'CPU';
  const forcedByUser = report.requested === report.backend;
  if (forcedByUser) return `${label} (forced by ?backend=${report.backend})`;
  const reason =
    report.skipped.find((s) => s.backend === 'webgpu')?.reason ?? report.skipped[0]?.reason ?? 'unknown reason';
  return `${label} fallback: ${reason}`;
}

/** The GPU device of the active backend, or null when it is not WebGPU. */
function activeGpuDevice(): GPUDevice | null {
  if (tf.getBackend() !== 'webgpu') return null;
  return (tf.backend() as unknown as { device?: GPUDevice }).device ?? null;
}

/**
 * Calls `onLost` once when the active backend's GPU device is lost (a driver reset, the GPU
 * unplugged or reclaimed, `destroy()`): every tensor on it is gone from then on. Returns false when
 * the backend has no GPU device to watch.
 */
export function watchGpuDevice(onLost: (reason: string) => void): boolean {
  const device = activeGpuDevice();
  if (!device) return false;
  void device.lost.then((info) => onLost(info.message ? `${info.reason}: ${info.message}` : info.reason));
  return true;
}

/**
 * Whether the active GPU device is lost, waiting up to `withinMs` for the browser to say so: a
 * step can fail (a readback rejected) a moment before the device's `lost` promise settles.
 */
export async function isGpuDeviceLost(withinMs = 1000): Promise<boolean> {
  const device = activeGpuDevice();
  if (!device) return false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), withinMs)));
  const lost = await Promise.race([device.lost.then(() => true), timeout]);
  clearTimeout(timer);
  return lost;
}

/** Test builds: destroys the GPU device, which loses it exactly as a driver reset would. */
export function destroyGpuDeviceForTest(): boolean {
  const device = activeGpuDevice();
  device?.destroy();
  return device !== null;
}

/**
 * After a lost device: drops the dead WebGPU backend and brings up the best backend again —
 * WebGPU on a fresh device when the GPU is still there, else wasm or cpu. Every tensor of the old
 * backend is gone; callers load their models again.
 */
export async function rebuildBackend(options: BackendOptions = {}): Promise<CapabilityReport> {
  // tfjs keeps one instance per backend name and offers no "reinitialise": remove the instance and
  // register the same factory again (tfjs-core keeps factories in `registryFactory`), so that
  // setBackend('webgpu') asks for a new device.
  const engine = tf.engine() as unknown as {
    registryFactory: Record<string, { factory: () => tf.KernelBackend | Promise<tf.KernelBackend>; priority: number }>;
  };
  const entry = engine.registryFactory.webgpu;
  if (entry) {
    try {
      tf.removeBackend('webgpu');
    } catch {
      // Disposing a backend whose device is gone may throw; it is dropped either way.
    }
    tf.registerBackend('webgpu', entry.factory, entry.priority);
  }
  return initBestBackend(options);
}
