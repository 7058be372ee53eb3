/**
 * k-fold cross-validation (docs/ARCHITECTURE.md, "Cross-validation") on the golden micro model
 * (hidden 32, 2 layers) on wasm: the folds partition the rows, every fold and the final model start
 * from the same weights, the estimate is the folds' mean ± sample std, and stop leaves the model as
 * it was.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toyExamples } from '../../../tests/support/toy-data';
import { initNodeBackend } from '../tf/node';
import { startCrossValidation, summarizeFolds, planCrossValidation, type FoldResult } from './cross-validate';
import type { FewShotModel } from './fewshot-model';
import { loadModelFromDir } from './node';

const GOLDEN_DIR = 'tests/fixtures/golden-micro/model';
const SETTINGS = { epochs: 2, batchSize: 8, learningRate: 3e-3, maxLength: 16, seed: 3, dropout: false };

beforeAll(async () => {
  await initNodeBackend('wasm');
});

/** The encoder's word embeddings [V, H] as they are now (a weight every method trains). */
const wordEmbeddings = (model: FewShotModel) => Array.from(model.params.embeddings.word.dataSync());
const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

describe('summarizeFolds', () => {
  const fold = (i: number, accuracy: number, macroF1: number): FoldResult => ({
    fold: i,
    trainRows: 8,
    testRows: 4,
    steps: 2,
    accuracy,
    macroF1,
    correct: Math.round(4 * accuracy),
    reason: 'completed',
  });

  it('reports the mean and the sample standard deviation over the folds, in plain words', () => {
    const result = summarizeFolds([fold(1, 0.5, 0.4), fold(2, 0.75, 0.7), fold(3, 1, 1)], 3, 12, 'head', [
      'pos',
      'neg',
    ]);
    expect(result.accuracy.mean).toBeCloseTo(0.75, 12);
    // Sample std (n − 1): deviations −0.25, 0, 0.25 → sqrt(0.125 / 2) = 0.25.
    expect(result.accuracy.std).toBeCloseTo(0.25, 12);
    expect(result.macroF1.mean).toBeCloseTo(0.7, 12);
    expect(result.macroF1.std).toBeCloseTo(0.3, 12);
    expect(result.complete).toBe(true);
    expect(result.text).toBe('accuracy 75 % ± 25 (3-fold cross-validation, 12 rows) · macro-F1 0.70 ± 0.30');
  });

  it('says when only some folds were scored', () => {
    const partial = summarizeFolds([fold(1, 0.5, 0.5)], 5, 40, 'head', ['a', 'b']);
    expect(partial.complete).toBe(false);
    expect(partial.text).toBe('accuracy 50 % ± 0 on 1 of 5 folds only (stopped; 40 rows)');
    expect(summarizeFolds([], 5, 40, 'head', ['a', 'b']).text).toMatch(/before any fold was scored/);
  });
});

