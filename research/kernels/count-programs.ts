/**
 * Lab script (issue 23): which programs one training step dispatches on WebGPU in Node (Dawn), by
 * name (tfjs's by class, ours by shader key), with our kernels. Same step as count-step.ts.
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json npx tsx research/kernels/count-programs.ts [micro|mini] [stock|fused]
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { bertPreset, type BertConfig } from '../../src/engine/bert/config';
import { disposeBertParams, initBertParams } from '../../src/engine/bert/params';
import { setKernelMode, type KernelMode } from '../../src/engine/kernels/mode';
import { classifierTraining } from '../../src/engine/methods/classifier';
import { initNodeBackend } from '../../src/engine/tf/node';
import type { EncodedExample } from '../../src/engine/train/batches';

const size = process.argv[2] === 'mini' ? 'mini' : 'micro';
const mode = (process.argv[3] ?? 'fused') as KernelMode;
await initNodeBackend('webgpu');
const backend = tf.backend() as unknown as WebGPUBackend;
const tally = new Map<string, number>();
let counting = false;
const run = backend.runWebGPUProgram.bind(backend);
backend.runWebGPUProgram = ((program: WebGPUProgram, ...rest: unknown[]) => {
  if (counting) {
    const name = program.shaderKey?.startsWith('fewshot_')
      ? program.shaderKey.replace(/^(fewshot_[a-z_]+?)(_\d.*)?$/, '$1')
      : program.constructor.name;
    tally.set(name, (tally.get(name) ?? 0) + 1);
  }
  return (run as (...a: unknown[]) => tf.TensorInfo)(program, ...rest);
}) as typeof backend.runWebGPUProgram;

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
await trainer.runStep();
counting = true;
await trainer.runStep();
counting = false;
await trainer.finish();
trainer.dispose();
disposeBertParams(params, config);
const total = [...tally.values()].reduce((a, b) => a + b, 0);
console.log(JSON.stringify({ size, mode, total, programs: Object.fromEntries([...tally].sort((a, b) => b[1] - a[1])) }, null, 1));
