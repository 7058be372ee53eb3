import { describe, expect, it } from 'vitest';
import type { Metrics } from '../../engine/studio';
import type { ModelSummary } from '../../engine/studio';
import type { FineTunePlan } from '../../worker/protocol';
import { buildModelCard, devPredictionsCsv, lossPlotSvg, metricsFiles } from './modelCard';

const model: ModelSummary = {
  name: 'tiny',
  source: 'embedded',
  layers: 2,
  hidden: 128,
  heads: 2,
  intermediate: 512,
  vocabSize: 30522,
  maxPositions: 512,
  parameters: 4_400_000,
  weightBytes: 0,
  loadedHeads: [],
  freshHeads: [],
  labels: ['pos', 'neg'],
  warnings: [],
  weightFormat: null,
  prompt: null,
  sentenceTransformers: null,
  setfit: null,
};
const plan = {
  method: 'head',
  promptWarnings: [],
  labels: ['pos', 'neg'],
  trainCount: 8,
  devCount: 2,
  autoSplit: true,
  totalSteps: 4,
  epochs: 2,
  batchSize: 4,
  gradAccumSteps: 1,
  learningRate: 1e-4,
  maxLength: 32,
  seed: 42,
  truncated: { train: 0, dev: 0 },
  issues: [],
  splitNotes: [],
  memory: {} as FineTunePlan['memory'],
  prompt: null,
  settings: {
    epochs: 2,
    batchSize: 4,
    gradAccumSteps: 1,
    learningRate: 1e-4,
    maxLength: 32,
    seed: 42,
    weightDecay: 0.01,
    warmupRatio: 0.1,
    maxGradNorm: 1,
    classWeights: 'none',
    evalEvery: 1,
    patience: 0,
    devFraction: 0.2,
    dropout: true,
  },
  auto: ['epochs'],
  stepsPerEpoch: 2,
  devExamples: [
    { text: 'good, "really"', label: 'pos' },
    { text: 'bad', label: 'neg' },
  ],
  trainExamples: [
    { text: 'great', label: 'pos' },
    { text: 'awful', label: 'neg' },
  ],
  crossValidation: { maxFolds: 1, folds: 0, recommended: false, reason: 'needs 2 rows per label' },
  setfit: null,
} satisfies FineTunePlan;
// Two dev rows, both predicted "pos": accuracy 1/2.
const metrics: Metrics = {
  n: 2,
  accuracy: 0.5,
  macroF1: 0.4,
  perClass: [
    { label: 'pos', precision: 0.5, recall: 1, f1: 2 / 3, support: 1 },
    { label: 'neg', precision: 0, recall: 0, f1: 0, support: 1 },
  ],
  confusion: [
    [1, 0],
    [1, 0],
  ],
  predictions: [
    { index: 0, trueLabel: 'pos', predLabel: 'pos', confidence: 0.9, probs: [0.9, 0.1] },
    { index: 1, trueLabel: 'neg', predLabel: 'pos', confidence: 0.7, probs: [0.7, 0.3] },
  ],
} as Metrics;

