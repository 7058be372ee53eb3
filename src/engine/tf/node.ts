/**
 * tfjs backends for Node (CLI, tests, benchmarks). `@tensorflow/tfjs-node` does not install here
 * (docs/ARCHITECTURE.md, "Backends"), so Node runs on tfjs-backend-wasm (SIMD, one thread), the
 * pure-JS cpu backend, or tfjs-backend-webgpu on Dawn's Node bindings (the optional `webgpu`
 * package; see initNodeWebGpu below).
 *
 * How wasm finds its binaries in Node: the package's Node entry (`dist/tf-backend-wasm.node.js`,
 * CommonJS) is an Emscripten build whose `locateFile` prefix is its own directory (`__dirname`),
 * and in Node Emscripten reads `tfjs-backend-wasm-simd.wasm` from there with `fs`. So nothing needs
 * `setWasmPaths` in Node; the browser worker passes bundler URLs instead (src/engine/backend.ts).
 * Threads: tfjs reports `WASM_HAS_MULTITHREAD_SUPPORT=false` in Node, so the single-threaded SIMD
 * binary is used; we also set it to false explicitly so a future Node cannot pick the pthread build
 * (which bootstraps through a Blob worker and does not work in Node).
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeAdapter, initWebGpuBackend, type AdapterReport, type LimitsReport } from '../backend';
import { EngineError } from '../errors';
import { registerWasmKernels } from './kernels';

export type NodeBackendName = 'cpu' | 'wasm' | 'webgpu';

export const NODE_BACKENDS: readonly NodeBackendName[] = ['cpu', 'wasm', 'webgpu'];

export function isNodeBackendName(value: string): value is NodeBackendName {
  return (NODE_BACKENDS as readonly string[]).includes(value);
}

/** The backend `initNodeBackend` set up last; adapter and limits only on webgpu. */
export interface NodeBackendReport {
  backend: NodeBackendName;
  adapter: AdapterReport | null;
  limits: LimitsReport | null;
  /** One line for logs: "wasm", or "webgpu (google swiftshader, SwiftShader driver 5.0.0)". */
  label: string;
}

/** The pinned version of Dawn's Node bindings we test with (package.json devDependencies). */
export const WEBGPU_PACKAGE = 'webgpu@0.6.2';

/** Where Debian's `chromium` package keeps SwiftShader's Vulkan driver manifest. */
const SWIFTSHADER_ICD = 'vk_swiftshader_icd.json';
const CHROMIUM_LIB_DIR = '/usr/lib/chromium';

let active: NodeBackendReport | null = null;
/** Dawn's GPU once an adapter was found: one Dawn instance per process. */
let openedGpu: GPU | null = null;

/** What the last successful `initNodeBackend` set up, or null before the first. */
export function nodeBackendReport(): NodeBackendReport | null {
  return active;
}

/**
 * Activates `name` (default wasm) and registers our extra kernels. Idempotent; switching between
 * cpu and wasm is allowed (tensors created on the other backend are moved lazily by tfjs).
 * Throws EngineError `BACKEND_INIT_FAILED` when the backend cannot start.
 */
