/**
 * Bigger than a browser (docs/USER_GUIDE.md): a studio run exports as a training bundle for Hugging
 * Face transformers whose data is the run's split row for row, whose job.json our own trainer
 * reruns with the run's losses, and whose starting weights are included when they are not on the Hub.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import { Studio, studioState } from './studio';
import { csvFile, sst2Csv } from './fixtures/datasets';

/** RFC 4180 rows of a bundle CSV (the header first); quoted fields may hold commas, quotes and line breaks. */
function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

test('a run exports as a training job: its split, its settings, its weights, its losses', async ({ page }) => {
  test.setTimeout(240_000);
  const studio = new Studio(page);
  await studio.open();
  await studio.waitForEngine();
  await studio.waitForModel();
  await studio.dropDataFile(csvFile('sst2-20.csv', sst2Csv(20)));
  await expect.poll(() => studioState(page, (s) => s.dataset?.examples.length)).toBe(20);
  await studio.tab('train');
  await page.getByTestId('setting-batchSize').fill('4');
  await page.getByTestId('setting-epochs').fill('3');
  await page.getByTestId('train-start').click();
  await expect
    .poll(() => studioState(page, (s) => s.summary !== null && s.trainingState === 'idle'), { timeout: 200_000 })
    .toBe(true);
  const run = await studioState(page, (s) => ({
    plan: s.runs[0].plan!,
    losses: s.losses.map((p) => p.loss),
  }));
  expect(run.plan.start).toMatchObject({ kind: 'url', name: 'micro-random' });
  expect(run.losses.length).toBeGreaterThanOrEqual(10);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('run-job-1').click()]);
  expect(download.suggestedFilename()).toMatch(/-training-job\.zip$/);
  await expect(page.getByTestId('run-job-note')).toContainText(
    /starting weights \(micro-random, [\d.]+ [kM]i?B\) are included/,
  );

  // Unzipped: the files the README promises, and data/ is the run's split row for row.
  const dir = await mkdtemp(join(tmpdir(), 'fewshot-e2e-job-'));
  const files = unzipSync(new Uint8Array(await readFile((await download.path())!)));
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), bytes);
  }
  const root = Object.keys(files)[0].split('/')[0];
  expect(Object.keys(files).map((n) => n.slice(root.length + 1))).toEqual(
    expect.arrayContaining([
      'job.json',
      'data/train.csv',
      'data/dev.csv',
      'train.py',
      'requirements.txt',
      'multi_node.yaml',
      'README.md',
      'model/config.json',
      'model/model.safetensors',
      'model/vocab.txt',
    ]),
  );
  const text = (name: string) => new TextDecoder().decode(files[`${root}/${name}`]);
  const asRows = (examples: { text: string; label: string | null }[]) => examples.map((e) => [e.text, e.label]);
  expect(csvRows(text('data/train.csv'))).toEqual([['text', 'label'], ...asRows(run.plan.trainExamples)]);
  expect(csvRows(text('data/dev.csv'))).toEqual([['text', 'label'], ...asRows(run.plan.devExamples)]);
  const job = JSON.parse(text('job.json'));
  expect(job).toMatchObject({
    method: 'head',
    labels: run.plan.labels,
    batchSize: 4,
    epochs: 3,
    learningRate: run.plan.learningRate,
    maxLength: run.plan.maxLength,
    seed: run.plan.seed,
    model: { source: 'included', path: 'model', name: 'micro-random' },
  });

  // Our own trainer reruns the job on wasm in Node: the studio's WebGPU losses, step for step.
  const out = join(dir, 'rerun');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['bin/fewshot.js', 'train', '--job', join(dir, root, 'job.json'), '--out', out, '--backend', 'wasm', '--json'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const rerun = (await readFile(join(out, 'train_log.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((e) => e.loss !== undefined)
    .map((e) => e.loss as number);
  for (let i = 0; i < 10; i++) expect(Math.abs(rerun[i] - run.losses[i])).toBeLessThan(1e-4);
  expect(JSON.parse(stdout).job.comparedSteps).toBeGreaterThanOrEqual(10);

  // A run that continued from trained weights has no starting model to name: no job.
  await page.getByTestId('setting-epochs').fill('1');
  await page.getByTestId('train-continue').check();
  await page.getByTestId('train-start').click();
  await expect.poll(() => studioState(page, (s) => s.runs.length)).toBe(2);
  await expect
    .poll(() => studioState(page, (s) => s.summary !== null && s.trainingState === 'idle'), { timeout: 200_000 })
    .toBe(true);
  await expect(page.getByTestId('run-job-2')).toBeDisabled();
  await expect(page.getByTestId('run-job-1')).toBeEnabled();
});
