/**
 * Loop state as data: a run captured at step k (through the one-file form), restored into a fresh
 * loop on other starting weights, continues with exactly the losses of an uninterrupted run — for
 * the head, prompt, masked-LM and SetFit methods, dropout on. States of another method, model shape or
 * setting are refused, naming what differs.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { bertPreset, type BertConfig } from '../bert/config';
import { disposeBertParams, initBertParams, type BertParams } from '../bert/params';
import { classifierTraining } from '../methods/classifier';
import { maskedLmTraining } from '../methods/mlm';
import { promptTraining } from '../methods/prompt';
import { setfitTraining } from '../methods/setfit';
import { arrayCorpusSource } from '../pretrain/corpus';
import { goldenTokenizer, syntheticLines } from '../pretrain/test-support';
import { buildVerbalizer } from '../prompt/verbalizer';
import { encodePromptExamples } from '../prompt/zero-shot';
import { initNodeBackend } from '../tf/node';
import type { EncodedExample } from './batches';
import { deserializeLoopState, serializeLoopState, type LoopState } from './loop-state';
import type { TrainingLoop } from './loop';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

const tokenizer = goldenTokenizer();
const labels = ['neg', 'pos'];

function microConfig(vocab = tokenizer.vocabSize, hidden?: number): BertConfig {
  return bertPreset('micro', {
    vocab_size: vocab,
    max_position_embeddings: 32,
    ...(hidden ? { hidden_size: hidden, intermediate_size: 4 * hidden } : {}),
    id2label: { 0: 'neg', 1: 'pos' },
    label2id: { neg: 0, pos: 1 },
  });
}

/** Toy reviews over the golden vocabulary: the label is carried by good/bad words. */
function reviews(): { text: string; label: number }[] {
  const subjects = ['the movie', 'the film', 'this story', 'the book'];
  const pos = ['was good', 'made me happy', 'i loved it'];
  const neg = ['was bad', 'made me sad', 'i hated it'];
  const rows: { text: string; label: number }[] = [];
  for (const s of subjects)
    for (let i = 0; i < 3; i++) rows.push({ text: `${s} ${pos[i]}`, label: 1 }, { text: `${s} ${neg[i]}`, label: 0 });
  return rows;
}

function encoded(): EncodedExample[] {
  return reviews().map((r) => ({ inputIds: tokenizer.encode(r.text, null, {}).ids, label: r.label }));
}

type AnyLoop = TrainingLoop<unknown, unknown>;

interface MethodCase {
  name: string;
  steps: number;
  make: (params: BertParams, config: BertConfig, losses: number[], learningRate?: number) => Promise<AnyLoop>;
}

const settings = { epochs: 3, batchSize: 4, maxLength: 32, seed: 7, evalEvery: 2, lossReadEvery: 1 };
const record = (losses: number[]) => ({
  onProgress: (p: { losses: { loss: number }[] }) => losses.push(...p.losses.map((l) => l.loss)),
});

const METHODS: MethodCase[] = [
  {
    name: 'head',
    steps: 18,
    make: async (params, config, losses, learningRate = 2e-3) => {
      const data = encoded();
      return classifierTraining(
        params,
        config,
        labels,
        data,
        data.slice(0, 6),
        { ...settings, learningRate },
        record(losses),
      ) as unknown as AnyLoop;
    },
  },
  {
    name: 'prompt',
    steps: 18,
    make: async (params, config, losses, learningRate = 2e-3) => {
      const verbalizer = buildVerbalizer({ pos: 'great', neg: 'terrible' }, labels, tokenizer);
      const rows = reviews();
      const { examples } = encodePromptExamples(
        '{text} . it was [MASK] .',
        tokenizer,
        rows,
        rows.map((r) => r.label),
        32,
      );
      const unlabeled = rows.map((r) => ({ inputIds: tokenizer.encode(r.text, null, {}).ids, label: -1 }));
      const auxMlm = {
        examples: unlabeled,
        maskTokenId: tokenizer.maskTokenId!,
        specialIds: [...tokenizer.specialTokenIds],
      };
      return promptTraining(
        params,
        config,
        verbalizer,
        examples,
        examples.slice(0, 6),
        { ...settings, learningRate, auxMlm },
        record(losses),
      ) as unknown as AnyLoop;
    },
  },
  {
    name: 'mlm',
    steps: 10,
    make: async (params, config, losses, learningRate = 5e-3) => {
      const source = arrayCorpusSource([syntheticLines(300, 1)]);
      const options = {
        maxLength: 32,
        batchSize: 8,
        learningRate,
        totalSteps: 10,
        heldOutSequences: 8,
        seed: 5,
        evalEvery: 4,
        lossReadEvery: 1,
      };
      return (await maskedLmTraining(params, config, tokenizer, source, options, record(losses))) as unknown as AnyLoop;
    },
  },
  {
    name: 'setfit',
    // 24 examples, R = 1: 48 pairs, 6 batches of 8 pairs per epoch, 3 epochs.
    steps: 18,
    make: async (params, config, losses, learningRate = 2e-3) =>
      setfitTraining(
        params,
        config,
        encoded(),
        { ...settings, batchSize: 8, iterations: 1, learningRate },
        record(losses),
      ) as unknown as AnyLoop,
  },
];

