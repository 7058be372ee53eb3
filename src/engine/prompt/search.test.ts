import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../tf/node';
import { loadModelFromDir } from '../studio/node';
import type { FewShotModel } from '../studio/fewshot-model';
import { PROMPT_CONFIG_KEY, predictWithPrompt, readPromptConfig, resolvePrompt } from './config';
import {
  defaultPrompt,
  findRecipe,
  labelNameVerbalizer,
  rankPrompts,
  recipeCandidates,
  suggestLabelWords,
} from './search';
import { buildVerbalizer } from './verbalizer';
import { zeroShotProbabilities } from './zero-shot';

let model: FewShotModel;
beforeAll(async () => {
  await initNodeBackend('wasm');
  model = await loadModelFromDir('tests/fixtures/golden-micro/model');
});

const examples = [
  { text: 'the movie was good', label: 'positive' },
  { text: 'i loved the film', label: 'positive' },
  { text: 'the movie was bad', label: 'negative' },
  { text: 'i hated the film', label: 'negative' },
];

describe('prompt config', () => {
  it('round-trips through exported config.json and predicts with the prompt', async () => {
    const prompt = { template: '{text} it was [MASK] .', verbalizer: { negative: ['terrible'], positive: ['great'] } };
    model.setPrompt(prompt);
    const files = await model.exportFiles();
    model.setPrompt(null);
    const config = JSON.parse(new TextDecoder().decode(files.get('config.json')!));
    expect(config[PROMPT_CONFIG_KEY]).toEqual(prompt);
    const read = readPromptConfig(config)!;
    expect(read.template).toBe(prompt.template);
    const preds = await predictWithPrompt(model, read, examples);
    const v = buildVerbalizer(prompt.verbalizer, ['negative', 'positive'], model.tokenizer);
    const direct = await zeroShotProbabilities(model, prompt.template, v, examples);
    preds.forEach((p, i) => p.probabilities.forEach((x, j) => expect(x).toBeCloseTo(direct[i][j], 6)));
    expect(preds[0].label).toBe(['negative', 'positive'][preds[0].labelIndex]);
    expect((await predictWithPrompt(model, resolvePrompt(model, read), examples))[1].probabilities).toEqual(
      preds[1].probabilities,
    );
    expect(readPromptConfig({})).toBeNull();
    expect(() => readPromptConfig({ [PROMPT_CONFIG_KEY]: { template: 'no mask {text}', verbalizer: {} } })).toThrow(
      expect.objectContaining({ code: 'PROMPT_NO_MASK' }),
    );
  });
});

describe('search', () => {
  it('has defaults per dataset and label-name verbalizers', () => {
    expect(defaultPrompt('sst2', ['positive', 'negative'], model.tokenizer)).toMatchObject({
      template: '{text} It was [MASK].',
      verbalizer: { positive: ['great'], negative: ['terrible'] },
    });
    expect(findRecipe(null, ['spam', 'ham'])?.task).toBe('spam');
    expect(labelNameVerbalizer(['big_dog', 'small_cat'], model.tokenizer)).toEqual({
      big_dog: ['big'],
      small_cat: ['small'],
    });
    expect(() => labelNameVerbalizer(['zzz'], model.tokenizer)).toThrow(
      expect.objectContaining({ code: 'VERBALIZER_NO_WORD' }),
    );
    // A given verbalizer is kept, and spares labels with no name word from the label-name fallback.
    expect(() => defaultPrompt(null, ['zzz'], model.tokenizer)).toThrow(
      expect.objectContaining({ code: 'VERBALIZER_NO_WORD' }),
    );
    expect(defaultPrompt('banking77', ['zzz'], model.tokenizer, { zzz: ['good'] })).toEqual({
      template: '{text} This is about [MASK].',
      verbalizer: { zzz: ['good'] },
      task: 'intent',
    });
    expect(
      defaultPrompt('sst2', ['positive', 'negative'], model.tokenizer, { positive: 'good', negative: 'bad' }),
    ).toMatchObject({
      template: '{text} It was [MASK].',
      verbalizer: { positive: 'good', negative: 'bad' },
    });
  });

  it('suggests whole-word label words per class, skipping specials and punctuation', async () => {
    const s = await suggestLabelWords(model, '{text} it was [MASK] .', examples, ['negative', 'positive'], { topK: 5 });
    for (const label of ['negative', 'positive']) {
      expect(s[label]).toHaveLength(5);
      for (const w of s[label]) expect(w.word).toMatch(/^[a-z]{2,}$/);
      expect(s[label][0].score).toBeGreaterThanOrEqual(s[label][4].score);
    }
    // The scores are antisymmetric for two classes.
    const pos = new Map(s.positive.map((w) => [w.word, w.score]));
    const top = s.negative[0];
    if (pos.has(top.word)) expect(pos.get(top.word)).toBeCloseTo(-top.score, 5);
  });

  it('ranks candidates by dev accuracy and reports broken ones', async () => {
    const candidates = [
      ...recipeCandidates(findRecipe('sst2', [])!, ['negative', 'positive'], model.tokenizer),
      { template: '{text} [MASK]', verbalizer: { positive: 'zzzz', negative: 'bad' } },
    ];
    const ranked = await rankPrompts(model, candidates, examples, ['negative', 'positive']);
    expect(ranked).toHaveLength(candidates.length);
    const ok = ranked.filter((r) => r.error === null);
    for (let i = 1; i < ok.length; i++) expect(ok[i - 1].accuracy).toBeGreaterThanOrEqual(ok[i].accuracy);
    expect(ranked[ranked.length - 1].error).toMatch(/zzzz/);
  });
});