export async function initNodeBackend(name: NodeBackendName = 'wasm'): Promise<NodeBackendName> {
  registerWasmKernels();
  if (name === 'webgpu') {
    const gpu = await initNodeWebGpu();
    active = { backend: 'webgpu', ...gpu, label: `webgpu (${describeAdapter(gpu.adapter)})` };
    return 'webgpu';
  }
  if (name === 'wasm') {
    try {
      await import('@tensorflow/tfjs-backend-wasm'); // registers the 'wasm' backend factory and its flags
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    } catch (error) {
      throw new EngineError('BACKEND_INIT_FAILED', `could not load @tensorflow/tfjs-backend-wasm: ${String(error)}`);
    }
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (error) {
    throw new EngineError('BACKEND_INIT_FAILED', `the ${name} backend failed to initialise: ${String(error)}`);
  }
  if (!ok || tf.getBackend() !== name) {
    throw new EngineError(
      'BACKEND_INIT_FAILED',
      `the ${name} backend failed to initialise (tf.getBackend() is ${tf.getBackend()})`,
    );
  }
  active = { backend: name, adapter: null, limits: null, label: name };
  return name;
}

/** The parts of the `webgpu` package (Dawn's Node bindings) we use. */
interface DawnModule {
  create(flags: string[]): GPU;
  globals: object;
}

/** SwiftShader's Vulkan ICD manifest from a Chromium install (CHROMIUM_PATH's folder, then Debian's), or null. */
export function findSwiftShaderIcd(env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs: string[] = [];
  if (env.CHROMIUM_PATH) {
    dirs.push(dirname(env.CHROMIUM_PATH));
    try {
      dirs.push(dirname(realpathSync(env.CHROMIUM_PATH)));
    } catch {
      // A CHROMIUM_PATH that does not exist adds nothing.
    }
  }
  dirs.push(CHROMIUM_LIB_DIR);
  for (const dir of dirs) {
    const file = join(dir, SWIFTSHADER_ICD);
    if (existsSync(file)) return file;
  }
  return null;
}

async function requestAdapter(gpu: GPU): Promise<GPUAdapter | null> {
  try {
    return await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    return null;
  }
}

/**
 * WebGPU in Node (docs/ARCHITECTURE.md, "Backends"): Dawn's Node bindings (the `webgpu` package,
 * a devDependency, imported only here) give a `GPU` object. `openNodeWebGpu` loads them, installs
 * the WebGPU globals (GPUBufferUsage, …) and finds an adapter; `initNodeWebGpu` exposes the GPU as
 * `navigator.gpu` and starts tfjs's webgpu backend through the same code as the browser
 * (initWebGpuBackend), so its settings and capability report are the browser's.
 *
 * Dawn reaches the GPU through Vulkan (libvulkan1 plus the GPU's Vulkan driver). Without a GPU,
 * SwiftShader's Vulkan driver (shipped by Debian's chromium) is a CPU implementation: when no
 * adapter is found and VK_ICD_FILENAMES is unset, we point it at SwiftShader and ask again. That
 * works in-process: the Vulkan loader reads VK_ICD_FILENAMES when Dawn creates a new instance
 * (measured with webgpu 0.6.2: the second `create()` finds "google swiftshader").
 *
 * Never throws: a missing package or adapter is a reason, which names what to install.
 */
export async function openNodeWebGpu(): Promise<{ ok: true; gpu: GPU } | { ok: false; reason: string }> {
  if (openedGpu) return { ok: true, gpu: openedGpu };
  let dawn: DawnModule;
  try {
    dawn = (await import('webgpu')) as unknown as DawnModule;
  } catch (error) {
    return {
      ok: false,
      reason:
        `--backend webgpu needs Dawn's Node bindings, the "webgpu" package, which could not be loaded ` +
        `(${error instanceof Error ? error.message.split('\n')[0] : String(error)}). ` +
        `Install it with \`npm install ${WEBGPU_PACKAGE}\` (and libvulkan1 with your GPU's Vulkan driver), or use --backend wasm.`,
    };
  }
  const globals = globalThis as Record<string, unknown>;
  for (const [key, value] of Object.entries(dawn.globals)) if (!(key in globals)) globals[key] = value;

  let gpu = dawn.create([]);
  let adapter = await requestAdapter(gpu);
  let setByUs = false;
  if (!adapter && !process.env.VK_ICD_FILENAMES) {
    const icd = findSwiftShaderIcd();
    if (icd) {
      process.env.VK_ICD_FILENAMES = icd;
      setByUs = true;
      gpu = dawn.create([]);
      adapter = await requestAdapter(gpu);
    }
  }
  if (adapter) {
    openedGpu = gpu;
    return { ok: true, gpu };
  }
  const tried = process.env.VK_ICD_FILENAMES
    ? ` VK_ICD_FILENAMES is ${process.env.VK_ICD_FILENAMES}${setByUs ? ' (set by fewshot: SwiftShader from Chromium)' : ''}; check that the file exists and its driver loads.`
    : ' No SwiftShader driver was found either (Debian: apt-get install chromium, which ships /usr/lib/chromium/vk_swiftshader_icd.json).';
  return {
    ok: false,
    reason:
      `--backend webgpu found no WebGPU adapter. Dawn needs Vulkan: install libvulkan1 and your GPU's Vulkan driver, ` +
      `or point VK_ICD_FILENAMES at SwiftShader's vk_swiftshader_icd.json (a slow CPU implementation).${tried}`,
  };
}

async function initNodeWebGpu(): Promise<{ adapter: AdapterReport; limits: LimitsReport }> {
  const opened = await openNodeWebGpu();
  if (!opened.ok) throw new EngineError('BACKEND_INIT_FAILED', opened.reason);
  // Node 20 has no navigator; Node 21+ has one without `gpu`: keep it and add `gpu`.
  const globals = globalThis as Record<string, unknown>;
  if (globals.navigator === undefined) globals.navigator = { userAgent: `node ${process.version}` };
  Object.defineProperty(globals.navigator, 'gpu', { value: opened.gpu, configurable: true, writable: true });

  const result = await initWebGpuBackend();
  if (!result.ok) throw new EngineError('BACKEND_INIT_FAILED', `--backend webgpu: ${result.reason}`);
  return { adapter: result.adapter, limits: result.limits };
}
