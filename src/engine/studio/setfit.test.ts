/**
 * SetFit end to end through the door (docs/ARCHITECTURE.md, "The door"): startSetFit on the
 * sentence-transformers micro model runs the contrastive body stage on the one loop, fits the
 * logistic-regression head and then separates a toy set it has not seen word for word.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../tf/node';
import { loadModelFromDir } from './node';
import { startSetFit } from './setfit';

const ST_MEAN = fileURLToPath(new URL('../../../tests/fixtures/golden-st/mean-normalize/', import.meta.url));

const train = [
  ...['the cat sat on the mat', 'a cat slept on the bed', 'the small cat ate the fish', 'my cat liked milk'].map(
    (text) => ({ text, label: 'animal' }),
  ),
  ...['the car ran down the road', 'a red car was fast', 'the old car was slow', 'their car sat by the house'].map(
    (text) => ({ text, label: 'vehicle' }),
  ),
];
const heldOut = [
  { text: 'the cat ate the bread', label: 'animal' },
  { text: 'a cat sat on the chair', label: 'animal' },
  { text: 'the blue car was new', label: 'vehicle' },
  { text: 'a car ran over the road', label: 'vehicle' },
];

describe('startSetFit', () => {
  beforeAll(async () => {
    await initNodeBackend('cpu');
  });

  it('trains the body, fits the head and classifies a separable toy set', async () => {
    const model = await loadModelFromDir(ST_MEAN);
    try {
      const run = startSetFit(
        model,
        { train },
        { learningRate: 1e-3, iterations: 10, epochs: 2, batchSize: 8, seed: 3 },
      );
      expect(run.plan).toMatchObject({
        labels: ['animal', 'vehicle'],
        trainCount: 8,
        pairs: 10 * 8 * 2,
        pooling: 'mean',
        C: 1,
        totalSteps: 2 * 20,
        warnings: [],
      });
      expect(run.plan.auto).toEqual(expect.arrayContaining(['maxLength', 'C', 'dropout']));
      await expect(run.predictProbabilities([{ text: 'cat' }])).rejects.toThrow(/run it first/);
      const { body, head } = await run.run();
      expect(body.reason).toBe('completed');
      expect(head.converged).toBe(true);
      const probs = await run.predictProbabilities(heldOut);
      for (const row of probs) expect(row[0] + row[1]).toBeCloseTo(1, 9);
      const predicted = probs.map((row) => run.plan.labels[row[0] > row[1] ? 0 : 1]);
      expect(predicted).toEqual(heldOut.map((r) => r.label));
      // Confident, not a coin flip.
      expect(Math.min(...probs.map((row) => Math.max(...row)))).toBeGreaterThan(0.6);
    } finally {
      model.dispose();
    }
  });

  it('refuses one class before training and warns about a single-example class', async () => {
    const model = await loadModelFromDir(ST_MEAN);
    try {
      expect(() => startSetFit(model, { train: train.slice(0, 4) })).toThrow(/at least two classes/);
      const logs: string[] = [];
      const run = startSetFit(model, { train: train.slice(0, 5) }, {}, { onLog: (_, m) => logs.push(m) });
      expect(run.plan.warnings).toHaveLength(1);
      expect(logs).toEqual(run.plan.warnings);
      expect(run.plan.warnings[0]).toMatch(/"vehicle" has a single training example/);
      // Auto settings from the data: 5 examples → R = 20, 200 pairs, 4 epochs (setfitDefaults).
      expect(run.plan).toMatchObject({
        iterations: 20,
        epochs: 4,
        pairs: 20 * (4 * 2 + 1),
        batchSize: 16,
        learningRate: 1e-4,
      });
      run.loop.dispose();
    } finally {
      model.dispose();
    }
  });
});
