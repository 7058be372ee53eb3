import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bertPreset } from '../bert/config';
import { disposeBertParams, initBertParams } from '../bert/params';
import { initNodeBackend } from '../tf/node';
import { arrayCorpusSource } from '../pretrain/corpus';
import { fileCheckpointStore } from '../pretrain/node-store';
import { goldenTokenizer, memoryStore, syntheticLines } from '../pretrain/test-support';
import { LoopCheckpointer, type CheckpointStore } from '../train/checkpointer';
import type { StepLoss } from '../train/loop';
import { maskedLmTraining, type PretrainOptions } from './mlm';

const tok = goldenTokenizer();
const config = bertPreset('micro', { vocab_size: tok.vocabSize, max_position_embeddings: 32 });
const source = arrayCorpusSource([syntheticLines(400, 1), syntheticLines(200, 2)]);
const base: PretrainOptions = {
  maxLength: 32,
  batchSize: 8,
  learningRate: 5e-3,
  totalSteps: 12,
  warmupSteps: 2,
  heldOutSequences: 16,
  seed: 5,
  lossReadEvery: 1,
};

beforeAll(async () => {
  await initNodeBackend('wasm');
});

/**
 * Runs `steps` steps (all if undefined) on fresh weights (init seed `initSeed`), checkpointing to
 * `store` as the CLI does; returns losses, whether it resumed, and the final held-out evaluation.
 */
async function run(
  options: PretrainOptions,
  opts: {
    steps?: number;
    store?: CheckpointStore;
    resume?: boolean;
    initSeed?: number;
    checkpointEverySteps?: number;
  } = {},
) {
  const params = initBertParams(config, opts.initSeed ?? 0);
  const losses: StepLoss[] = [];
  const loop = await maskedLmTraining(params, config, tok, source, options, {
    onProgress: (p) => losses.push(...p.losses),
  });
  const checkpointer = opts.store
    ? new LoopCheckpointer(loop, opts.store, { everySteps: opts.checkpointEverySteps ?? 0, everyMinutes: 0 })
    : null;
  try {
    const resumed = opts.resume && checkpointer ? await checkpointer.resume() : false;
    for (let i = 0; opts.steps === undefined || i < opts.steps; i++) {
      const more = await loop.runStep();
      await checkpointer?.maybeSave();
      if (!more) break;
    }
    await loop.finish();
    const evaluation = await loop.evaluate();
    return { losses, resumed, step: loop.step, eval: evaluation!.metrics };
  } finally {
    loop.dispose();
    disposeBertParams(params, config);
  }
}

describe('masked-LM training on the one loop', () => {
  it('learns: loss falls and held-out MLM accuracy beats the unigram baseline', async () => {
    const before = tf.memory().numTensors;
    const { losses, eval: e } = await run({
      ...base,
      totalSteps: 120,
      warmupSteps: 10,
      learningRate: 1e-2,
      dropout: false,
    });
    const mean = (xs: StepLoss[]) => xs.reduce((s, l) => s + l.loss, 0) / xs.length;
    expect(losses).toHaveLength(120);
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)) * 0.6);
    expect(e.unigramBaseline).toBeGreaterThan(0.1);
    expect(e.accuracy).toBeGreaterThan(e.unigramBaseline + 0.05);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a run killed after its step-5 checkpoint and resumed gives the same losses as an uninterrupted run', async () => {
    const full = await run(base);
    const store = memoryStore();
    const killed = await run(base, { steps: 7, store, checkpointEverySteps: 5 });
    expect(killed.losses.map((l) => l.loss)).toEqual(full.losses.slice(0, 7).map((l) => l.loss));
    expect(store.saves).toBe(1); // step 5; steps 6-7 are lost with the "crash"
    const resumed = await run(base, { store, resume: true, initSeed: 99, checkpointEverySteps: 5 });
    expect(resumed.resumed).toBe(true);
    expect(resumed.losses.map((l) => l.step)).toEqual([6, 7, 8, 9, 10, 11, 12]);
    expect(resumed.losses.map((l) => l.loss)).toEqual(full.losses.slice(5).map((l) => l.loss));
    expect(resumed.eval.loss).toBe(full.eval.loss);
  });

  it('refuses to resume from a checkpoint of a different config, naming the fields', async () => {
    const store = memoryStore();
    await run({ ...base, totalSteps: 2 }, { store, checkpointEverySteps: 1 });
    const err = await run(
      { ...base, totalSteps: 2, learningRate: 1e-3, wholeWord: true },
      { store, resume: true },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TRAIN_STATE_MISMATCH' });
    expect(String((err as Error).message)).toMatch(/learningRate: checkpoint 0.005, now 0.001/);
    expect(String((err as Error).message)).toMatch(/wholeWord/);
  });

  it('keeps the previous checkpoint when writing a new one fails (disk full)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fewshot-ckpt-')), 'checkpoint.safetensors');
    let fail = false;
    const store = fileCheckpointStore(path, {
      writeFile: async (p, b) => {
        if (fail) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        const { writeFile } = await import('node:fs/promises');
        await writeFile(p, b);
      },
    });
    const every = { store, checkpointEverySteps: 1 };
    await run({ ...base, totalSteps: 3 }, { ...every, steps: 1 });
    const good = readFileSync(path);
    fail = true;
    await expect(run({ ...base, totalSteps: 3 }, { ...every, resume: true, steps: 1 })).rejects.toMatchObject({
      code: 'PRETRAIN_CHECKPOINT_WRITE_FAILED',
    });
    expect(readFileSync(path).equals(good)).toBe(true);
    fail = false;
    const resumed = await run({ ...base, totalSteps: 3 }, { ...every, resume: true, steps: 1 });
    expect(resumed.resumed).toBe(true);
    expect(resumed.step).toBe(2);
  });

  it('reports a corpus shorter than one batch', async () => {
    const tinySource = arrayCorpusSource([syntheticLines(6)]);
    const params = initBertParams(config, 0);
    const loop = await maskedLmTraining(params, config, tok, tinySource, {
      ...base,
      maxLength: 16,
      heldOutSequences: 1,
    });
    await expect(loop.runStep()).rejects.toMatchObject({ code: 'CORPUS_TOO_SMALL' });
    loop.dispose();
    disposeBertParams(params, config);
  });
});
