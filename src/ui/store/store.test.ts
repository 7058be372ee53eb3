import { describe, expect, it } from 'vitest';
import type { ParsedDatasetResult, FineTunePlan } from '../../worker/protocol';
import {
  UMAP_MAX_ROWS,
  defaultLabelWords,
  emaSmooth,
  histogram,
  mapLayoutFor,
  normalizeMaskTokens,
  parseLabelWords,
  plural,
} from './helpers';
import { createStudioStore } from './index';
import { EMBEDDED_MODELS, pickEmbeddedModel } from '../embeddedModels';

describe('emaSmooth', () => {
  it('is bias-corrected: a constant series stays constant', () => {
    expect(emaSmooth([2, 2, 2], 0.9)).toEqual([2, 2, 2].map(() => expect.closeTo(2, 12)));
  });
  it('follows a step with lag', () => {
    const s = emaSmooth([0, 1, 1, 1], 0.5);
    expect(s[0]).toBe(0);
    expect(s[1]).toBeCloseTo(2 / 3);
    expect(s[3]).toBeGreaterThan(s[2]);
    expect(s[3]).toBeLessThan(1);
  });
  it('alpha 0 is the raw series', () => {
    expect(emaSmooth([3, 1, 4], 0)).toEqual([3, 1, 4]);
  });
});

describe('histogram', () => {
  it('bins token lengths from 0 and keeps every value', () => {
    const bins = histogram([0, 1, 5, 31], 4);
    expect(bins.reduce((a, b) => a + b.count, 0)).toBe(4);
    expect(bins[0].start).toBe(0);
  });
});

const dataset: ParsedDatasetResult = {
  fileName: 'd.csv',
  format: 'csv',
  columns: ['text', 'label'],
  mapping: { text: 'text', textPair: null, label: 'label' },
  reasons: ['label: column "label" by its name'],
  examples: [
    { text: 'a', label: 'x', row: 1 },
    { text: 'b', label: 'y', row: 2 },
  ],
  warnings: [],
  tokenLengths: [3, 3],
  // As the worker computes it (engine/data/summary.ts); the store only keeps and renders it.
  labelWords: null,
  summary: {
    total: 2,
    labeled: 2,
    unlabeled: 0,
    unlabeledRows: [],
    labels: [
      { label: 'x', count: 1 },
      { label: 'y', count: 1 },
    ],
    emptyTexts: [],
    emptyTextPairs: [],
    duplicates: [],
    conflicts: [],
    usable: 2,
    issues: [],
    textLength: { min: 1, max: 1, mean: 1, median: 1, p95: 1 },
    textPairLength: null,
    tokens: { min: 3, max: 3, mean: 3, median: 3, p95: 3 },
  },
};

describe('mapLayoutFor', () => {
  it('keeps the chosen layout up to UMAP_MAX_ROWS and falls back to PCA above it', () => {
    expect(mapLayoutFor('umap', UMAP_MAX_ROWS)).toBe('umap');
    expect(mapLayoutFor('umap', UMAP_MAX_ROWS + 1)).toBe('pca');
    expect(mapLayoutFor('pca', 3)).toBe('pca');
    expect(mapLayoutFor('pca', UMAP_MAX_ROWS + 1)).toBe('pca');
  });
});

