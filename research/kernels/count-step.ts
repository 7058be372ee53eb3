/**
 * Lab script (issue 23): dispatches, submits and uploads of one classifier training step on WebGPU in
 * Node (Dawn), with our kernels and with TensorFlow.js's stock ops, counted by the benchmark's
 * instrumentation. Model: the harness's micro keyword task, or `bert-mini`-sized with `mini`.
 *   npx tsx research/kernels/count-step.ts [micro|mini]
 */
import * as tf from '@tensorflow/tfjs';
import { bertPreset, type BertConfig } from '../../src/engine/bert/config';
import { disposeBertParams, initBertParams } from '../../src/engine/bert/params';
import { Counters } from '../../src/engine/bench/instrument';
import { setKernelMode, type KernelMode } from '../../src/engine/kernels/mode';
import { classifierTraining } from '../../src/engine/methods/classifier';
import { initNodeBackend } from '../../src/engine/tf/node';
import type { EncodedExample } from '../../src/engine/train/batches';

const size = process.argv[2] === 'mini' ? 'mini' : 'micro';
await initNodeBackend('webgpu');

async function count(mode: KernelMode) {
  setKernelMode(mode);
  const config: BertConfig = bertPreset(size, {
    vocab_size: 64,
    max_position_embeddings: 32,
    id2label: { 0: 'neg', 1: 'pos' },
    label2id: { neg: 0, pos: 1 },
  });
  const params = initBertParams(config, 1);
  const examples: EncodedExample[] = Array.from({ length: 16 }, (_, i) => ({
    inputIds: [2, ...Array.from({ length: 12 }, (_, j) => 20 + ((i * 7 + j * 3) % 40)), 3],
    label: i % 2,
  }));
  const trainer = classifierTraining(params, config, ['neg', 'pos'], examples, [], {
    epochs: 4,
    batchSize: 16,
    learningRate: 1e-3,
    maxLength: 16,
    seed: 3,
    lossReadEvery: 1000,
  });
  await trainer.runStep(); // warm: compiles the programs
  await trainer.runStep();
  const counters = Counters.install();
  const steps = 2;
  for (let i = 0; i < steps; i++) await trainer.runStep();
  const c = counters.snapshot();
  counters.uninstall();
  await trainer.finish();
  trainer.dispose();
  disposeBertParams(params, config);
  return {
    mode,
    dispatchesPerStep: c.dispatches / steps,
    submitsPerStep: c.submits / steps,
    uploadsPerStep: c.uploads / steps,
    kernelsPerStep: c.kernels / steps,
  };
}

console.log(JSON.stringify({ size, results: [await count('stock'), await count('fused')] }));
