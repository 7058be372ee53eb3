/**
 * `fewshot train --method setfit` → `fewshot predict` on its export gives the probabilities of the
 * same SetFit run in memory (docs/ARCHITECTURE.md, "SetFit"), and flags that mean nothing to SetFit
 * are refused by name.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFineTune } from '../../engine/studio';
import { initNodeBackend, loadModelFromDir } from '../../engine/studio/node';
import { runCli } from '../test-support';

const ST_MEAN = 'tests/fixtures/golden-st/mean-normalize';

const train = [
  ...['the cat sat on the mat', 'a cat slept on the bed', 'the small cat ate the fish', 'my cat liked milk'].map(
    (text) => ({ text, label: 'animal' }),
  ),
  ...['the car ran down the road', 'a red car was fast', 'the old car was slow', 'their car sat by the house'].map(
    (text) => ({ text, label: 'vehicle' }),
  ),
];
const dev = [
  { text: 'the cat ate the bread', label: 'animal' },
  { text: 'the blue car was new', label: 'vehicle' },
  { text: 'a car ran over the road', label: 'vehicle' },
];
const texts = ['the cat ate the bread', 'the blue car was new', 'a cat sat by the car on the road'];
const csv = (rows: { text: string; label: string }[]) =>
  `text,label\n${rows.map((r) => `${r.text},${r.label}`).join('\n')}\n`;

const root = mkdtempSync(join(tmpdir(), 'train-setfit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const trainFile = join(root, 'train.csv');
const devFile = join(root, 'dev.csv');
writeFileSync(trainFile, csv(train));
writeFileSync(devFile, csv(dev));
const SETTINGS = ['--iterations', '2', '--epochs', '1', '--lr', '1e-3', '--batch-size', '8', '--seed', '5'];

describe('fewshot train --method setfit', () => {
  it('writes the SetFit folder and metrics; predict on it matches the in-memory run within 1e-4', async () => {
    const out = join(root, 'out');
    const trained = await runCli([
      'train',
      '--method',
      'setfit',
      '--model',
      ST_MEAN,
      '--train',
      trainFile,
      '--dev',
      devFile,
      '--out',
      out,
      '--backend',
      'cpu',
      ...SETTINGS,
    ]);
    expect(trained.stderr).toMatch(/32 pairs \(R = 2\)/);
    expect(trained.code).toBe(0);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({
      method: 'setfit',
      labels: ['animal', 'vehicle'],
      hyperparameters: { epochs: 1, batchSize: 8, seed: 5 },
      setfit: { iterations: 2, pairs: 32, pooling: 'mean', normalize: true, C: 1, head: { converged: true } },
      result: { reason: 'completed', steps: 4 },
      dev: { n: 3 },
    });
    expect(metrics.setfit.head.iterations).toBeGreaterThan(0);
    // The dev rows were scored during training too, each time with a head fitted at that step.
    expect(metrics.evaluations.length).toBeGreaterThan(0);
    expect(readFileSync(join(out, 'train_log.jsonl'), 'utf8').trim().split('\n').length).toBeGreaterThan(0);

    const predicted = await runCli([
      'predict',
      '--model',
      out,
      '--json',
      '--backend',
      'cpu',
      ...texts.flatMap((t) => ['--text', t]),
    ]);
    expect(predicted.code).toBe(0);
    const fromExport = JSON.parse(predicted.stdout) as {
      labels: string[];
      predictions: { probabilities: Record<string, number> }[];
    };
    expect(fromExport.labels).toEqual(['animal', 'vehicle']);

    // The same run in memory (same seed, same backend): what the studio would show.
    await initNodeBackend('cpu');
    const model = await loadModelFromDir(ST_MEAN, { seed: 5 });
    try {
      const run = startFineTune(
        model,
        { train, dev },
        { kind: 'setfit', iterations: 2 },
        { epochs: 1, learningRate: 1e-3, batchSize: 8, seed: 5 },
      );
      await run.loop.run();
      await run.finish();
      const inMemory = await model.predict(texts.map((text) => ({ text })));
      inMemory.forEach((p, i) =>
        fromExport.labels.forEach((label, j) =>
          expect(Math.abs(fromExport.predictions[i].probabilities[label] - p.probabilities[j])).toBeLessThan(1e-4),
        ),
      );
      // Trained, not a coin flip everywhere.
      expect(inMemory.some((p) => Math.abs(p.probabilities[0] - 0.5) > 0.01)).toBe(true);
    } finally {
      model.dispose();
    }
  });

  it('refuses flags that mean nothing to SetFit, before any work', async () => {
    for (const [flags, name] of [
      [['--job-out', join(root, 'job')], /--job-out cannot be combined with --method setfit/],
      [['--template', 'x [MASK]'], /--template and --verbalizer need --method prompt/],
      [['--class-weights', 'balanced'], /--class-weights works with --method head only/],
      [['--head-c', '0'], /--head-c must be a positive number/],
    ] as const) {
      const result = await runCli([
        'train',
        '--method',
        'setfit',
        '--model',
        ST_MEAN,
        '--train',
        trainFile,
        '--out',
        join(root, 'refused'),
        ...flags,
      ]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(name);
    }
  });
});

describe('fewshot train --method setfit --cv', () => {
  it('cross-validates SetFit like the other methods', async () => {
    const out = join(root, 'cv');
    const result = await runCli([
      'train',
      '--method',
      'setfit',
      '--model',
      ST_MEAN,
      '--train',
      trainFile,
      '--cv',
      '2',
      '--out',
      out,
      '--backend',
      'cpu',
      '--json',
      ...SETTINGS,
    ]);
    expect(result.code).toBe(0);
    const metrics = JSON.parse(result.stdout);
    expect(metrics.method).toBe('setfit');
    expect(metrics.crossValidation).toMatchObject({ folds: 2, rows: 8, method: 'setfit', complete: true });
    expect(metrics.crossValidation.perFold.map((f: { testRows: number }) => f.testRows)).toEqual([4, 4]);
    expect(metrics.setfit.head.converged).toBe(true);
  });
});
