import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../tf/node';
import { loadModelFromDir } from '../studio/node';
import type { FewShotModel } from '../studio/fewshot-model';
import { compileTemplate, parseTemplate, renderTemplate } from './template';
import { buildVerbalizer, parseVerbalizerJson } from './verbalizer';
import { evaluatePrompt, zeroShotProbabilities } from './zero-shot';

const DIR = 'tests/fixtures/golden-micro/model';
const golden = JSON.parse(readFileSync('tests/fixtures/golden-micro/golden.json', 'utf8'));
let model: FewShotModel;

beforeAll(async () => {
  await initNodeBackend('wasm');
  model = await loadModelFromDir(DIR);
});

describe('template', () => {
  it('parses slots and masks, and rejects bad templates with specific codes', () => {
    const t = parseTemplate('{text} ? [MASK] , {text_pair}');
    expect(t.parts.map((p) => p.kind)).toEqual(['slot', 'literal', 'mask', 'literal', 'slot']);
    expect(t.usesTextPair).toBe(true);
    expect(() => parseTemplate('{text} It was good.')).toThrow(expect.objectContaining({ code: 'PROMPT_NO_MASK' }));
    expect(() => parseTemplate('{text} [MASK] [MASK]')).toThrow(
      expect.objectContaining({ code: 'PROMPT_TOO_MANY_MASKS' }),
    );
    expect(() => parseTemplate('{txt} [MASK]')).toThrow(/Unknown placeholder \{txt\}/);
    expect(() => parseTemplate('It was [MASK].')).toThrow(expect.objectContaining({ code: 'PROMPT_NO_TEXT' }));
  });

  it('renders ids with the mask position and truncates only the text, longest first', () => {
    const c = compileTemplate('{text} it was [MASK] .', model.tokenizer);
    const r = renderTemplate(c, model.tokenizer, { text: 'the cat sat on the mat' }, 64);
    const tok = (ids: number[]) => ids.map((i) => model.tokenizer.idToToken(i));
    expect(tok(r.inputIds)).toEqual([
      '[CLS]',
      'the',
      'cat',
      'sat',
      'on',
      'the',
      'mat',
      'it',
      'was',
      '[MASK]',
      '.',
      '[SEP]',
    ]);
    expect(r.maskPositions).toEqual([9]);
    const short = renderTemplate(c, model.tokenizer, { text: 'the cat sat on the mat' }, 8);
    expect(tok(short.inputIds)).toEqual(['[CLS]', 'the', 'cat', 'it', 'was', '[MASK]', '.', '[SEP]']);
    expect(short.truncated).toBe(true);
    const pair = compileTemplate('{text} ? [MASK] , {text_pair}', model.tokenizer);
    const p = renderTemplate(pair, model.tokenizer, { text: 'the cat sat on the mat', textPair: 'a dog' }, 10);
    expect(tok(p.inputIds)).toEqual(['[CLS]', 'the', 'cat', 'sat', '?', '[MASK]', ',', 'a', 'dog', '[SEP]']);
    expect(c.warnings).toEqual([]);
    expect(compileTemplate('{text} A [MASK] one.', model.tokenizer).warnings[0]).toMatch(
      /vocabulary become \[UNK\]: one/,
    );
    expect(() => renderTemplate(c, model.tokenizer, { text: 'x' }, 4)).toThrow(
      expect.objectContaining({ code: 'PROMPT_TOO_LONG' }),
    );
    // A [MASK] typed by the user is not a second mask.
    expect(
      renderTemplate(c, model.tokenizer, { text: 'the [MASK] cat' }, 64).inputIds.filter(
        (i) => i === model.tokenizer.maskTokenId,
      ),
    ).toHaveLength(1);
  });
});

