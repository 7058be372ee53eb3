/**
 * Lab script (issue 23): where a training step's GPU time goes, per program, with our kernels and
 * with the stock ops, from WebGPU timestamp queries (tfjs's `tf.time`, which times every program it
 * records when the device has `timestamp-query`; Dawn's adapter in Node offers it, SwiftShader
 * included). One classifier step of the benchmark's protocol (dropout on, AdamW with clipping) after
 * one warm-up step. Our programs are named after their shader (`fewshot_*`), tfjs's after their class.
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json npx tsx research/kernels/kernel-times.ts [preset] [seq]
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { bertPreset, type BertPresetName } from '../../src/engine/bert/config';
import { disposeBertParams, initBertParams } from '../../src/engine/bert/params';
import { setKernelMode, type KernelMode } from '../../src/engine/kernels/mode';
import { ClassifierObjective } from '../../src/engine/methods/classifier';
import { initNodeBackend } from '../../src/engine/tf/node';
import { makeBatches, type EncodedExample } from '../../src/engine/train/batches';
import { dropoutSeedFor, trainStep } from '../../src/engine/train/loop';
import { AdamW } from '../../src/engine/train/optim';

const preset = (process.argv[2] ?? 'mini') as BertPresetName;
const seqLen = Number(process.argv[3] ?? 64);
const batchSize = 16;
await initNodeBackend('webgpu');
const backend = tf.backend() as unknown as WebGPUBackend;
if (!(backend as unknown as { supportTimestampQuery: boolean }).supportTimestampQuery) throw new Error('this WebGPU device has no timestamp-query: no per-program times');

// tfjs names each timed program by its class; ours share a few classes, so name them by shader.
const run = backend.runWebGPUProgram.bind(backend);
backend.runWebGPUProgram = ((program: WebGPUProgram, ...rest: unknown[]) => {
  if (program.shaderKey.startsWith('fewshot_')) {
    const base = program.shaderKey.replace(/^(fewshot_[a-z_]+?)(_\d.*)?$/, '$1');
    Object.defineProperty(program, 'constructor', { value: { name: base }, configurable: true });
  }
  return (run as (...a: unknown[]) => tf.TensorInfo)(program, ...rest);
}) as typeof backend.runWebGPUProgram;

async function profile(mode: KernelMode) {
  setKernelMode(mode);
  const config = bertPreset(preset, { id2label: { 0: 'a', 1: 'b' }, max_position_embeddings: 512 });
  const params = initBertParams(config, 0);
  const examples: EncodedExample[] = Array.from({ length: batchSize }, (_, i) => ({
    inputIds: [101, ...Array.from({ length: seqLen - 2 }, (_, t) => 1000 + ((i * 131 + t * 17) % 20000)), 102],
    label: i % 2,
  }));
  const [batch] = makeBatches(examples, { batchSize, maxLength: seqLen, padMultiple: 1, shuffle: false, seed: 0 });
  const settings = { epochs: 1, batchSize, learningRate: 5e-5, maxLength: seqLen, seed: 0 };
  const objective = new ClassifierObjective(params, config, ['a', 'b'], examples, [], settings);
  const optimizer = new AdamW(
    objective.parameters.map((p) => ({ name: p.name, variable: p.variable })),
    { weightDecay: 0.01, maxGradNorm: 1 },
  );
  const step = (i: number) =>
    trainStep(objective, [batch], optimizer, 5e-5, { training: true, dropoutSeed: dropoutSeedFor(0, i) });
  const warm = step(0);
  await warm.data();
  warm.dispose();
  let loss: tf.Scalar | null = null;
  const timing = (await tf.time(() => {
    loss = step(1);
  })) as unknown as { kernelMs: number; wallMs: number; getExtraProfileInfo?: () => string };
  await (loss as unknown as tf.Scalar).data();
  (loss as unknown as tf.Scalar).dispose();
  const perProgram = new Map<string, { count: number; ms: number }>();
  // tfjs gives "name: ms, name: ms, …" (one entry per timed program).
  const entries = (timing.getExtraProfileInfo?.() ?? '').split(', ').filter(Boolean);
  for (const [name, ms] of entries.map((e) => [e.slice(0, e.lastIndexOf(': ')), Number(e.slice(e.lastIndexOf(': ') + 2))] as const)) {
    const entry = perProgram.get(name) ?? { count: 0, ms: 0 };
    entry.count += 1;
    entry.ms += ms;
    perProgram.set(name, entry);
  }
  optimizer.dispose();
  objective.dispose();
  disposeBertParams(params, config);
  return {
    mode,
    kernelMs: timing.kernelMs,
    wallMs: timing.wallMs,
    programs: [...perProgram]
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(([name, e]) => ({ name, count: e.count, ms: Math.round(e.ms * 10) / 10 })),
  };
}

console.log(JSON.stringify({ preset, batchSize, seqLen, results: [await profile('stock'), await profile('fused')] }));