describe('cross-validation through the door', () => {
  it('partitions the rows into stratified folds and refuses bad requests before training', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    try {
      const rows = toyExamples(26, 5);
      const plan = planCrossValidation(model, { train: rows }, { kind: 'head' }, SETTINGS, { folds: 4 });
      expect(plan.rows).toBe(26);
      expect(plan.foldSizes.reduce((a, b) => a + b, 0)).toBe(26);
      expect(Math.max(...plan.foldSizes) - Math.min(...plan.foldSizes)).toBeLessThanOrEqual(1);
      // Fold 1 trains on every row but its own; the final model on every row, with no dev split.
      expect(plan.foldPlan.trainCount).toBe(26 - plan.foldSizes[0]);
      expect(plan.foldPlan.devCount).toBe(0);
      expect(plan.finalPlan.trainCount).toBe(26);
      expect(plan.finalPlan.devCount).toBe(0);

      expect(() =>
        startCrossValidation(model, { train: rows, dev: rows.slice(0, 4) }, { kind: 'head' }, SETTINGS),
      ).toThrow(expect.objectContaining({ code: 'CV_DEV_GIVEN' }));
      // 3 rows of "neg": at most 3 folds.
      const fewNeg = [...rows.filter((r) => r.label === 'pos'), ...rows.filter((r) => r.label === 'neg').slice(0, 3)];
      expect(() => startCrossValidation(model, { train: fewNeg }, { kind: 'head' }, SETTINGS, { folds: 4 })).toThrow(
        expect.objectContaining({ code: 'FOLDS_BAD_K', message: expect.stringMatching(/"neg" has 3/) }),
      );
      expect(() => startCrossValidation(model, { train: rows }, { kind: 'head' }, SETTINGS, { folds: 1 })).toThrow(
        expect.objectContaining({ code: 'FOLDS_BAD_K' }),
      );
    } finally {
      model.dispose();
    }
  });

  it('trains every fold and the final model from the starting weights and scores each fold once', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    try {
      const rows = toyExamples(24, 7);
      const before = wordEmbeddings(model);
      const startWeights: number[][] = [];
      const phases: string[] = [];
      const run = startCrossValidation(model, { train: rows }, { kind: 'head' }, SETTINGS, {
        folds: 3,
        callbacks: {
          // Each fold's loop says 'running' as it starts, after the driver has set its weights.
          onStateChange: (state) => {
            if (state === 'running') startWeights.push(wordEmbeddings(model));
          },
        },
        onFold: (p) => phases.push(`${p.phase} ${p.fold}/${p.folds} scored ${p.results.length}`),
      });
      expect(run.state).toBe('idle');
      const summary = await run.run();
      expect(run.state).toBe('finished');
      expect(summary.reason).toBe('completed');
      expect(phases).toEqual([
        'fold 1/3 scored 0',
        'fold 1/3 scored 1',
        'fold 2/3 scored 1',
        'fold 2/3 scored 2',
        'fold 3/3 scored 2',
        'fold 3/3 scored 3',
        'final 3/3 scored 3',
      ]);
      // Three folds and the final model, each starting from exactly the weights the run started with.
      expect(startWeights).toHaveLength(4);
      for (const w of startWeights) expect(maxDiff(w, before)).toBe(0);
      // …and training changed them (so the check above could fail).
      expect(maxDiff(wordEmbeddings(model), before)).toBeGreaterThan(1e-4);

      const result = run.result();
      expect(result.complete).toBe(true);
      expect(result.perFold.map((f) => f.fold)).toEqual([1, 2, 3]);
      expect(result.perFold.reduce((n, f) => n + f.testRows, 0)).toBe(24);
      for (const f of result.perFold) {
        expect(f.trainRows + f.testRows).toBe(24);
        expect(f.steps).toBeGreaterThan(0);
        expect(f.correct).toBe(Math.round(f.accuracy * f.testRows));
      }
      const accuracies = result.perFold.map((f) => f.accuracy);
      expect(result.accuracy.mean).toBeCloseTo(accuracies.reduce((a, b) => a + b, 0) / 3, 12);
      // The final model trained on every row with no dev split, and the model keeps its labels.
      expect(run.final!.plan.trainCount).toBe(24);
      expect(run.final!.plan.devCount).toBe(0);
      await run.finish();
      expect([...model.labels].sort()).toEqual(['neg', 'pos']);
      run.dispose();
    } finally {
      model.dispose();
    }
  });

  it('stops between folds without training the next one and puts the starting weights back', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    try {
      const before = wordEmbeddings(model);
      const headBefore = [...model.labels];
      let starts = 0;
      const run = startCrossValidation(model, { train: toyExamples(24, 9) }, { kind: 'head' }, SETTINGS, {
        folds: 3,
        callbacks: { onStateChange: (s) => void (s === 'running' && starts++) },
        // Stop as soon as fold 1 is scored, before fold 2 has a loop.
        onFold: (p) => {
          if (p.results.length === 1) run.stop();
        },
      });
      const summary = await run.run();
      expect(summary.reason).toBe('stopped');
      expect(summary.message).toMatch(/after 1 of 3 folds/);
      expect(starts).toBe(1);
      expect(run.final).toBeNull();
      expect(run.result().complete).toBe(false);
      expect(run.result().perFold).toHaveLength(1);
      expect(maxDiff(wordEmbeddings(model), before)).toBe(0);
      expect(model.labels).toEqual(headBefore);
      run.dispose();
    } finally {
      model.dispose();
    }
  });
});
