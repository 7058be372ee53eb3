/**
 * tfjs backends for Node (CLI, tests, benchmarks). `@tensorflow/tfjs-node` does not install here
 * (docs/ARCHITECTURE.md, "Backends"), so Node runs on tfjs-backend-wasm (SIMD, one thread) or the pure-JS cpu backend.
 *
 * How wasm finds its binaries in Node: the package's Node entry (`dist/tf-backend-wasm.node.js`,
 * CommonJS) is an Emscripten build whose `locateFile` prefix is its own directory (`__dirname`),
 * and in Node Emscripten reads `tfjs-backend-wasm-simd.wasm` from there with `fs`. So nothing needs
 * `setWasmPaths` in Node; the browser worker passes bundler URLs instead (src/engine/backend.ts).
 * Threads: tfjs reports `WASM_HAS_MULTITHREAD_SUPPORT=false` in Node, so the single-threaded SIMD
 * binary is used; we also set it to false explicitly so a future Node cannot pick the pthread build
 * (which bootstraps through a Blob worker and does not work in Node).
 */
import * as tf from '@tensorflow/tfjs';
import { EngineError } from '../errors';
import { registerWasmKernels } from './kernels';

export type NodeBackendName = 'cpu' | 'wasm';

/**
 * Activates `name` (default wasm) and registers our extra kernels. Idempotent; switching between
 * cpu and wasm is allowed (tensors created on the other backend are moved lazily by tfjs).
 * Throws EngineError `BACKEND_INIT_FAILED` when the backend cannot start.
 */
export async function initNodeBackend(name: NodeBackendName = 'wasm'): Promise<NodeBackendName> {
  registerWasmKernels();
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
  return name;
}