describe('model card', () => {
  it('names the data, method, hyperparameters and per-class dev metrics', () => {
    const card = buildModelCard({
      model,
      dataFileName: 'tickets.csv',
      plan,
      metrics,
      backend: 'webgpu',
      hasLossPlot: true,
      validation: {
        total: 10,
        labeled: 10,
        unlabeled: 0,
        unlabeledRows: [],
        labels: [
          { label: 'pos', count: 5 },
          { label: 'neg', count: 5 },
        ],
        emptyTexts: [],
        emptyTextPairs: [],
        duplicates: [],
        conflicts: [],
        usable: 10,
        issues: [],
        textLength: { min: 1, max: 9, mean: 4, median: 4, p95: 9 },
        textPairLength: null,
        tokens: null,
      },
      methodRuns: [
        {
          method: 'zero-shot',
          detail: '{text} It was [MASK]. · pos: good',
          accuracy: 0.5,
          macroF1: 0.4,
          devCount: 2,
          at: 1,
        },
      ],
    });
    expect(card).toMatch(/^---\nlibrary_name: transformers\npipeline_tag: text-classification/);
    expect(card).toContain('File: tickets.csv — 10 rows');
    expect(card).toContain('8 training rows, 2 dev rows (automatic stratified split); 2 epochs, batch 4');
    expect(card).toContain('Accuracy 50.0%');
    expect(card).toContain('| neg | 0.000 | 0.000 | 0.000 | 1 |');
    expect(card).toContain('| zero-shot | {text} It was [MASK]. · pos: good | 50.0% | 40.0% |');
    expect(card).toContain('![training loss](loss.svg)');
    const promptCard = buildModelCard({
      model: {
        ...model,
        prompt: { template: '{text} It was [MASK].', verbalizer: { pos: ['great'], neg: ['awful'] } },
      },
      dataFileName: null,
      plan,
      metrics: null,
      validation: null,
      methodRuns: [],
      backend: null,
      hasLossPlot: false,
    });
    expect(promptCard).toContain('pipeline_tag: fill-mask');
    expect(promptCard).toContain('- **neg**: awful');
    expect(promptCard).not.toContain('loss.svg');
  });

  it('describes a SetFit model by its pairs and head', () => {
    const card = buildModelCard({
      model: { ...model, setfit: { C: 0.5, solver: 'lbfgs', examples: 8 } },
      dataFileName: 'tickets.csv',
      plan: {
        ...plan,
        method: 'setfit',
        setfit: { iterations: 20, pairs: 320, C: 0.5, pooling: 'mean', normalize: false, auto: [], warnings: [] },
      },
      metrics,
      backend: 'webgpu',
      hasLossPlot: false,
      validation: null,
      methodRuns: [],
    });
    expect(card).toContain('## Method: SetFit');
    expect(card).toContain('320 pairs per epoch, R = 20, mean pooling');
    expect(card).toContain('logistic-regression head (C = 0.5)');
    expect(card).not.toContain('## Method: classifier head');
  });

  it('plots the loss with both series scaled into the frame', () => {
    expect(lossPlotSvg([])).toBeNull();
    const svg = lossPlotSvg([
      { step: 1, loss: 1, smoothed: 1 },
      { step: 2, loss: 0.5, smoothed: 0.9 },
      { step: 3, loss: 0.2, smoothed: 0.75 },
    ])!;
    const lines = [...svg.matchAll(/points="([^"]+)"/g)].map((m) =>
      m[1].split(' ').map((p) => p.split(',').map(Number)),
    );
    expect(lines).toHaveLength(2);
    for (const line of lines) for (const [x, y] of line) expect(x >= 56 && x <= 624 && y >= 16 && y <= 208).toBe(true);
    expect(lines[0][0][1]).toBe(16); // the highest loss touches the top of the frame
    expect(lines[0][2][1]).toBe(208); // the lowest the bottom
  });

  it('writes dev predictions as CSV with quoting', () => {
    const csv = devPredictionsCsv(plan, metrics).trim().split('\n');
    expect(csv[0]).toBe('text,label,predicted,confidence,p_pos,p_neg');
    expect(csv[1]).toBe('"good, ""really""",pos,pos,0.900000,0.900000,0.100000');
    expect(csv[2]).toBe('bad,neg,pos,0.700000,0.700000,0.300000');
    // Text a spreadsheet would run as a formula is written as literal text.
    const formula = { ...plan, devExamples: [{ text: '=HYPERLINK("http://x")', label: 'pos' }, plan.devExamples[1]] };
    expect(devPredictionsCsv(formula, metrics).split('\n')[1]).toBe(
      '"\'=HYPERLINK(""http://x"")",pos,pos,0.900000,0.900000,0.100000',
    );
  });

  it('puts the cross-validated estimate into metrics.json and the card, without dev files when there are no dev metrics', () => {
    const crossValidation = {
      folds: 2,
      rows: 8,
      method: 'head' as const,
      labels: ['pos', 'neg'],
      accuracy: { mean: 0.625, std: 0.177 },
      macroF1: { mean: 0.6, std: 0.2 },
      perFold: [
        {
          fold: 1,
          trainRows: 4,
          testRows: 4,
          steps: 2,
          accuracy: 0.5,
          macroF1: 0.46,
          correct: 2,
          reason: 'completed' as const,
        },
        {
          fold: 2,
          trainRows: 4,
          testRows: 4,
          steps: 2,
          accuracy: 0.75,
          macroF1: 0.74,
          correct: 3,
          reason: 'completed' as const,
        },
      ],
      complete: true,
      text: 'accuracy 63 % ± 18 (2-fold cross-validation, 8 rows) · macro-F1 0.60 ± 0.20',
    };
    const files = metricsFiles(plan, null, crossValidation);
    expect(Object.keys(files)).toEqual(['metrics.json']);
    const json = JSON.parse(new TextDecoder().decode(files['metrics.json']));
    expect(json).toEqual({ labels: ['pos', 'neg'], crossValidation });
    const withDev = JSON.parse(new TextDecoder().decode(metricsFiles(plan, metrics, crossValidation)['metrics.json']));
    expect(withDev.accuracy).toBe(0.5);
    expect(withDev.crossValidation.perFold).toHaveLength(2);
    const card = buildModelCard({
      model,
      dataFileName: 'd.csv',
      validation: null,
      plan,
      metrics: null,
      crossValidation,
      methodRuns: [],
      backend: null,
      hasLossPlot: false,
    });
    expect(card).toContain('## Cross-validated estimate');
    expect(card).toContain('| 2 | 4 | 4 | 75.0% | 74.0% |');
  });
});