describe('store slices', () => {
  it('starts on the model panel with no model, data or run', () => {
    const s = createStudioStore().getState();
    expect(s.activePanel).toBe('model');
    expect(s.model).toBeNull();
    expect(s.dataset).toBeNull();
    expect(s.trainingState).toBe('idle');
  });
  it('setDataset keeps the engine summary as the validation and clears the error', () => {
    const store = createStudioStore();
    store.getState().setData({ dataError: { code: 'X', message: 'm', fileName: 'f' } });
    store.getState().setDataset(dataset, new Uint8Array([1]));
    expect(store.getState().validation).toBe(dataset.summary);
    expect(store.getState().dataError).toBeNull();
    expect(store.getState().dataStatus).toBe('ready');
  });
  it('training events accumulate losses with EMA, lr points, evaluations, state and summary', () => {
    const store = createStudioStore();
    store.getState().resetTraining({ labels: ['x', 'y'] } as FineTunePlan);
    const apply = store.getState().applyTrainingEvent;
    apply({ kind: 'trainingState', state: 'running' });
    apply({
      kind: 'progress',
      step: 2,
      totalSteps: 4,
      epoch: 1,
      epochs: 2,
      losses: [
        { step: 1, loss: 1 },
        { step: 2, loss: 0.5 },
      ],
      learningRate: 1e-3,
      examplesPerSecond: 3,
      etaSeconds: 10,
      firstStepSeconds: null,
    });
    apply({
      kind: 'progress',
      step: 3,
      totalSteps: 4,
      epoch: 2,
      epochs: 2,
      losses: [{ step: 3, loss: 0.25 }],
      learningRate: 5e-4,
      examplesPerSecond: 3,
      etaSeconds: 5,
      firstStepSeconds: null,
    });
    const s = store.getState();
    expect(s.trainingState).toBe('running');
    expect(s.losses.map((p) => p.step)).toEqual([1, 2, 3]);
    expect(s.losses[0].smoothed).toBe(1);
    expect(s.losses[2].smoothed).toBeGreaterThan(0.25);
    expect(s.lrPoints).toEqual([
      { step: 2, lr: 1e-3 },
      { step: 3, lr: 5e-4 },
    ]);
    expect(s.progress?.etaSeconds).toBe(5);
    const metrics = {
      n: 2,
      accuracy: 1,
      macroF1: 1,
      perClass: [],
      confusion: [
        [1, 0],
        [0, 1],
      ],
      predictions: [],
    };
    apply({ kind: 'evaluated', step: 3, epoch: 2, isBest: true, metrics });
    apply({ kind: 'trainingError', code: 'E', message: 'boom' });
    apply({ kind: 'log', level: 'warn', message: 'careful' });
    expect(store.getState().evaluations).toHaveLength(1);
    expect(store.getState().trainingError?.message).toBe('boom');
    expect(store.getState().logs).toEqual([{ level: 'warn', message: 'careful' }]);
    apply({
      kind: 'trainingDone',
      summary: { reason: 'completed', steps: 3, bestStep: 3, bestMetrics: metrics, restored: 'best', message: 'ok' },
      model: {} as never,
    });
    expect(store.getState().summary?.steps).toBe(3);
    expect(store.getState().trainingDoneAt).toBeTypeOf('number');
    store.getState().resetTraining(null);
    expect(store.getState().trainingDoneAt).toBeNull();
    expect(store.getState().losses).toEqual([]);
    expect(store.getState().evaluations).toEqual([]);
  });
  it('cross-validation events: each fold starts fresh charts; the estimate joins the methods table', () => {
    const store = createStudioStore();
    const apply = store.getState().applyTrainingEvent;
    const fold = (n: number, accuracy: number) => ({
      fold: n,
      trainRows: 8,
      testRows: 4,
      steps: 2,
      accuracy,
      macroF1: accuracy,
      correct: 4 * accuracy,
      reason: 'completed' as const,
    });
    const progress = (step: number) => ({
      kind: 'progress' as const,
      step,
      totalSteps: 2,
      epoch: 1,
      epochs: 1,
      losses: [{ step, loss: 0.5 }],
      learningRate: 1e-3,
      examplesPerSecond: 1,
      etaSeconds: 1,
      firstStepSeconds: null,
    });
    apply({ kind: 'crossValidation', progress: { phase: 'fold', fold: 1, folds: 3, results: [] } });
    apply(progress(1));
    apply(progress(2));
    // Fold 1 scored: its charts stay.
    apply({ kind: 'crossValidation', progress: { phase: 'fold', fold: 1, folds: 3, results: [fold(1, 0.5)] } });
    expect(store.getState().losses).toHaveLength(2);
    // Fold 2 starts at step 0: a new chart.
    apply({ kind: 'crossValidation', progress: { phase: 'fold', fold: 2, folds: 3, results: [fold(1, 0.5)] } });
    expect(store.getState().losses).toEqual([]);
    expect(store.getState().crossValidation?.progress?.fold).toBe(2);
    apply(progress(1));
    const all = [fold(1, 0.5), fold(2, 0.75), fold(3, 1)];
    apply({ kind: 'crossValidation', progress: { phase: 'final', fold: 3, folds: 3, results: all } });
    expect(store.getState().losses).toEqual([]);
    apply({
      kind: 'crossValidationDone',
      result: {
        folds: 3,
        rows: 12,
        method: 'head',
        labels: ['a', 'b'],
        accuracy: { mean: 0.75, std: 0.25 },
        macroF1: { mean: 0.75, std: 0.25 },
        perFold: all,
        complete: true,
        text: 'accuracy 75 % ± 25 (3-fold cross-validation, 12 rows)',
      },
    });
    expect(store.getState().crossValidation?.result?.accuracy.mean).toBe(0.75);
    expect(store.getState().methodRuns.at(-1)).toMatchObject({ method: 'head', accuracy: 0.75, devCount: 12 });
    // A new run forgets the estimate.
    store.getState().resetTraining(null);
    expect(store.getState().crossValidation).toBeNull();
  });
  it('settings merge patches', () => {
    const store = createStudioStore();
    store.getState().setSettings({ epochs: 3 });
    expect(store.getState().settings.epochs).toBe(3);
    // Everything else stays on auto (null): the engine's defaults apply.
    expect(store.getState().settings.batchSize).toBeNull();
  });
});

