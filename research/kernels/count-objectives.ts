/**
 * Lab script (issue 23): dispatches, submits and uploads per step of the benchmark's three steps
 * (classifier, prompt, MLM) for a BERT preset on WebGPU in Node, stock ops vs our kernels, through
 * the benchmark's own `benchmarkTrainStep` with a small vocabulary and 16 tokens so that BERT-mini
 * runs in minutes on SwiftShader (the counts depend on neither; the bench's mini cases do not fit
 * its time budget there).
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json npx tsx research/kernels/count-objectives.ts [preset]
 */
import type { BertPresetName } from '../../src/engine/bert/config';
import { BENCH_OBJECTIVES, benchmarkTrainStep } from '../../src/engine/bench/train-step';
import { initNodeBackend } from '../../src/engine/tf/node';

const preset = (process.argv[2] ?? 'mini') as BertPresetName;
await initNodeBackend('webgpu');
const rows = [];
for (const objective of BENCH_OBJECTIVES) {
  for (const kernels of ['stock', 'fused'] as const) {
    const r = await benchmarkTrainStep({ preset, objective, kernels, batchSize: 16, seqLen: 16, steps: 1, vocabSize: 1000 });
    rows.push({ objective, mode: kernels, ...r.perStep });
    console.error(`${objective} ${kernels}: ${JSON.stringify(r.perStep)}`);
  }
}
console.log(JSON.stringify({ preset, batchSize: 16, seqLen: 16, vocabSize: 1000, rows }));
