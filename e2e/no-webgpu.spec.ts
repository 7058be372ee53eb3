import { expect, test } from '@playwright/test';
import { StudioShell, studioState } from './studio';

// Runs in the 'no-webgpu' project: Chromium started with WebGPU disabled.
test('without WebGPU the studio falls back to wasm and the badge says why', async ({ page }) => {
  const shell = new StudioShell(page);
  await shell.open();
  await shell.waitForEngine();
  expect(await studioState(page, (s) => s.capability?.backend)).toBe('wasm');
  const reason = await studioState(page, (s) => s.capability?.skipped.find((x) => x.backend === 'webgpu')?.reason);
  expect(reason).toBeTruthy();
  await expect(shell.badge()).toHaveText(`WASM fallback: ${reason}`);
  await shell.waitForSelfTest();
  await page.screenshot({ path: test.info().outputPath('shell-fallback.png') });
});
