import { beforeAll, describe, expect, it } from 'vitest';
import { bertPreset } from '../bert/config';
import { EngineError } from '../errors';
import { initNodeBackend } from '../tf/node';
import type { Example } from '../data/dataset';
import { loadModelFromDir } from './node';
import { planFineTune, startFineTune } from './fine-tune';
import { estimateTrainingMemory, planMemory } from './memory';

const GOLDEN_DIR = 'tests/fixtures/golden-micro/model';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

const rows = (pairs: [string, string | null][]): Example[] => pairs.map(([text, label]) => ({ text, label }));
const balanced = (n: number): Example[] =>
  Array.from({ length: n }, (_, i) => ({
    text: `the ${i % 2 ? 'cat' : 'dog'} sat ${'on the mat '.repeat(i % 3)}${i}`,
    label: i % 2 ? 'pos' : 'neg',
  }));

describe('planFineTune', () => {
  it('splits a stratified dev set, picks defaults, and encodes with the tokenizer', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    const plan = planFineTune(model, { train: balanced(40) }, { kind: 'head' }, { seed: 1 });
    expect(plan.autoSplit).toBe(true);
    expect(plan.labels.sort()).toEqual(['neg', 'pos']);
    expect(plan.trainCount + plan.devCount).toBe(40);
    expect(plan.devCount).toBe(8);
    expect(plan.maxLength % 8).toBe(0);
    expect(plan.learningRate).toBeGreaterThan(0);
    model.dispose();
  });

  it('drops empty and whitespace-only texts and reports them with row numbers', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    const data = [...balanced(20), { text: '   ', label: 'pos' }, { text: '', label: 'neg' }];
    const plan = planFineTune(model, { train: data }, { kind: 'head' });
    const empty = plan.issues.find((i) => i.code === 'EMPTY_TEXT')!;
    expect(empty.rows).toEqual([20, 21]);
    expect(empty.message).toMatch(/rows 21, 22\./);
    expect(plan.trainCount + plan.devCount).toBe(20);
    model.dispose();
  });

  it('truncates texts longer than max length and counts them', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    const long = 'the cat sat on the mat '.repeat(20);
    const data = [...balanced(20), { text: long, label: 'pos' }, { text: long, label: 'neg' }];
    const plan = planFineTune(model, { train: data, dev: balanced(6) }, { kind: 'head' }, { maxLength: 16 });
    expect(plan.truncated.train).toBe(2);
    expect(plan.maxLength).toBe(16);
    expect(plan.auto).not.toContain('maxLength');
    model.dispose();
  });

  it('refuses one-class data and dev labels that never occur in training, before training', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    const oneClass = rows([
      ['a', 'x'],
      ['b', 'x'],
      ['c', 'x'],
    ]);
    expect(() => planFineTune(model, { train: oneClass }, { kind: 'head' })).toThrow(EngineError);
    expect(() =>
      planFineTune(model, { train: balanced(10), dev: rows([['the cat', 'martian']]) }, { kind: 'head' }),
    ).toThrow(/martian/);
    model.dispose();
  });
});

describe('startFineTune', () => {
  it('trains by method through the one loop and leaves the model with what it learned', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    const settings = { epochs: 2, batchSize: 8, learningRate: 1e-3, seed: 3 };
    const run = startFineTune(model, { train: balanced(40) }, { kind: 'head' }, settings);
    // What the user set is echoed; everything else was chosen and is named in `auto`.
    expect(run.plan.settings).toMatchObject({ epochs: 2, batchSize: 8, learningRate: 1e-3, seed: 3 });
    expect(run.plan.auto).toEqual(expect.arrayContaining(['maxLength', 'weightDecay', 'evalEvery', 'patience']));
    expect(run.plan.auto).not.toContain('epochs');
    expect(model.labels).toEqual(run.plan.labels);
    expect(model.hasTrainedClassifier).toBe(false);
    while (await run.loop.runStep()) {
      /* every step */
    }
    expect(run.loop.step).toBe(run.plan.totalSteps);
    const summary = await run.finish();
    expect(summary.reason).toBe('completed');
    expect(model.hasTrainedClassifier).toBe(true);
    const metrics = await run.evaluate(run.plan.devExamples);
    expect(metrics.n).toBe(run.plan.devCount);
    await expect(run.evaluate([{ text: 'x', label: 'martian' }])).rejects.toMatchObject({ code: 'EVAL_UNKNOWN_LABEL' });
    run.dispose();
    model.dispose();
  });

  it('the prompt method resolves its built-in template and label words and echoes them', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    // Label names that are vocabulary words become the label words.
    const rows = balanced(20).map((r) => ({ ...r, label: r.label === 'pos' ? 'good' : 'bad' }));
    const plan = planFineTune(model, { train: rows }, { kind: 'prompt' }, { seed: 1 });
    expect(plan.method).toBe('prompt');
    expect(plan.prompt?.template).toContain('[MASK]');
    expect(plan.prompt!.verbalizer).toEqual({ good: ['good'], bad: ['bad'] });
    // The template's own tokens come on top of the text's budget.
    expect(plan.maxLength).toBeGreaterThan(plan.settings.maxLength);
    expect(() => planFineTune(model, { train: rows }, { kind: 'prompt' }, { classWeights: 'balanced' })).toThrow(
      /classifier-head method only/,
    );
    model.dispose();
  });
});

describe('planMemory', () => {
  const config = bertPreset('base');
  const parameters = 110_000_000;

  it('keeps the batch when the step fits', () => {
    const plan = planMemory(config, parameters, 16, 1, 128, null);
    expect(plan).toMatchObject({ batchSize: 16, gradAccumSteps: 1, note: null });
  });

  it('halves the batch and raises accumulation to keep the effective batch, and says so', () => {
    const full = estimateTrainingMemory(config, 32, 128, parameters).totalBytes;
    const plan = planMemory(config, parameters, 32, 1, 128, { totalBudgetBytes: full * 0.6, maxBufferBytes: 2 ** 30 });
    expect(plan.batchSize * plan.gradAccumSteps).toBe(32);
    expect(plan.batchSize).toBeLessThan(32);
    expect(plan.note).toMatch(/Batch size 32 .* batch \d+ × \d+ accumulation/);
  });

  it('refuses with the memory needed when even one example does not fit', () => {
    expect(() =>
      planMemory(config, parameters, 8, 1, 512, { totalBudgetBytes: 2 ** 28, maxBufferBytes: 2 ** 28 }),
    ).toThrow(/TRAIN_OUT_OF_MEMORY|GiB/);
  });
});
