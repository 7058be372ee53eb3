import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../tf/node';
import { loadModelFromDir } from '../studio/node';
import { buildVerbalizer } from '../prompt/verbalizer';
import { encodePromptExamples } from '../prompt/zero-shot';
import { promptTraining } from './prompt';

const DIR = 'tests/fixtures/golden-micro/model';

/** 32 toy reviews: the label is carried by good/happy/loved vs bad/sad/hated. */
function toyData() {
  const subjects = ['the movie', 'the film', 'this story', 'the book'];
  const pos = ['was good', 'made me happy', 'i loved it', 'was fine'];
  const neg = ['was bad', 'made me sad', 'i hated it', 'was awful'];
  const rows: { text: string; label: string }[] = [];
  for (const s of subjects)
    for (let i = 0; i < 4; i++)
      rows.push({ text: `${s} ${pos[i]}`, label: 'positive' }, { text: `${s} ${neg[i]}`, label: 'negative' });
  return rows;
}

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe('prompt (LM-BFF) training on the one loop', () => {
  it('overfits 32 toy examples to 100% with a flat tensor count, and restores the best weights', async () => {
    const model = await loadModelFromDir(DIR);
    const labels = ['negative', 'positive'];
    const v = buildVerbalizer({ positive: 'great', negative: 'terrible' }, labels, model.tokenizer);
    const rows = toyData();
    const { examples } = encodePromptExamples(
      '{text} . it was [MASK] .',
      model.tokenizer,
      rows,
      rows.map((r) => labels.indexOf(r.label)),
      32,
    );
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const trainer = promptTraining(model.params, model.config, v, examples, examples, {
      epochs: 15,
      batchSize: 8,
      learningRate: 3e-3,
      maxLength: 32,
      seed: 1,
      dropout: false,
      warmupRatio: 0,
    });
    const initial = await trainer.objective.evaluateOn(examples);
    expect(initial.accuracy).toBeLessThan(1); // the zero-shot starting point is not already perfect
    while (await trainer.runStep()) counts.push(tf.memory().numTensors);
    const summary = await trainer.finish();
    expect(summary.restored).toBe('best');
    expect(summary.bestMetrics!.accuracy).toBe(1);
    expect((await trainer.objective.evaluateOn(examples)).accuracy).toBe(1);
    // At every epoch end (losses read, best snapshot kept) the count is the same.
    const atEpochEnds = counts.filter((_, i) => i % 4 === 3);
    expect(new Set(atEpochEnds.slice(1)).size).toBe(1);
    expect(Math.max(...counts)).toBeLessThanOrEqual(atEpochEnds[1] + 3);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  }, 60_000);

  it('runs with the auxiliary MLM loss and is seeded', async () => {
    const losses: number[][] = [];
    for (let run = 0; run < 2; run++) {
      const model = await loadModelFromDir(DIR);
      const labels = ['negative', 'positive'];
      const v = buildVerbalizer({ positive: 'great', negative: 'terrible' }, labels, model.tokenizer);
      const rows = toyData().slice(0, 8);
      const { examples } = encodePromptExamples(
        '{text} it was [MASK] .',
        model.tokenizer,
        rows,
        rows.map((r) => labels.indexOf(r.label)),
        32,
      );
      const unlabeled = model.encode(
        toyData().map((r) => ({ text: r.text })),
        null,
        32,
      ).examples;
      const seen: number[] = [];
      const trainer = promptTraining(
        model.params,
        model.config,
        v,
        examples,
        [],
        {
          epochs: 2,
          batchSize: 4,
          learningRate: 1e-3,
          maxLength: 32,
          seed: 7,
          lossReadEvery: 1,
          auxMlm: {
            examples: unlabeled,
            weight: 0.5,
            maskTokenId: model.tokenizer.maskTokenId!,
            specialIds: [...model.tokenizer.specialTokenIds],
          },
        },
        { onProgress: (p) => seen.push(...p.losses.map((l) => l.loss)) },
      );
      await trainer.run();
      trainer.dispose();
      model.dispose();
      losses.push(seen);
    }
    expect(losses[0]).toHaveLength(4);
    expect(losses[0].every(Number.isFinite)).toBe(true);
    expect(losses[1]).toEqual(losses[0]);
  }, 60_000);
});
