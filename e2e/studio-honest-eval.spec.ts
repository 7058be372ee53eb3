/**
 * Honest evaluation (docs/USER_GUIDE.md, "Cross-validation" and "Test file"): on a dataset too
 * small for a useful dev split the Train panel recommends k-fold cross-validation; it runs fold by
 * fold ("fold 2 of 3"), can be stopped (the base weights come back), reports mean ± std in plain
 * words, trains the final model on all rows, and a dropped labeled test file is scored apart from
 * the dev figures, with an unknown label named by its row. Micro model on WebGPU (SwiftShader).
 */
import { expect, test, type Page } from '@playwright/test';
import { csvFile, sst2Csv } from './fixtures/datasets';
import { Studio, studioState } from './studio';

/** Every text the cross-validation status line showed, recorded as the DOM changes (no polling gaps). */
async function recordCvStatus(page: Page): Promise<void> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __cvStatus: string[] }).__cvStatus = seen;
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="cv-progress"]')?.textContent ?? null;
      if (text !== null && seen.at(-1) !== text) seen.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

/** Drags a file onto a drop zone (a real DataTransfer with a File). */
async function dropFile(page: Page, testId: string, name: string, text: string): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    ({ name, text }) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], name, { type: 'text/csv' }));
      return transfer;
    },
    { name, text },
  );
  await page.getByTestId(testId).dispatchEvent('dragover', { dataTransfer });
  await page.getByTestId(testId).dispatchEvent('drop', { dataTransfer });
}

test('cross-validation on a small dataset, then a labeled test file in Evaluate', async ({ page }, testInfo) => {
  test.setTimeout(420_000);
  const studio = new Studio(page);
  const out = (name: string) => testInfo.outputPath(name);
  await studio.open();
  await studio.waitForEngine();
  await studio.waitForModel();

  // 12 rows: the automatic dev split would hold 2–3 rows, so cross-validation is recommended.
  await studio.dropDataFile(csvFile('sst2-12.csv', sst2Csv(12)));
  await expect.poll(() => studioState(page, (s) => s.dataset?.examples.length)).toBe(12);
  await studio.tab('train');
  await page.getByTestId('setting-epochs').fill('2');
  await page.getByTestId('setting-batchSize').fill('4');
  await page.getByTestId('setting-maxLength').fill('32');
  await expect(page.getByTestId('cv-advice')).toContainText('Recommended: cross-validation', { timeout: 60_000 });
  await expect(page.getByTestId('cv-advice')).toContainText('would hold only');
  await page.getByTestId('cv-folds-input').fill('3');
  await expect(page.getByTestId('cv-start')).toHaveText('Cross-validate (3 folds, then train on all rows)');
  await studio.screenshot('train-cv-offer', out);

  // Stoppable: Stop during fold 1 scores no fold, trains no final model and puts the base back.
  await page.getByTestId('cv-start').click();
  await expect.poll(() => studioState(page, (s) => s.trainingState), { timeout: 120_000 }).toBe('running');
  await expect(page.getByTestId('cv-progress')).toContainText('fold 1 of 3');
  await page.getByTestId('train-stop').click();
  await expect(page.getByTestId('cv-result-text')).toContainText('stopped', { timeout: 120_000 });
  await expect.poll(() => studioState(page, (s) => s.trainingState)).toBe('idle');
  expect(await studioState(page, (s) => s.weightsAtBase)).toBe(true);
  expect(await studioState(page, (s) => s.summary)).toBeNull();

  // The whole run: every fold in turn, then the final model on all 12 rows.
  await recordCvStatus(page);
  await page.getByTestId('cv-start').click();
  await expect(page.getByTestId('cv-result-text')).toHaveText(
    /^accuracy \d+ % ± \d+ \(3-fold cross-validation, 12 rows\) · macro-F1 [\d.]+ ± [\d.]+$/,
    { timeout: 300_000 },
  );
  await expect.poll(() => studioState(page, (s) => s.summary !== null && s.trainingState === 'idle')).toBe(true);
  const status = await page.evaluate(() => (window as unknown as { __cvStatus: string[] }).__cvStatus);
  const folds = [1, 2, 3].map((k) => status.findIndex((t) => t.includes(`fold ${k} of 3`)));
  expect(folds.every((i) => i >= 0)).toBe(true);
  expect(folds).toEqual([...folds].sort((a, b) => a - b));
  expect(status.findIndex((t) => t.includes('training the final model on all 12 rows'))).toBeGreaterThan(folds[2]);
  await expect(page.getByTestId('cv-folds').locator('tbody tr')).toHaveCount(3);
  await studio.screenshot('train-cv-result', out);
  const result = await studioState(page, (s) => s.crossValidation!.result!);
  expect(result.perFold.reduce((n, f) => n + f.testRows, 0)).toBe(12);
  expect(await studioState(page, (s) => s.plan!.trainCount)).toBe(12);
  expect(await studioState(page, (s) => s.model!.labels)).toEqual(['positive', 'negative']);

  // Evaluate: the estimate, no dev set for the final model, and a dropped test file scored on its own.
  await studio.tab('evaluate');
  await expect(page.getByTestId('eval-cv-text')).toHaveText(result.text);
  await expect(page.getByTestId('eval-no-dev')).toBeVisible();
  const heldOut = sst2Csv(20).toString('utf8').trim().split('\n');
  const testCsv = ['review,sentiment', ...heldOut.slice(13)].join('\n');
  await dropFile(page, 'test-file-dropzone', 'test.csv', testCsv);
  await expect(page.getByTestId('test-file-result')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('test-file-result')).toContainText('Test-file results: test.csv');
  await expect(page.getByTestId('test-file-result')).toContainText('8 rows · accuracy');
  await expect(page.getByTestId('test-accuracy-uncertainty')).toHaveText(/± \d+/);
  await expect(page.getByTestId('test-confusion-matrix').locator('button.cell')).toHaveCount(4);
  const scored = await studioState(page, (s) => s.testJob!.result!);
  expect(scored.mapping).toEqual({ text: 'review', textPair: null, label: 'sentiment' });
  expect(scored.metrics.confusion.flat().reduce((a, b) => a + b, 0)).toBe(8);
  expect(scored.metrics.perClass.every((c) => c.recallInterval !== undefined)).toBe(true);
  await page.getByTestId('test-confusion-0-0').click();
  await expect(page.getByTestId('test-cell-examples')).toBeVisible();
  await studio.screenshot('evaluate-test-file', out);

  // A label the model does not know: a clear error naming the row and the label.
  await dropFile(page, 'test-file-dropzone', 'bad.csv', 'text,label\na fine film,positive\nan odd film,neutral\n');
  await expect(page.getByTestId('test-file-error')).toContainText('row 3 has "neutral"');
  await expect(page.getByTestId('test-file-error')).toContainText('"positive", "negative"');
});
