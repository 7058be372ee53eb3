/**
 * A newcomer's first hour (issue 24's acceptance, docs/USER_GUIDE.md): open the studio → a sample
 * dataset in one click → Train with the defaults shown before Start → a time estimate and the
 * phases of the run → a cross-validated estimate with its ± → the sample's test file evaluated →
 * the model exported → the zip dropped on the Model panel → the same playground probabilities.
 */
import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { Studio, studioState } from './studio';

const TEXT = 'the food was lovely and the staff were kind';

/** Drops bytes as one file on a drop zone (a real DataTransfer with a File). */
async function dropBytes(page: Page, testId: string, name: string, type: string, bytes: Uint8Array): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    ({ name, type, bytes }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], name, { type }));
      return transfer;
    },
    { name, type, bytes: [...bytes] },
  );
  await page.getByTestId(testId).dispatchEvent('dragover', { dataTransfer });
  await page.getByTestId(testId).dispatchEvent('drop', { dataTransfer });
}

async function probabilities(studio: Studio, page: Page): Promise<number[]> {
  await studio.tab('playground');
  const answered = await studioState(page, (s) => s.predictionLog.length);
  await page.getByTestId('play-text').fill('');
  await page.getByTestId('play-text').fill(TEXT);
  await expect
    .poll(() => studioState(page, (s) => s.predictionLog.length), { timeout: 60_000 })
    .toBeGreaterThan(answered);
  await expect.poll(() => studioState(page, (s) => s.predictionLog.at(-1)!.text)).toBe(TEXT);
  return studioState(page, (s) => s.predictionLog.at(-1)!.probabilities);
}

test('the first hour: sample → defaults → estimate → cross-validation → test file → export → reopen', async ({
  page,
}, testInfo) => {
  const out = (name: string) => testInfo.outputPath(name);
  test.setTimeout(480_000);
  const studio = new Studio(page);
  await studio.open();
  await studio.waitForEngine();
  await studio.waitForModel();

  // One click on a sample: the data is loaded as a dropped file would be.
  await expect(page.getByTestId('start-here')).toBeVisible();
  await studio.screenshot('first-hour-start', out);
  await page.getByTestId('sample-reviews').click();
  await expect.poll(() => studioState(page, (s) => s.dataset?.examples.length)).toBe(32);
  await page.getByTestId('data-next-train').click();

  // The defaults are shown before Start; small settings keep the micro run short on SwiftShader.
  await expect(page.getByTestId('train-draft-plan')).toContainText('Start will run', { timeout: 60_000 });
  await expect(page.getByTestId('train-draft-plan')).toContainText('epochs');
  await page.getByTestId('setting-epochs').fill('2');
  await page.getByTestId('setting-batchSize').fill('8');
  await page.getByTestId('setting-maxLength').fill('32');
  await page.getByTestId('train-estimate').click();
  await expect(page.getByTestId('train-estimate-result')).toContainText(/^About .+ steps: one step took/, {
    timeout: 120_000,
  });

  // 32 rows: the dev split would be tiny, so cross-validation is the recommended estimate.
  await expect(page.getByTestId('cv-advice')).toContainText('Recommended: cross-validation', { timeout: 60_000 });
  await page.getByTestId('cv-folds-input').fill('3');
  await page.getByTestId('cv-start').click();
  await expect(page.getByTestId('cv-progress')).toContainText('fold 1 of 3', { timeout: 60_000 });
  await expect(page.getByTestId('cv-result-text')).toContainText(
    /accuracy \d+ % ± \d+ \(3-fold cross-validation, 32 rows\)/,
    {
      timeout: 300_000,
    },
  );
  await expect
    .poll(() => studioState(page, (s) => s.trainingState === 'idle' && s.summary !== null), { timeout: 120_000 })
    .toBe(true);
  await expect(page.getByTestId('train-progress')).toContainText(/first step [\d.]+ s/);
  await studio.screenshot('first-hour-train', out);

  // The sample's held-out test file, evaluated in Evaluate.
  await studio.tab('evaluate');
  const testCsv = await (await page.request.get('/samples/reviews-test.csv')).body();
  await dropBytes(page, 'test-file-dropzone', 'reviews-test.csv', 'text/csv', new Uint8Array(testCsv));
  await expect(page.getByTestId('test-file-result')).toContainText('Test-file results: reviews-test.csv', {
    timeout: 120_000,
  });
  await expect(page.getByTestId('test-accuracy-uncertainty')).toHaveText(/± \d+/);
  await studio.screenshot('first-hour-evaluate', out);

  // Export, then open the zip again: the playground answers the same.
  const before = await probabilities(studio, page);
  await studio.tab('model');
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 120_000 }),
    page.getByTestId('export-model').click(),
  ]);
  const zip = new Uint8Array(await readFile((await download.path())!));
  await dropBytes(page, 'model-dropzone', 'my-reviews-fewshot.zip', 'application/zip', zip);
  await expect.poll(() => studioState(page, (s) => s.model?.name), { timeout: 120_000 }).toBe('my-reviews');
  expect(await studioState(page, (s) => s.modelError)).toBeNull();
  const after = await probabilities(studio, page);
  await studio.screenshot('first-hour-playground', out);
  expect(after).toHaveLength(before.length);
  after.forEach((p, i) => expect(Math.abs(p - before[i])).toBeLessThan(1e-6));
});
