/**
 * `fewshot train --job-out` writes a run as a training bundle; `fewshot train --job` runs the
 * bundle's job.json with our own trainer and must retrace the run's losses (issue: outgrowing the
 * browser; docs/ARCHITECTURE.md, "Training jobs").
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toyCsv } from '../../../tests/support/toy-data';
import { runCli, trainLogLosses } from '../test-support';

const GOLDEN_DIR = 'tests/fixtures/golden-micro/model';

const METHODS = {
  head: [] as string[],
  prompt: [
    '--method',
    'prompt',
    '--template',
    '{text} it was [MASK] .',
    '--verbalizer',
    '{"pos":["good"],"neg":["bad"]}',
  ],
};

/** Trains on `rows` toy rows into DIR/run with its bundle in DIR/bundle; returns DIR and what the CLI said. */
async function trainWithBundle(rows: number, seed: number, flags: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'fewshot-train-job-'));
  writeFileSync(join(dir, 'train.csv'), toyCsv(rows, seed));
  const result = await runCli([
    'train',
    ...['--model', GOLDEN_DIR, '--train', join(dir, 'train.csv'), '--out', join(dir, 'run')],
    ...['--job-out', join(dir, 'bundle'), '--backend', 'cpu'],
    ...flags,
  ]);
  expect(result.code, result.stderr).toBe(0);
  return { dir, result };
}

describe('fewshot train --job-out / --job', () => {
  for (const [method, flags] of Object.entries(METHODS)) {
    it(`reruns a ${method} run from its bundle with the same first 10 losses`, async () => {
      const { dir, result: first } = await trainWithBundle(48, 5, [
        ...['--batch-size', '4', '--epochs', '2', '--seed', '3'],
        ...flags,
      ]);
      expect(first.stderr).toMatch(/Wrote the training bundle .* the starting weights are included: \d+\.\d MB/);
      const job = JSON.parse(readFileSync(join(dir, 'bundle', 'job.json'), 'utf8'));
      expect(job).toMatchObject({ method, batchSize: 4, epochs: 2, seed: 3, model: { source: 'included' } });

      const rerun = await runCli([
        'train',
        '--job',
        join(dir, 'bundle', 'job.json'),
        '--out',
        join(dir, 'rerun'),
        '--backend',
        'cpu',
        '--json',
      ]);
      expect(rerun.code, rerun.stderr).toBe(0);
      const original = trainLogLosses(join(dir, 'run'));
      const again = trainLogLosses(join(dir, 'rerun'));
      expect(original.length).toBeGreaterThanOrEqual(10);
      for (let i = 0; i < 10; i++) {
        expect(again[i].step).toBe(original[i].step);
        expect(Math.abs(again[i].loss! - original[i].loss!)).toBeLessThan(1e-4);
      }
      // The rerun compares itself with the losses job.json keeps, and says so.
      const metrics = JSON.parse(rerun.stdout);
      expect(metrics.job.comparedSteps).toBeGreaterThanOrEqual(10);
      expect(metrics.job.maxLossDifference).toBeLessThan(1e-4);
      expect(metrics.labels).toEqual(job.labels);
    });
  }

  it('refuses flags the job fixes, a Hub job with no local copy and a newer job version', async () => {
    const { dir } = await trainWithBundle(24, 1, ['--epochs', '1']);
    const jobPath = join(dir, 'bundle', 'job.json');
    const spec = JSON.parse(readFileSync(jobPath, 'utf8'));

    const fixed = await runCli(['train', '--job', jobPath, '--out', join(dir, 'x'), '--epochs', '3']);
    expect(fixed.code).not.toBe(0);
    expect(fixed.stderr).toContain('--epochs cannot be combined with --job');

    writeFileSync(
      jobPath,
      JSON.stringify({ ...spec, model: { source: 'hub', repo: 'org/model', revision: 'c'.repeat(40), name: 'model' } }),
    );
    const hub = await runCli(['train', '--job', jobPath, '--out', join(dir, 'y')]);
    expect(hub.code).not.toBe(0);
    expect(hub.stderr).toContain(`huggingface-cli download org/model --revision ${'c'.repeat(40)}`);

    writeFileSync(jobPath, JSON.stringify({ ...spec, version: 7 }));
    const newer = await runCli(['train', '--job', jobPath, '--out', join(dir, 'z')]);
    expect(newer.code).not.toBe(0);
    expect(newer.stderr).toContain('is a version 7 training job');
  });
});
