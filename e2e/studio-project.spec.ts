/**
 * Projects survive a reload (docs/USER_GUIDE.md, "Your data"): a run interrupted by a reload
 * resumes with the losses an uninterrupted run has, and so does a run whose GPU device is lost; the
 * data, settings and charts come back, a full
 * quota is reported without losing what was stored, and "Clear saved project" forgets it all.
 */
import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import { Studio, studioState } from './studio';
import { csvFile, sst2Csv } from './fixtures/datasets';

/** Checkpoint at every loss readback, so a reload always finds a recent one. */
const QUERY = '?checkpointSeconds=0';
const DATA = csvFile('sst2-16.csv', sst2Csv(16));

/** Opens the studio, loads the data and sets a short, many-step run (4 rows per batch, 6 epochs). */
async function prepareRun(page: Page): Promise<Studio> {
  const studio = new Studio(page);
  await studio.open(QUERY);
  await studio.waitForEngine();
  await studio.waitForModel();
  await studio.dropDataFile(DATA);
  await expect.poll(() => studioState(page, (s) => s.dataset?.fileName)).toBe('sst2-16.csv');
  await studio.tab('train');
  await page.getByTestId('setting-batchSize').fill('4');
  await page.getByTestId('setting-epochs').fill('6');
  // No early stopping: every run has all 18 steps, so there is time to interrupt it.
  await page.getByText('Advanced').click();
  await page.getByTestId('setting-patience').fill('0');
  return studio;
}

async function waitForDone(page: Page): Promise<void> {
  await expect
    .poll(() => studioState(page, (s) => s.summary !== null && s.trainingState === 'idle'), { timeout: 400_000 })
    .toBe(true);
}

const lossesOf = (page: Page) => studioState(page, (s) => s.losses.map((p) => [p.step, p.loss]));

