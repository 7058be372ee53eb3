/**
 * Feedback at every moment (docs/USER_GUIDE.md, "Train" and "Playground"): a time estimate from a
 * probe before Start, the first step's time and no stale ETA after the run, and a playground that
 * says when its answer is for an earlier text or still on its way.
 */
import { expect, test } from '@playwright/test';
import { Studio, studioState } from './studio';
import { csvFile, sst2Csv } from './fixtures/datasets';

test('estimate before Start, phases and first step during the run, honest playground', async ({ page }) => {
  test.setTimeout(180_000);
  const studio = new Studio(page);
  await studio.open();
  await studio.waitForEngine();
  await studio.waitForModel();
  await studio.dropDataFile(csvFile('sst2-16.csv', sst2Csv(16)));
  await expect.poll(() => studioState(page, (s) => s.dataset?.examples.length)).toBe(16);
  await studio.tab('train');
  await page.getByTestId('setting-batchSize').fill('4');
  await page.getByTestId('setting-epochs').fill('2');
  await expect.poll(() => studioState(page, (s) => s.draftPlan?.epochs)).toBe(2);

  // The probe: timed on this machine, over the plan's steps; the weights are untouched.
  await page.getByTestId('train-estimate').click();
  const totalSteps = (await studioState(page, (s) => s.draftPlan!.totalSteps))!;
  await expect(page.getByTestId('train-estimate-result')).toContainText(
    new RegExp(`^About .+ for ${totalSteps} steps: one step took [\\d.]+ s here on a batch of 4 × \\d+ tokens`),
  );
  expect(await studioState(page, (s) => s.weightsAtBase)).toBe(true);
  // Another setting, another run: the old estimate goes.
  await page.getByTestId('setting-epochs').fill('3');
  await expect(page.getByTestId('train-estimate-result')).toHaveCount(0);

  await page.getByTestId('train-start').click();
  await expect
    .poll(() => studioState(page, (s) => s.summary !== null && s.trainingState === 'idle'), { timeout: 150_000 })
    .toBe(true);
  // After the run: how long the first step took (it compiled the GPU programs), and no ETA.
  await expect(page.getByTestId('train-progress')).toContainText(/first step [\d.]+ s \(with compiling\)/);
  await expect(page.getByTestId('train-progress')).not.toContainText('ETA');

  // The playground marks an answer that belongs to the previous text until the new one arrives.
  await studio.tab('playground');
  await page.getByTestId('play-text').fill('a gorgeous , witty film');
  await expect.poll(() => studioState(page, (s) => s.playAnsweredText)).toBe('a gorgeous , witty film');
  await expect(page.getByTestId('play-stale')).toHaveCount(0);
  await page.getByTestId('play-text').fill('a dull , tedious mess');
  await expect(page.getByTestId('play-stale')).toBeVisible();
  await expect.poll(() => studioState(page, (s) => s.playAnsweredText)).toBe('a dull , tedious mess');
  await expect(page.getByTestId('play-stale')).toHaveCount(0);
  await expect(page.getByTestId('play-busy')).toHaveCount(0);
});

test('the Data panel names unlabeled rows, flags a one-example class, and labels the cut-off', async ({ page }) => {
  const studio = new Studio(page);
  await studio.open();
  await studio.waitForEngine();
  await studio.waitForModel();
  const rows = [
    'text,label',
    'a warm and funny film,positive',
    'no label here,',
    'a dull and tedious mess,negative',
    'a lovely surprise,positive',
    'flat and lifeless,negative',
    'neither here nor there,neutral',
  ];
  await studio.dropDataFile(csvFile('mixed.csv', Buffer.from(`${rows.join('\n')}\n`)));
  await expect.poll(() => studioState(page, (s) => s.dataset?.fileName)).toBe('mixed.csv');
  // The file's row 3 (the header is row 1) has no label; "neutral" has a single example.
  await expect(page.getByTestId('unlabeled-rows')).toHaveText(/1 unlabeled row \(ignored by training\): row 3$/);
  await expect(page.getByTestId('one-example-class')).toContainText('Label neutral has only one example');
  await expect(page.getByTestId('validation-list')).not.toContainText('No problems found');
  await expect(page.getByTestId('token-chart')).toContainText(/cut at \d+/);
});
