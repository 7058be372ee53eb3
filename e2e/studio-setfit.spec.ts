/**
 * SetFit in the studio on WebGPU (docs/USER_GUIDE.md, "SetFit"): pick SetFit on the micro model,
 * train on a dropped CSV, see both stages, the playground shows probabilities and the nearest
 * training examples, export a sentence-transformers folder with the head, reload it: same predictions.
 */
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { csvFile, sst2Csv } from './fixtures/datasets';
import { Studio, studioState } from './studio';

test('SetFit: train, two stages, nearest examples, export, reload with the same predictions', async ({
  page,
}, testInfo) => {
  test.setTimeout(540_000);
  const studio = new Studio(page);
  const out = (name: string) => testInfo.outputPath(name);
  await studio.open();
  await studio.waitForEngine();
  await studio.waitForModel();
  await studio.dropDataFile(csvFile('sst2-24.csv', sst2Csv(24)));
  await expect.poll(() => studioState(page, (s) => s.dataset?.examples.length)).toBe(24);

  await studio.tab('train');
  await page.getByTestId('method-setfit').check();
  await expect(page.getByTestId('setfit-fields')).toContainText('sentence-embedding model');
  await page.getByTestId('setting-setfitIterations').fill('2');
  await page.getByTestId('setting-epochs').fill('1');
  await page.getByTestId('setting-batchSize').fill('8');
  await page.getByTestId('setting-maxLength').fill('32');
  // The plan says what SetFit will do before Start: pairs from R = 2 rounds, the head's C on auto.
  await expect(page.getByTestId('train-plan-setfit')).toContainText(/\d+ pairs per epoch \(R = 2:/, {
    timeout: 60_000,
  });
  await expect(page.getByTestId('train-plan-setfit')).toContainText('C = 1');
  await expect(page.getByTestId('setting-setfitC')).toHaveAttribute('placeholder', 'auto: 1');
  const draft = (await studioState(page, (s) => s.draftPlan))!;
  expect(draft.method).toBe('setfit');
  // Every training row gets one positive and one negative pair per round.
  expect(draft.setfit!.pairs).toBe(2 * 2 * draft.trainCount);
  expect(draft.totalSteps).toBe(Math.ceil(draft.setfit!.pairs / 8));

  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('setfit-stages').locator('[data-stage="body"]')).toHaveAttribute(
    'data-status',
    'running',
    { timeout: 120_000 },
  );
  await expect(page.getByRole('heading', { name: 'Pair loss (cosine similarity)' })).toBeVisible();
  await expect
    .poll(() => studioState(page, (s) => s.summary !== null && s.trainingState === 'idle'), { timeout: 400_000 })
    .toBe(true);
  expect(await studioState(page, (s) => s.trainingError)).toBeNull();
  const stages = page.getByTestId('setfit-stages');
  await expect(stages.locator('[data-stage="body"]')).toHaveAttribute('data-status', 'done');
  await expect(stages.locator('[data-stage="head"]')).toHaveAttribute('data-status', 'done');
  await expect(stages.locator('[data-stage="head"]')).toContainText(/converged after \d+ L-BFGS iterations/);
  // Dev rows were scored during the body stage with a head fitted at each evaluation.
  expect(await studioState(page, (s) => s.evaluations.length)).toBeGreaterThan(0);
  expect(await studioState(page, (s) => s.losses.length)).toBe(draft.totalSteps);
  expect(await studioState(page, (s) => s.model!.setfit)).toMatchObject({ C: 1 });
  await studio.screenshot('setfit-train-done', out);

  // Playground: probabilities from the SetFit head and the nearest training examples.
  await studio.tab('playground');
  await expect(page.getByRole('heading', { name: /Playground · SetFit/ })).toBeVisible();
  const text = 'an utterly charming film';
  await page.getByTestId('play-text').fill(text);
  await expect.poll(() => studioState(page, (s) => s.predictionLog.at(-1)?.text), { timeout: 120_000 }).toBe(text);
  await expect(page.getByTestId('play-bars')).toBeVisible();
  await expect(page.getByTestId('play-nearest-row')).toHaveCount(3);
  const nearest = (await studioState(page, (s) => s.playNearest))!;
  const trainTexts = await studioState(page, (s) => s.plan!.trainExamples.map((e) => e.text));
  for (const n of nearest) expect(trainTexts).toContain(n.text);
  expect(nearest[0].similarity).toBeGreaterThanOrEqual(nearest[2].similarity);
  const before = await studioState(page, (s) => s.predictionLog.at(-1)!.probabilities);
  expect(before.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  await studio.screenshot('setfit-playground', out);

  // Export: a sentence-transformers folder with the head; its README says how to load both.
  await studio.tab('model');
  await expect(page.getByTestId('model-setfit')).toContainText('SetFit head');
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 120_000 }),
    page.getByTestId('export-model').click(),
  ]);
  const files = unzipSync(new Uint8Array(await readFile((await download.path())!)));
  for (const name of [
    'config.json',
    'model.safetensors',
    'modules.json',
    '1_Pooling/config.json',
    'setfit_head.json',
    'setfit_head.safetensors',
  ])
    expect(Object.keys(files)).toContain(name);
  const readme = new TextDecoder().decode(files['README.md']);
  expect(readme).toContain('## Use in Python');
  expect(readme).toContain('## Training');
  expect(readme).toContain('### Method: SetFit');
  const head = JSON.parse(new TextDecoder().decode(files['setfit_head.json'])) as { labels: string[] };
  expect(head.labels).toEqual(await studioState(page, (s) => s.plan!.labels));

  // Reload the export as a dropped folder: the same text gets the same probabilities.
  const folder = await mkdtemp(join(tmpdir(), 'setfit-export-'));
  const modelDir = join(folder, 'setfit-model');
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(dirname(join(modelDir, name)), { recursive: true });
    await writeFile(join(modelDir, name), bytes);
  }
  const answered = await studioState(page, (s) => s.predictionLog.length);
  await page.getByTestId('model-folder-input').setInputFiles(modelDir);
  await expect.poll(() => studioState(page, (s) => s.model?.name), { timeout: 120_000 }).toBe('setfit-model');
  expect(await studioState(page, (s) => s.model!.setfit)).toMatchObject({ C: 1, examples: null });
  await studio.tab('playground');
  await page.getByTestId('play-text').fill('');
  await page.getByTestId('play-text').fill(text);
  await expect
    .poll(() => studioState(page, (s) => s.predictionLog.length), { timeout: 120_000 })
    .toBeGreaterThan(answered);
  const after = await studioState(page, (s) => s.predictionLog.at(-1)!.probabilities);
  after.forEach((p, i) => expect(Math.abs(p - before[i])).toBeLessThan(1e-4));
  // A loaded SetFit folder carries no training texts: the playground says so.
  await expect(page.getByTestId('play-nearest-none')).toBeVisible();
  await rm(folder, { recursive: true, force: true });
});