describe('verbalizer', () => {
  it('resolves ids and validates labels, vocabulary and collisions', () => {
    const v = buildVerbalizer(
      { positive: ['great', 'good'], negative: 'terrible' },
      ['negative', 'positive'],
      model.tokenizer,
    );
    expect(v.wordLabel).toEqual([0, 1, 1]);
    expect(v.wordIds.map((i) => model.tokenizer.idToToken(i))).toEqual(['terrible', 'great', 'good']);
    expect(() => buildVerbalizer({ positive: [], negative: 'bad' }, ['negative', 'positive'], model.tokenizer)).toThrow(
      expect.objectContaining({ code: 'VERBALIZER_NO_WORD' }),
    );
    expect(() =>
      buildVerbalizer({ positive: 'grate', negative: 'bad' }, ['negative', 'positive'], model.tokenizer),
    ).toThrow(/"grate".*Close vocabulary entries: .*great/);
    expect(() =>
      buildVerbalizer({ positive: 'good', negative: 'good' }, ['negative', 'positive'], model.tokenizer),
    ).toThrow(expect.objectContaining({ code: 'VERBALIZER_COLLISION' }));
    expect(() => buildVerbalizer({ postive: 'good' }, ['negative', 'positive'], model.tokenizer)).toThrow(
      expect.objectContaining({ code: 'VERBALIZER_UNKNOWN_LABEL' }),
    );
    expect(parseVerbalizerJson('{"a":"x","b":["y"]}')).toEqual({ a: 'x', b: ['y'] });
    expect(() => parseVerbalizerJson('{a}')).toThrow(expect.objectContaining({ code: 'VERBALIZER_BAD_JSON' }));
  });
});

describe('zero-shot', () => {
  it('equals softmax over the golden MLM logits restricted to the label words', async () => {
    const logits: number[] = golden.fill_mask.logits_at_mask.data;
    const words = { a: ['sea'], b: ['loved'], c: ['great', 'terrible'] };
    const v = buildVerbalizer(words, ['a', 'b', 'c'], model.tokenizer);
    // The golden input is "[CLS] the cat sat on the [MASK] . [SEP]".
    const c = compileTemplate('{text} [MASK] .', model.tokenizer);
    expect(renderTemplate(c, model.tokenizer, { text: 'the cat sat on the' }, 64).inputIds).toEqual(
      golden.fill_mask.input_ids,
    );
    const [probs] = await zeroShotProbabilities(model, c, v, [{ text: 'the cat sat on the' }]);
    const max = Math.max(...logits);
    const z = logits.reduce((s, x) => s + Math.exp(x - max), 0);
    const p = (w: string) => Math.exp(logits[model.tokenizer.tokenToId(w)!] - max) / z;
    const scores = [p('sea'), p('loved'), (p('great') + p('terrible')) / 2];
    const total = scores.reduce((a, b) => a + b, 0);
    scores.forEach((s, i) => expect(probs[i]).toBeCloseTo(s / total, 4));
  });

  it('calibration divides by the content-free prior; evaluatePrompt returns metrics', async () => {
    const v = buildVerbalizer({ positive: 'great', negative: 'terrible' }, ['negative', 'positive'], model.tokenizer);
    const inputs = [
      { text: 'the movie was good', label: 'positive' },
      { text: 'the film was bad', label: 'negative' },
    ];
    const raw = await zeroShotProbabilities(model, '{text} it was [MASK] .', v, inputs);
    const cal = await zeroShotProbabilities(model, '{text} it was [MASK] .', v, inputs, { calibrate: true });
    const prior = await zeroShotProbabilities(model, '{text} it was [MASK] .', v, [{ text: '' }, { text: 'N/A' }]);
    const mean = [0, 1].map((l) => (prior[0][l] + prior[1][l]) / 2);
    const expected = raw[0].map((p, l) => p / mean[l]);
    const s = expected[0] + expected[1];
    expect(cal[0][0]).toBeCloseTo(expected[0] / s, 5);
    const metrics = await evaluatePrompt(model, '{text} it was [MASK] .', v, inputs);
    expect(metrics.n).toBe(2);
    expect(metrics.accuracy).toBeGreaterThanOrEqual(0);
  });
});
