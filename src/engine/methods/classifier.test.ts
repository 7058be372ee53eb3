import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bertPreset } from '../bert/config';
import { disposeBertParams, initBertParams, type BertParams } from '../bert/params';
import type { BertConfig } from '../bert/config';
import { initNodeBackend } from '../tf/node';
import { batchFromRows, type Batch, type EncodedExample } from '../train/batches';
import type { ProgressInfo } from '../train/loop';
import { balancedClassWeights, classifierTraining } from './classifier';

/** Vocabulary size of the synthetic task: small so the micro model learns it in a few steps. */
const VOCAB = 64;

function microConfig(labels: string[]): BertConfig {
  const id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
  return bertPreset('micro', {
    vocab_size: VOCAB,
    max_position_embeddings: 32,
    id2label,
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
  });
}

/**
 * A learnable toy task: label = which "keyword" (token 10 + label) appears among random filler
 * tokens. Ids: 0 [PAD], 2 [CLS], 3 [SEP], fillers 20..63.
 */
function keywordExamples(count: number, numLabels: number, seed: number): EncodedExample[] {
  let state = seed;
  const rand = (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  return Array.from({ length: count }, (_, i) => {
    const label = i % numLabels;
    const length = 4 + rand(8);
    const body = Array.from({ length }, () => 20 + rand(VOCAB - 20));
    body[rand(length)] = 10 + label;
    return { inputIds: [2, ...body, 3], label };
  });
}

let params: BertParams | null = null;
let config: BertConfig | null = null;

beforeAll(async () => {
  await initNodeBackend('wasm');
});

afterEach(() => {
  if (params && config) disposeBertParams(params, config);
  params = null;
});

describe('classifier-head training on the one loop', () => {
  it('overfits 32 labeled examples to 100% train accuracy', async () => {
    const labels = ['neg', 'pos'];
    config = microConfig(labels);
    params = initBertParams(config, 1);
    const train = keywordExamples(32, 2, 7);
    const trainer = classifierTraining(params, config, labels, train, train, {
      epochs: 30,
      batchSize: 8,
      learningRate: 3e-3,
      maxLength: 16,
      seed: 3,
      dropout: false,
    });
    const before = await trainer.objective.evaluateOn(train);
    while (await trainer.runStep()) {
      /* keep stepping */
    }
    const summary = await trainer.finish();
    const after = await trainer.objective.evaluateOn(train);
    trainer.dispose();
    expect(before.accuracy).toBeLessThan(0.9);
    expect(after.accuracy).toBe(1);
    expect(summary.restored).toBe('best');
    expect(summary.bestMetrics?.accuracy).toBe(1);
  });

  it('is deterministic: same seed, same losses (with dropout)', async () => {
    const labels = ['a', 'b', 'c'];
    const runOnce = async () => {
      const cfg = microConfig(labels);
      const p = initBertParams(cfg, 5);
      const losses: number[] = [];
      const trainer = classifierTraining(
        p,
        cfg,
        labels,
        keywordExamples(24, 3, 9),
        [],
        {
          epochs: 2,
          batchSize: 8,
          learningRate: 1e-3,
          maxLength: 16,
          seed: 11,
          lossReadEvery: 1,
        },
        { onProgress: (info) => losses.push(...info.losses.map((l) => l.loss)) },
      );
      while (await trainer.runStep()) {
        /* run */
      }
      await trainer.finish();
      trainer.dispose();
      disposeBertParams(p, cfg);
      return losses;
    };
    const first = await runOnce();
    const second = await runOnce();
    expect(first).toHaveLength(6);
    expect(second).toEqual(first);
  });

  it('keeps the number of live tensors flat between step 10 and step 200', async () => {
    const labels = ['neg', 'pos'];
    config = microConfig(labels);
    params = initBertParams(config, 2);
    const train = keywordExamples(40, 2, 3);
    const trainer = classifierTraining(params, config, labels, train, train.slice(0, 8), {
      epochs: 40,
      batchSize: 8,
      learningRate: 1e-3,
      maxLength: 16,
      seed: 1,
      lossReadEvery: 5,
    });
    let atStep10 = -1;
    while (await trainer.runStep()) {
      if (trainer.step === 10) atStep10 = tf.memory().numTensors;
      if (trainer.step === 200) break;
    }
    const atStep200 = tf.memory().numTensors;
    expect(trainer.step).toBe(200);
    expect(atStep200).toBe(atStep10);
    await trainer.finish();
    trainer.dispose();
  });

  it('stops on a NaN/Inf loss, restores good weights and suggests a lower learning rate', async () => {
    const labels = ['neg', 'pos'];
    config = microConfig(labels);
    params = initBertParams(config, 4);
    const train = keywordExamples(16, 2, 5);
    const before = await params.classifier.w.data();
    const logs: string[] = [];
    const trainer = classifierTraining(
      params,
      config,
      labels,
      train,
      [],
      {
        epochs: 20,
        batchSize: 8,
        learningRate: 1e30,
        maxLength: 16,
        seed: 1,
        maxGradNorm: 0,
        warmupRatio: 0,
        schedule: 'constant',
        lossReadEvery: 1,
      },
      { onLog: (_level, message) => logs.push(message) },
    );
    while (await trainer.runStep()) {
      /* diverge */
    }
    const summary = await trainer.finish();
    trainer.dispose();
    expect(summary.reason).toBe('diverged');
    expect(summary.restored).toBe('initial');
    expect(summary.message).toMatch(/lower learning rate/);
    expect(logs.join('\n')).toMatch(/NaN|infinite/);
    expect(Array.from(await params.classifier.w.data())).toEqual(Array.from(before));
  });

  it('stop keeps the best checkpoint', async () => {
    const labels = ['neg', 'pos'];
    config = microConfig(labels);
    params = initBertParams(config, 6);
    // The dev set is 24 rows (the 16 training rows and 8 more): on fewer than SMALL_DEV_ROWS (20)
    // the loop keeps the last weights instead of the best (tested in train/loop-best.test.ts).
    const dev = keywordExamples(24, 2, 8);
    const train = dev.slice(0, 16);
    const evaluated: { step: number; f1: number; best: boolean }[] = [];
    const trainer = classifierTraining(
      params,
      config,
      labels,
      train,
      dev,
      {
        epochs: 50,
        batchSize: 8,
        learningRate: 2e-3,
        maxLength: 16,
        seed: 2,
        evalEvery: 1,
      },
      { onEvaluated: (e) => evaluated.push({ step: e.step, f1: e.metrics.macroF1, best: e.isBest }) },
    );
    for (let i = 0; i < 12; i++) await trainer.runStep();
    const summary = await trainer.finish('stopped');
    const bestEval = evaluated.filter((e) => e.best).at(-1)!;
    const nowMetrics = await trainer.objective.evaluateOn(dev);
    trainer.dispose();
    expect(summary.reason).toBe('stopped');
    expect(summary.restored).toBe('best');
    expect(summary.bestStep).toBe(bestEval.step);
    expect(nowMetrics.macroF1).toBeCloseTo(bestEval.f1, 6);
  });

  it('computes balanced class weights', () => {
    expect(balancedClassWeights([0, 0, 0, 1], 2)).toEqual([4 / 6, 2]);
  });

  it('reports progress with learning rate, throughput and ETA', async () => {
    const labels = ['neg', 'pos'];
    config = microConfig(labels);
    params = initBertParams(config, 9);
    const reports: ProgressInfo[] = [];
    const trainer = classifierTraining(
      params,
      config,
      labels,
      keywordExamples(16, 2, 1),
      [],
      {
        epochs: 4,
        batchSize: 4,
        learningRate: 1e-3,
        maxLength: 16,
        seed: 1,
        lossReadEvery: 4,
      },
      { onProgress: (p) => reports.push(p) },
    );
    while (await trainer.runStep()) {
      /* run */
    }
    await trainer.finish();
    trainer.dispose();
    expect(reports.at(-1)!.step).toBe(16);
    // The first step is read at once (its end tells when the GPU programs are compiled), then every 4th.
    expect(reports.map((r) => r.losses.length)).toEqual([1, 3, 4, 4, 4]);
    expect(reports.every((r) => r.examplesPerSecond > 0 && r.learningRate >= 0)).toBe(true);
    // No time left from the first step alone: its pace includes compiling.
    expect(reports[0].etaSeconds).toBeNull();
    expect(reports.slice(1).every((r) => r.etaSeconds !== null && r.etaSeconds >= 0)).toBe(true);
    expect(reports.at(-1)!.etaSeconds).toBe(0);
    const first = reports[0].firstStepSeconds!;
    expect(first).toBeGreaterThan(0);
    expect(reports.every((r) => r.firstStepSeconds === first)).toBe(true);
  });
});

describe('gradient accumulation', () => {
  it('two micro-batches of 4 take the same step as one batch of 8', async () => {
    const labels = ['neg', 'pos'];
    const cfg = microConfig(labels);
    const examples = keywordExamples(8, 2, 21).map((e) => ({
      ...e,
      inputIds: [...Array.from(e.inputIds), ...new Array<number>(16 - e.inputIds.length).fill(0)],
    }));
    const rowsOf = (list: typeof examples) =>
      batchFromRows({
        inputIds: list.map((e) => Array.from(e.inputIds)),
        tokenTypeIds: list.map(() => new Array(16).fill(0)),
        attentionMask: list.map((e) => Array.from(e.inputIds, (id) => (id === 0 ? 0 : 1))),
        labels: list.map((e) => e.label),
      });
    const run = async (plan: Batch[], accum: number) => {
      const p = initBertParams(cfg, 8);
      const losses: number[] = [];
      const trainer = classifierTraining(
        p,
        cfg,
        labels,
        examples,
        [],
        {
          epochs: 1,
          batchSize: 8,
          learningRate: 1e-3,
          maxLength: 16,
          seed: 1,
          dropout: false,
          gradAccumSteps: accum,
          lossReadEvery: 1,
          schedule: 'constant',
          warmupRatio: 0,
        },
        { onProgress: (info) => losses.push(...info.losses.map((l) => l.loss)) },
        { batchPlan: plan },
      );
      while (await trainer.runStep()) {
        /* one step */
      }
      await trainer.finish();
      trainer.dispose();
      const weights = Array.from(await p.classifier.w.data());
      disposeBertParams(p, cfg);
      return { losses, weights };
    };
    const whole = await run([rowsOf(examples)], 1);
    const split = await run([rowsOf(examples.slice(0, 4)), rowsOf(examples.slice(4))], 2);
    expect(split.losses).toHaveLength(1);
    expect(split.losses[0]).toBeCloseTo(whole.losses[0], 5);
    split.weights.forEach((w, i) => expect(w).toBeCloseTo(whole.weights[i], 5));
  });
});