async function runAll(loop: AnyLoop): Promise<void> {
  while (await loop.runStep()) {
    /* every step */
  }
  await loop.finish();
}

describe.each(METHODS)('loop state ($name method)', ({ name, steps, make }) => {
  it('a run restored at step k continues with exactly the losses of an uninterrupted run', async () => {
    const config = microConfig();
    const tensorsBefore = tf.memory().numTensors;

    // Uninterrupted.
    const fullParams = initBertParams(config, 1);
    const fullLosses: number[] = [];
    const full = await make(fullParams, config, fullLosses);
    await runAll(full);
    const fullWeights = await fullParams.embeddings.word.data();
    full.dispose();
    disposeBertParams(fullParams, config);
    expect(fullLosses).toHaveLength(steps);

    // Interrupted at step 5, through the one-file form.
    const k = 5;
    const firstParams = initBertParams(config, 1);
    const firstLosses: number[] = [];
    const first = await make(firstParams, config, firstLosses);
    for (let i = 0; i < k; i++) await first.runStep();
    const bytes = serializeLoopState(await first.captureState());
    first.dispose();
    disposeBertParams(firstParams, config);
    expect(firstLosses).toEqual(fullLosses.slice(0, k));

    // A fresh loop on different starting weights, restored.
    const secondParams = initBertParams(config, 99);
    const secondLosses: number[] = [];
    const second = await make(secondParams, config, secondLosses);
    second.restoreState(deserializeLoopState(bytes, `${name}.safetensors`));
    expect(second.step).toBe(k);
    await runAll(second);
    expect(secondLosses).toEqual(fullLosses.slice(k));
    expect(Array.from(await secondParams.embeddings.word.data())).toEqual(Array.from(fullWeights));
    second.dispose();
    disposeBertParams(secondParams, config);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});

describe('restoring a state that does not fit', () => {
  async function stateOf(method: MethodCase, config: BertConfig): Promise<LoopState> {
    const params = initBertParams(config, 1);
    const loop = await method.make(params, config, []);
    await loop.runStep();
    const state = await loop.captureState();
    loop.dispose();
    disposeBertParams(params, config);
    return state;
  }

  async function refusal(method: MethodCase, config: BertConfig, state: LoopState, learningRate?: number) {
    const params = initBertParams(config, 3);
    const before = Array.from(await params.embeddings.word.data());
    const loop = await method.make(params, config, [], learningRate);
    let error: unknown = null;
    try {
      loop.restoreState(state);
    } catch (e) {
      error = e;
    }
    // Nothing changed: same weights, still at step 0.
    expect(loop.step).toBe(0);
    expect(Array.from(await params.embeddings.word.data())).toEqual(before);
    loop.dispose();
    disposeBertParams(params, config);
    return error as { code: string; message: string };
  }

  it('refuses another method, naming both', async () => {
    const config = microConfig();
    const error = await refusal(METHODS[1], config, await stateOf(METHODS[0], config));
    expect(error.code).toBe('TRAIN_STATE_MISMATCH');
    expect(error.message).toMatch(/"head" method and this run uses "prompt"/);
  });

  it('refuses another model shape, naming the parameter and both shapes', async () => {
    const state = await stateOf(METHODS[0], microConfig());
    const wider = microConfig(tokenizer.vocabSize, 48);
    const error = await refusal(METHODS[0], wider, state);
    expect(error.code).toBe('TRAIN_STATE_MISMATCH');
    expect(error.message).toMatch(/shape \[\d+,32\] in the state but \[\d+,48\] in this model/);
  });

  it('refuses other settings, naming the field and both values', async () => {
    const config = microConfig();
    const error = await refusal(METHODS[0], config, await stateOf(METHODS[0], config), 1e-3);
    expect(error.code).toBe('TRAIN_STATE_MISMATCH');
    expect(error.message).toMatch(/learningRate: checkpoint 0.002, now 0.001/);
  });

  it('refuses a file that holds no training state', () => {
    expect(() => deserializeLoopState(new Uint8Array([1, 2, 3]), 'x.safetensors')).toThrow(/x\.safetensors/);
  });
});
