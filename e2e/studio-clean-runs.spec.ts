/**
 * Runs start clean (docs/USER_GUIDE.md, "Train"): every run starts from the base model unless
 * "Continue from the current weights" is ticked, and "Reset to base model" puts the base back.
 */
import { expect, test, type Page } from '@playwright/test';
import { Studio, studioState } from './studio';
import { csvFile, sst2Csv } from './fixtures/datasets';

const TEXT = 'an utterly charming film';

async function trainOnce(page: Page): Promise<number[]> {
  const runs = await studioState(page, (s) => s.methodRuns.length);
  await page.getByTestId('train-start').click();
  await expect
    .poll(() => studioState(page, (s) => s.trainingState !== 'idle' || s.summary !== null), { timeout: 30_000 })
    .toBe(true);
  await expect
    .poll(() => studioState(page, (s) => s.summary !== null && s.trainingState === 'idle'), { timeout: 120_000 })
    .toBe(true);
  await expect.poll(() => studioState(page, (s) => s.methodRuns.length)).toBe(runs + 1);
  return studioState(page, (s) => s.losses.map((p) => p.loss));
}

/** The playground's probabilities for TEXT with the weights as they are now. */
async function probabilities(studio: Studio, page: Page): Promise<number[]> {
  await studio.tab('playground');
  const answered = await studioState(page, (s) => s.predictionLog.length);
  await page.getByTestId('play-text').fill('');
  await page.getByTestId('play-text').fill(TEXT);
  await expect.poll(() => studioState(page, (s) => s.predictionLog.length)).toBeGreaterThan(answered);
  await expect.poll(() => studioState(page, (s) => s.predictionLog.at(-1)!.text)).toBe(TEXT);
  return studioState(page, (s) => s.predictionLog.at(-1)!.probabilities);
}

test('runs start from the base model; continue stacks; Reset restores the fresh model', async ({ page }) => {
  test.setTimeout(120_000);
  const studio = new Studio(page);
  await studio.open();
  await studio.waitForEngine();
  await studio.waitForModel();
  const fresh = await probabilities(studio, page);

  await studio.dropDataFile(csvFile('sst2-16.csv', sst2Csv(16)));
  await expect.poll(() => studioState(page, (s) => s.dataset?.examples.length)).toBe(16);
  await studio.tab('train');
  await page.getByTestId('setting-batchSize').fill('4');
  await page.getByTestId('setting-epochs').fill('1');
  await expect(page.getByTestId('train-continue')).not.toBeChecked();

  const first = await trainOnce(page);
  expect(first.length).toBeGreaterThan(0);
  expect(await studioState(page, (s) => s.weightsAtBase)).toBe(false);
  const second = await trainOnce(page);
  // Both from the base model: the same first step (it would have a lower loss on trained weights).
  expect(second[0]).toBe(first[0]);
  expect(second).toEqual(first);

  await page.getByTestId('train-continue').check();
  const continued = await trainOnce(page);
  expect(continued[0]).not.toBe(first[0]);
  expect(await studioState(page, (s) => s.methodRuns.map((r) => r.startedFrom))).toEqual(['base', 'base', 'tuned']);
  await expect(page.getByTestId('method-run-weights')).toHaveText([
    'from the base model',
    'from the base model',
    'from tuned weights',
  ]);

  const tuned = await probabilities(studio, page);
  expect(tuned).not.toEqual(fresh);
  await studio.tab('model');
  await expect(page.getByTestId('model-weights-state')).toHaveText('tuned weights');
  await page.getByTestId('model-reset-base').click();
  await expect.poll(() => studioState(page, (s) => s.weightsAtBase)).toBe(true);
  await expect(page.getByTestId('model-weights-state')).toHaveText('base weights');
  expect(await probabilities(studio, page)).toEqual(fresh);
});