test('reload mid-training → restored → resume; device lost → recovered: the losses of an uninterrupted run', async ({
  page,
  browser,
  baseURL,
}) => {
  // Two micro runs and three reloads on SwiftShader.
  test.setTimeout(540_000);
  // The reference: the same data and settings, never interrupted, in a separate browser profile.
  const referenceContext = await browser.newContext({ baseURL });
  const referencePage = await referenceContext.newPage();
  await prepareRun(referencePage);
  await referencePage.getByTestId('train-start').click();
  await waitForDone(referencePage);
  const reference = await lossesOf(referencePage);
  const referenceBest = await studioState(referencePage, (s) => s.summary!.bestMetrics);
  const totalSteps = reference.length;
  expect(totalSteps).toBe(18);
  expect(reference.map(([step]) => step)).toEqual(Array.from({ length: totalSteps }, (_, i) => i + 1));
  await referenceContext.close();

  // The interrupted run: reload once a checkpoint past the first epoch is saved.
  const studio = await prepareRun(page);
  await page.getByTestId('train-start').click();
  await expect
    .poll(() => studioState(page, (s) => s.lastCheckpointStep ?? 0), { timeout: 300_000, intervals: [100] })
    .toBeGreaterThanOrEqual(3);
  expect(await studioState(page, (s) => s.trainingState)).not.toBe('idle');
  // Leaving while a run is going asks first (the steps since the last checkpoint would be lost).
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.type());
    void dialog.accept();
  });
  await page.reload();
  expect(dialogs).toEqual(['beforeunload']);

  // Reopened: the data, the settings, the run's charts up to its checkpoint, and the offer to resume.
  await studio.waitForEngine();
  await studio.waitForModel();
  await expect.poll(() => studioState(page, (s) => s.dataset?.fileName)).toBe('sst2-16.csv');
  await studio.tab('train');
  await expect(page.getByTestId('resume-offer')).toBeVisible();
  const step = (await studioState(page, (s) => s.resumable?.step))!;
  expect(step).toBeGreaterThanOrEqual(3);
  expect(step).toBeLessThan(totalSteps);
  await expect(page.getByTestId('setting-epochs')).toHaveValue('6');
  await expect(page.getByTestId('setting-batchSize')).toHaveValue('4');
  const kept = await lossesOf(page);
  expect(kept.map(([s]) => s)).toEqual(Array.from({ length: step }, (_, i) => i + 1));
  await studio.tab('model');
  await expect(page.getByTestId('project-restored')).toContainText('sst2-16.csv');

  await studio.tab('train');
  await page.getByTestId('resume-run').click();
  // Then the GPU device is lost (destroyed through the test hook) after one more checkpoint: the
  // backend and the model come back and the run goes on from that checkpoint.
  await expect
    .poll(() => studioState(page, (s) => s.lastCheckpointStep ?? 0), { timeout: 300_000, intervals: [100] })
    .toBeGreaterThanOrEqual(step + 3);
  expect(await page.evaluate(() => window.__studio!.loseGpuDevice())).toBe(true);
  await expect(page.getByTestId('train-device-notice')).toContainText('The GPU device was lost');
  await waitForDone(page);
  expect(await studioState(page, (s) => s.capability?.backend)).toBe('webgpu');
  const resumed = await lossesOf(page);
  expect(resumed.map(([s]) => s)).toEqual(reference.map(([s]) => s));
  for (let i = 0; i < reference.length; i++) expect(Math.abs(resumed[i][1] - reference[i][1])).toBeLessThan(1e-4);
  // The same final metrics as the uninterrupted run.
  const best = await studioState(page, (s) => s.summary!.bestMetrics);
  expect(best!.accuracy).toBeCloseTo(referenceBest!.accuracy, 6);
  expect(best!.macroF1).toBeCloseTo(referenceBest!.macroF1, 6);

  // The runs list: the run with its scores; ticked, its curves overlay; its model exports as a zip.
  await expect(page.getByTestId('runs-list')).toContainText('Run 1');
  await page.getByTestId('run-compare-1').check();
  await expect(page.getByTestId('runs-loss-overlay').locator('.recharts-line')).toHaveCount(1);
  await expect(page.getByTestId('runs-accuracy-overlay').locator('.recharts-line')).toHaveCount(1);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('run-export-1').click()]);
  const files = unzipSync(new Uint8Array(await readFile((await download.path())!)));
  expect(Object.keys(files)).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'metrics.json']));

  // A full quota (simulated: it cannot be caused here) is reported; what was stored stays.
  await page.evaluate(() => window.__studio!.failNextStorageWrite());
  await page.getByTestId('setting-seed').fill('99');
  await studio.tab('model');
  await expect(page.getByTestId('storage-error')).toContainText('storage for this site is full');
  await page.reload();
  await studio.waitForModel();
  await expect.poll(() => studioState(page, (s) => s.dataset?.fileName)).toBe('sst2-16.csv');
  expect(await studioState(page, (s) => [s.settings.seed, s.settings.epochs, s.runs.length])).toEqual([null, 6, 1]);
  // The finished run's charts and the trained model came back too.
  expect((await lossesOf(page)).length).toBe(totalSteps);
  await expect(page.getByTestId('project-restored')).toContainText('as your last run left it');

  // Deleting a run drops it from the list (and from storage).
  await studio.tab('train');
  await page.getByTestId('run-delete-1').click();
  await expect(page.getByTestId('runs-list')).toHaveCount(0);
  await studio.tab('model');

  // Clearing forgets everything: the next start is a new project.
  await page.getByTestId('clear-project').click();
  await page.getByTestId('clear-project-confirm').click();
  await expect(page.getByTestId('project-restored')).toHaveCount(0);
  await page.reload();
  await studio.waitForModel();
  await studio.tab('model');
  await expect(page.getByTestId('storage-usage')).toBeVisible();
  expect(await studioState(page, (s) => [s.dataset, s.runs.length, s.restoredNote])).toEqual([null, 0, null]);
});
