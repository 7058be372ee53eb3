/**
 * Node runner of the training-step benchmark on the CLI's backends: tfjs-backend-wasm (default) or
 * WebGPU through Dawn's Node bindings (docs/ARCHITECTURE.md, "Backends").
 * Usage: npx tsx bench/node.ts '<json array of cases>' [wasm|webgpu]
 *   case: { preset, batchSize, seqLen, objective?, kernels?, warmupSteps, steps, budgetS } (bench/protocol.ts)
 * Progress goes to stderr; each result is printed to stdout as one line `RESULT <json>`.
 */
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend, nodeBackendReport } from '../src/engine/tf/node';
import { benchCaseName, benchmarkTrainStep } from '../src/engine/bench/train-step';
import type { CaseSpec } from './protocol';

async function main(): Promise<void> {
  const cases = JSON.parse(process.argv[2] ?? '[]') as CaseSpec[];
  const backend = process.argv[3] === 'webgpu' ? 'webgpu' : 'wasm';
  await initNodeBackend(backend);
  const report = nodeBackendReport();
  const capability = {
    backend: tf.getBackend(),
    adapter: report?.adapter ?? null,
    limits: report?.limits ?? null,
    // The wasm flags exist only once the wasm backend is loaded.
    ...(backend === 'wasm'
      ? {
          wasmThreads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'),
          wasmSimd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
        }
      : {}),
    tfjsVersion: tf.version.tfjs,
  };
  process.stdout.write(`CAPABILITY ${JSON.stringify(capability)}\n`);
  for (const c of cases) {
    try {
      const result = await benchmarkTrainStep({
        preset: c.preset,
        batchSize: c.batchSize,
        seqLen: c.seqLen,
        objective: c.objective,
        kernels: c.kernels,
        warmupSteps: c.warmupSteps,
        steps: c.steps,
        timeBudgetMs: c.budgetS * 1000,
        onLog: (m) => process.stderr.write(`[node-${backend}] ${m}\n`),
      });
      process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      process.stdout.write(
        `ERROR ${JSON.stringify({ case: benchCaseName(c.preset, c.batchSize, c.seqLen, c.objective ?? 'classifier'), error: message })}\n`,
      );
    }
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
