/**
 * SetFit goldens from an independent PyTorch computation (scripts/golden/make_setfit_golden.py):
 * CosineSimilarityLoss and parameter gradients of one pair batch through SetFitObjective.lossFor on the
 * sentence-transformers micro model (mean and CLS pooling, dropout off), on cpu and wasm; and the
 * logistic-regression head's coefficients and intercepts on fixed embeddings (plain JS, float64), all
 * within 1e-4 (docs/ARCHITECTURE.md, "The training loop and its methods").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../tf/node';
import { loadModelFromDir } from '../studio/node';
import type { EncodedExample } from '../train/batches';
import { fitLogisticRegression, logisticRegressionProbabilities } from './logistic-regression';
import { packPairs, SetFitObjective, type SetFitPair } from './setfit';

const FIXTURES = fileURLToPath(new URL('../../../tests/fixtures/', import.meta.url));
const TOL = 1e-4;

interface GoldenTensor {
  shape: number[];
  data: number[];
}
interface PairLossCase {
  pooling: 'mean' | 'cls';
  max_length: number;
  pairs: { a: string; b: string; target: 0 | 1 }[];
  input_ids_a: number[][];
  input_ids_b: number[][];
  loss: number;
  grads: Record<string, GoldenTensor>;
}
interface HeadCase {
  name: string;
  C: number;
  num_classes: number;
  x: number[][];
  y: number[];
  coef: number[][];
  intercept: number[];
  objective: number;
}
const golden = JSON.parse(readFileSync(join(FIXTURES, 'golden-setfit', 'golden.json'), 'utf8')) as {
  pair_loss: Record<string, PairLossCase>;
  head: HeadCase[];
};

function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let m = 0;
  for (let i = 0; i < actual.length; i++) m = Math.max(m, Math.abs(actual[i] - expected[i]));
  return m;
}

describe.each(['cpu', 'wasm'] as const)('SetFit pair loss and gradients vs PyTorch on %s', (backend) => {
  beforeAll(async () => {
    await initNodeBackend(backend);
  });

  it.each(Object.keys(golden.pair_loss))('%s: loss and gradients within 1e-4', async (variant) => {
    const g = golden.pair_loss[variant];
    const model = await loadModelFromDir(join(FIXTURES, 'golden-st', variant));
    try {
      expect(model.sentenceTransformers?.pooling).toBe(g.pooling);
      const encode = (t: string) =>
        model.tokenizer.encode(t, null, { truncation: 'longest_first', maxLength: g.max_length }).ids;
      expect(g.pairs.map((p) => encode(p.a))).toEqual(g.input_ids_a);
      expect(g.pairs.map((p) => encode(p.b))).toEqual(g.input_ids_b);
      // Examples 0..B-1 are the a sides, B..2B-1 the b sides; labels only have to give two classes.
      const B = g.pairs.length;
      const examples: EncodedExample[] = [...g.input_ids_a, ...g.input_ids_b].map((inputIds, i) => ({
        inputIds,
        label: i % 2,
      }));
      const pairs: SetFitPair[] = g.pairs.map((p, i) => ({ a: i, b: B + i, target: p.target }));
      const objective = new SetFitObjective(model.params, model.config, examples, {
        iterations: 1,
        epochs: 1,
        batchSize: B,
        learningRate: 1e-3,
        maxLength: g.max_length,
        seed: 1,
        pooling: model.sentenceTransformers?.pooling,
      });
      const before = tf.memory().numTensors;
      const { value, grads } = tf.tidy(() =>
        tf.variableGrads(
          objective.lossFor(packPairs(examples, pairs, g.max_length), { training: false }),
          objective.parameters.map((p) => p.variable),
        ),
      );
      expect(Math.abs(value.dataSync()[0] - g.loss)).toBeLessThan(TOL);
      const checked: string[] = [];
      for (const p of objective.parameters) {
        const expected = g.grads[p.name];
        if (!expected) continue;
        const grad = grads[p.variable.name];
        const hf = p.transposed ? tf.transpose(grad) : grad; // our [in, out] → PyTorch [out, in]
        expect(hf.shape).toEqual(expected.shape);
        expect(maxAbsDiff(hf.dataSync(), expected.data), `gradient of ${p.name}`).toBeLessThan(TOL);
        if (hf !== grad) hf.dispose();
        checked.push(p.name);
      }
      expect(checked.sort()).toEqual(Object.keys(g.grads).sort());
      // The gradients are not trivially small: a wrong loss could not pass by being near zero.
      expect(
        Math.max(...g.grads['bert.encoder.layer.0.attention.self.query.weight'].data.map(Math.abs)),
      ).toBeGreaterThan(1e-3);
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      objective.dispose();
    } finally {
      model.dispose();
    }
  });
});

describe('SetFit logistic-regression head vs PyTorch LBFGS', () => {
  it.each(golden.head.map((c) => [c.name, c] as const))('%s: coefficients and intercepts within 1e-4', (_, c) => {
    const fit = fitLogisticRegression(c.x, c.y, c.num_classes, { C: c.C });
    expect(fit.converged).toBe(true);
    expect(fit.gradMaxNorm).toBeLessThanOrEqual(1e-8);
    expect(Math.abs(fit.objective - c.objective)).toBeLessThan(1e-8);
    expect(maxAbsDiff(fit.coef.flat(), c.coef.flat())).toBeLessThan(TOL);
    expect(maxAbsDiff(fit.intercept, c.intercept)).toBeLessThan(TOL);
    // Probabilities are rows of a softmax and the head beats chance on its own training data.
    const probs = logisticRegressionProbabilities(fit, c.x);
    for (const row of probs) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const correct = probs.filter((row, i) => row.indexOf(Math.max(...row)) === c.y[i]).length;
    expect(correct / c.y.length).toBeGreaterThan(1 / c.num_classes);
  });

  it('is deterministic and refuses bad input with an EngineError', () => {
    const c = golden.head[0];
    expect(fitLogisticRegression(c.x, c.y, c.num_classes)).toEqual(fitLogisticRegression(c.x, c.y, c.num_classes));
    expect(() => fitLogisticRegression(c.x, c.y, c.num_classes, { C: 0 })).toThrow(/C must be a positive/);
    expect(() =>
      fitLogisticRegression(
        c.x,
        c.y.map(() => 5),
        c.num_classes,
      ),
    ).toThrow(/class index/);
    expect(() => fitLogisticRegression([], [], 2)).toThrow(/at least one example/);
  });
});
