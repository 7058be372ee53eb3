/**
 * The studio's default: with no `?model=`, the first embedded model (the pretrained default) loads
 * from the studio's own origin, answers fill-mask, and nothing is requested from any other host.
 */
import { expect, test } from '@playwright/test';
import { EMBEDDED_MODELS } from '../src/ui/embeddedModels';
import { studioState } from './studio';

test('the embedded default model loads with no network and fills a [MASK]', async ({ page, baseURL }) => {
  test.setTimeout(300_000);
  const foreign: string[] = [];
  const origin = new URL(baseURL!).origin;
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.protocol !== 'blob:' && url.protocol !== 'data:' && url.origin !== origin) foreign.push(r.url());
  });
  await page.goto('/');
  await expect.poll(() => studioState(page, (s) => s.modelStatus), { timeout: 180_000 }).toBe('ready');
  const model = (await studioState(page, (s) => s.model))!;
  expect(model.name).toBe(EMBEDDED_MODELS[0].id);
  expect(model.loadedHeads).toContain('MLM head');
  await page.getByTestId('tab-playground').click();
  await page.getByTestId('mask-text').fill('the capital of france is [MASK] .');
  await page.getByTestId('mask-run').click();
  await expect(page.getByTestId('mask-results').locator('.chip')).toHaveCount(5, { timeout: 120_000 });
  expect(foreign).toEqual([]);
});
