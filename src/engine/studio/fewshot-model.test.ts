import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { namedParams } from '../bert';
import { EngineError } from '../errors';
import { initNodeBackend } from '../tf/node';
import { loadModelFromDir, saveModelToDir } from './node';

const GOLDEN_DIR = 'tests/fixtures/golden-micro/model';
const golden = JSON.parse(readFileSync('tests/fixtures/golden-micro/golden.json', 'utf8'));

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe('FewShotModel on the golden micro checkpoint', () => {
  it('fill-mask returns the same top-5 as PyTorch', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    const [candidates] = await model.fillMask(golden.fill_mask.text, 5);
    const expected = golden.fill_mask.top5 ?? golden.fill_mask.top_k ?? golden.fill_mask.top;
    const expectedTokens = expected.map((e: { token: string }) => e.token);
    expect(candidates.map((c) => c.token)).toEqual(expectedTokens);
    expected.forEach((e: { probability?: number; prob?: number }, i: number) => {
      expect(Math.abs(candidates[i].probability - (e.probability ?? e.prob)!)).toBeLessThan(1e-4);
    });
    model.dispose();
  });

  it('summarises config and heads', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    const summary = model.summary();
    expect(summary.layers).toBe(2);
    expect(summary.hidden).toBe(32);
    expect(summary.labels).toHaveLength(3);
    expect(summary.freshHeads).toEqual([]);
    expect(summary.weightFormat).toBe('safetensors');
    model.dispose();
  });

  it('export → import is bit-exact and predicts the same', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    const out = mkdtempSync(join(tmpdir(), 'fewshot-export-'));
    await saveModelToDir(model, out);
    const again = await loadModelFromDir(out);
    const a = namedParams(model.params, model.config);
    const b = namedParams(again.params, again.config);
    expect(b.map((p) => p.name)).toEqual(a.map((p) => p.name));
    for (let i = 0; i < a.length; i++) {
      expect(
        Buffer.from((await b[i].variable.data()).buffer).equals(Buffer.from((await a[i].variable.data()).buffer)),
      ).toBe(true);
    }
    const texts = [{ text: 'the cat sat on the mat .' }, { text: 'a dog ran', textPair: 'the cat sat' }];
    expect(await again.predict(texts)).toEqual(await model.predict(texts));
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.architectures).toEqual(['BertForSequenceClassification']);
    expect(Object.values(config.id2label)).toEqual(model.labels);
    model.dispose();
    again.dispose();
  });

  it('setLabels swaps in a fresh classifier head only when labels change', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    const before = tf.memory().numTensors;
    expect(model.setLabels(model.labels)).toBe(false);
    expect(model.setLabels(['spam', 'ham'])).toBe(true);
    expect(model.labels).toEqual(['spam', 'ham']);
    expect(model.params.classifier.w.shape).toEqual([32, 2]);
    expect(model.summary().freshHeads).toEqual(['classifier']);
    expect(tf.memory().numTensors).toBe(before);
    const [p] = await model.predict([{ text: 'the cat' }]);
    expect(p.probabilities).toHaveLength(2);
    expect(() => model.setLabels(['only'])).toThrow(EngineError);
    model.dispose();
  });

  it('fill-mask without a mask token says where to put it', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    await expect(model.fillMask('the cat sat')).rejects.toThrow(/\[MASK\]/);
    model.dispose();
  });
});

describe('FewShotModel weights snapshot (runs start clean)', () => {
  it('restoreWeights puts back every weight, the labels and the prompt, and leaks no tensor', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    const texts = [{ text: 'the cat sat on the mat .' }];
    const before = await model.predict(texts);
    const labels = model.labels;
    const snapshot = await model.snapshotWeights();
    // What a run does: another head (other labels), a prompt, changed weights.
    model.setLabels(['a', 'b']);
    model.setPrompt({ template: '{text} It was [MASK].', verbalizer: { a: ['the'], b: ['a'] } });
    const word = namedParams(model.params, model.config)[0].variable;
    word.assign(tf.tidy(() => word.add(0.5)));
    expect(model.labels).toEqual(['a', 'b']);
    const tensors = tf.memory().numTensors;
    model.restoreWeights(snapshot);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(model.labels).toEqual(labels);
    expect(model.prompt).toBeNull();
    expect(model.summary().freshHeads).toEqual([]);
    expect(await model.predict(texts)).toEqual(before);
    model.dispose();
  });
});