describe('label-word lines', () => {
  it('parse into a verbalizer and name the bad line', () => {
    expect(parseLabelWords('pos: great, good\n\nneg: terrible')).toEqual({
      verbalizer: { pos: ['great', 'good'], neg: ['terrible'] },
    });
    expect(parseLabelWords('pos great\nneg: bad')).toEqual({ error: expect.stringContaining('Line 1') });
    expect(parseLabelWords('pos: great\nneg:')).toEqual({ error: expect.stringContaining('"neg"') });
    expect(parseLabelWords('pos: a\npos: b')).toEqual({ error: expect.stringContaining('twice') });
    expect(parseLabelWords('pos: a')).toEqual({ error: expect.stringContaining('two labels') });
  });

  it("default to one word per label: the engine's when given, else the name's longest word", () => {
    // Without a model: never "very good" or "non irony" as one multi-word "word".
    expect(defaultLabelWords(['very_good', 'Bad', 'cardArrival'])).toBe(
      'very_good: good\nBad: bad\ncardArrival: arrival',
    );
    expect(defaultLabelWords(['irony', 'non_irony'], { irony: ['irony'], non_irony: ['normal'] })).toBe(
      'irony: irony\nnon_irony: normal',
    );
    expect(defaultLabelWords([])).toBe('positive: great, good\nnegative: terrible, bad');
  });
});

describe('embedded model choice', () => {
  it('takes ?model= when it names an embedded model, else the default and reports the bad value', () => {
    expect(pickEmbeddedModel(null)).toEqual({ model: EMBEDDED_MODELS[0], unknown: null });
    expect(pickEmbeddedModel('micro-random').model.id).toBe('micro-random');
    expect(pickEmbeddedModel('../../etc')).toEqual({ model: EMBEDDED_MODELS[0], unknown: '../../etc' });
  });
});

describe('plain-words helpers', () => {
  it('pluralises only counts other than one', () => {
    expect([plural(1, 'row'), plural(0, 'row'), plural(2, 'class', 'classes'), plural(1200, 'step')]).toEqual([
      '1 row',
      '0 rows',
      '2 classes',
      '1,200 steps',
    ]);
  });

  it("turns a hand-typed [mask] of any case into the tokenizer's [MASK]", () => {
    expect(normalizeMaskTokens('Paris is the [mask] of France, [Mask] too; [MASKS] stays')).toBe(
      'Paris is the [MASK] of France, [MASK] too; [MASKS] stays',
    );
  });
});
