/**
 * Lab script (issue 23, Build 1): does tfjs-webgpu's deferred submit batching train wrongly, in Node
 * on Dawn? Runs the e2e harness's overfit task (micro model, 32 keyword examples, clipping on) with
 * WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE = argv[2] and prints the losses and the accuracy after.
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json npx tsx research/webgpu-batching/overfit.ts 15 [webgpu-pkg-dir]
 */
import * as tf from '@tensorflow/tfjs';
import { bertPreset, type BertConfig } from '../../src/engine/bert/config';
import { disposeBertParams, initBertParams } from '../../src/engine/bert/params';
import { classifierTraining } from '../../src/engine/methods/classifier';
import type { EncodedExample } from '../../src/engine/train/batches';

const batch = Number(process.argv[2] ?? 1);
const pkg = process.argv[3] ?? 'webgpu';
const { create, globals } = await import(pkg);
Object.assign(globalThis, globals);
(globalThis as unknown as { navigator: object }).navigator = { gpu: create([]), userAgent: 'node' };
await import('@tensorflow/tfjs-backend-webgpu');
if (!(await tf.setBackend(process.env.BACKEND ?? 'webgpu'))) throw new Error('no backend');
await tf.ready();
tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', batch);
let submits = 0;
const queue = (tf.backend() as unknown as { queue?: { submit: (b: unknown) => void } }).queue;
if (queue) {
  const submit = queue.submit.bind(queue);
  queue.submit = (b: unknown) => {
    submits++;
    submit(b);
  };
}

const labels = ['neg', 'pos'];
const config: BertConfig = bertPreset('micro', {
  vocab_size: 64,
  max_position_embeddings: 32,
  id2label: { 0: 'neg', 1: 'pos' },
  label2id: { neg: 0, pos: 1 },
});
const params = initBertParams(config, 1);
let state = 7;
const rand = (n: number) => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state % n;
};
const examples: EncodedExample[] = Array.from({ length: 32 }, (_, i) => {
  const label = i % 2;
  const length = 4 + rand(8);
  const body = Array.from({ length }, () => 20 + rand(44));
  body[rand(length)] = 10 + label;
  return { inputIds: [2, ...body, 3], label };
});
const losses: number[] = [];
const trainer = classifierTraining(
  params,
  config,
  labels,
  examples,
  examples,
  { epochs: 8, batchSize: 16, learningRate: 1e-2, maxLength: 16, seed: 3, dropout: false, lossReadEvery: 8 },
  { onProgress: (p) => losses.push(...p.losses.map((l) => l.loss)) },
);
const before = await trainer.objective.evaluateOn(examples);
while (await trainer.runStep()) {
  /* train */
}
await trainer.finish();
const after = await trainer.objective.evaluateOn(examples);
console.log(
  JSON.stringify({
    backend: tf.getBackend(),
    batch,
    before: before.accuracy,
    after: after.accuracy,
    steps: trainer.step,
    submitsPerStep: Number((submits / trainer.step).toFixed(1)),
    losses: losses.map((l) => Number(l.toFixed(4))),
  }),
);
trainer.dispose();
disposeBertParams(params, config);
