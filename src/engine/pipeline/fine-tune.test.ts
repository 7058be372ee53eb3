import { beforeAll, describe, expect, it } from 'vitest';
import { bertPreset } from '../bert/config';
import { EngineError } from '../errors';
import { initNodeBackend } from '../tf/node';
import type { Example } from '../data/dataset';
import { loadModelFromDir } from './node';
import { estimateTrainingMemory, planMemory, prepareFineTune } from './fine-tune';

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

describe('prepareFineTune', () => {
  it('splits a stratified dev set, picks defaults, and encodes with the tokenizer', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    const prepared = prepareFineTune(model, { train: balanced(40) }, { seed: 1 });
    expect(prepared.autoSplit).toBe(true);
    expect(prepared.labels.sort()).toEqual(['neg', 'pos']);
    expect(prepared.train.length + prepared.dev.length).toBe(40);
    expect(prepared.dev.length).toBe(8);
    expect(prepared.options.maxLength % 8).toBe(0);
    expect(prepared.options.learningRate).toBeGreaterThan(0);
    model.dispose();
  });

  it('drops empty and whitespace-only texts and reports them with row numbers', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    const data = [...balanced(20), { text: '   ', label: 'pos' }, { text: '', label: 'neg' }];
    const prepared = prepareFineTune(model, { train: data }, {});
    const empty = prepared.issues.find((i) => i.code === 'EMPTY_TEXT')!;
    expect(empty.rows).toEqual([20, 21]);
    expect(empty.message).toMatch(/21, 22|21 and 22|rows? 21/);
    expect(prepared.train.length + prepared.dev.length).toBe(20);
    model.dispose();
  });

  it('truncates texts longer than max length and counts them', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    const long = 'the cat sat on the mat '.repeat(20);
    const data = [...balanced(20), { text: long, label: 'pos' }, { text: long, label: 'neg' }];
    const prepared = prepareFineTune(model, { train: data, dev: balanced(6) }, { maxLength: 16 });
    expect(prepared.truncated.train).toBe(2);
    expect(prepared.train.every((e) => e.inputIds.length <= 16)).toBe(true);
    model.dispose();
  });

  it('refuses one-class data and dev labels that never occur in training, before training', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    expect(() =>
      prepareFineTune(model, {
        train: rows([
          ['a', 'x'],
          ['b', 'x'],
          ['c', 'x'],
        ]),
      }),
    ).toThrow(EngineError);
    expect(() => prepareFineTune(model, { train: balanced(10), dev: rows([['the cat', 'martian']]) })).toThrow(
      /martian/,
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
