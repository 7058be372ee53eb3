/** Benchmark worker: initialises the requested backend (like the studio's engine worker), runs one case. */
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { initBestBackend } from '../src/engine/backend';
import { registerWasmKernels } from '../src/engine/tf/kernels';
import { benchmarkTrainStep } from '../src/engine/bench/train-step';
import type { RunRequest, WorkerReply } from './protocol';

const post = (message: WorkerReply) => (self as unknown as { postMessage(m: WorkerReply): void }).postMessage(message);

self.addEventListener('message', (event: MessageEvent<RunRequest>) => {
  const { backend, spec } = event.data;
  void (async () => {
    try {
      const capability = await initBestBackend({
        override: backend,
        wasmPaths: {
          'tfjs-backend-wasm.wasm': wasmPlainUrl,
          'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
          'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
        },
      });
      registerWasmKernels();
      post({ type: 'capability', capability });
      if (capability.backend !== backend) {
        post({
          type: 'error',
          message: `backend ${backend} unavailable (got ${capability.backend}): ${capability.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`,
        });
        return;
      }
      const result = await benchmarkTrainStep({
        preset: spec.preset,
        batchSize: spec.batchSize,
        seqLen: spec.seqLen,
        objective: spec.objective,
        kernels: spec.kernels,
        warmupSteps: spec.warmupSteps,
        steps: spec.steps,
        timeBudgetMs: spec.budgetS * 1000,
        onLog: (message) => post({ type: 'log', message }),
      });
      post({ type: 'result', result });
    } catch (error) {
      post({ type: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    }
  })();
});
