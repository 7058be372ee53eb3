/** Opening a model folder from the Model panel; a broken folder shows an error and keeps the model. */
import { expect, test } from '@playwright/test';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Studio, studioState } from './studio';

test('a model folder loads through the folder picker; a broken one keeps the previous model', async ({ page }, testInfo) => {
  const studio = new Studio(page);
  await studio.open();
  await studio.waitForEngine();
  await studio.waitForModel();

  // A folder without weights: clear error, micro-random stays.
  const broken = await mkdtemp(join(tmpdir(), 'broken-model-'));
  try {
    await copyFile('tests/fixtures/golden-micro/model/vocab.txt', join(broken, 'vocab.txt'));
    await page.getByTestId('model-folder-input').setInputFiles(broken);
    await expect(page.getByTestId('model-error')).toBeVisible();
    await expect(page.getByTestId('model-error')).toContainText('The previous model (micro-random) is still loaded.');
    expect(await studioState(page, (s) => s.model?.name)).toBe('micro-random');
  } finally {
    await rm(broken, { recursive: true, force: true });
  }
  await page.screenshot({ path: testInfo.outputPath('panel-model-error.png') });

  await page.getByTestId('model-folder-input').setInputFiles('tests/fixtures/golden-micro/model');
  await expect.poll(() => studioState(page, (s) => s.model?.name), { timeout: 120_000 }).toBe('model');
  expect(await studioState(page, (s) => s.modelError)).toBeNull();
  await expect(page.getByTestId('model-name')).toHaveText('model');
  await expect(page.getByTestId('model-summary')).toContainText('layers');
});
