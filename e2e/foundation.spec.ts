import { expect, test } from '@playwright/test';
import { referenceSelfTest } from '../src/engine/selftest';
import { StudioShell, studioState } from './studio';

/** Runs the self-test in the page and checks it against the plain-JS reference within 1e-4. */
async function expectSelfTestMatchesReference(page: import('@playwright/test').Page, backend: string) {
  const result = await studioState(page, (s) => s.selfTest);
  expect(result).not.toBeNull();
  expect(result!.backend).toBe(backend);
  const reference = referenceSelfTest(result!.a, result!.b, result!.m, result!.k, result!.n);
  expect(result!.matmul).toHaveLength(reference.matmul.length);
  const worst = (got: number[], want: number[]) => Math.max(...got.map((g, i) => Math.abs(g - want[i])));
  expect(worst(result!.matmul, reference.matmul)).toBeLessThan(1e-4);
  expect(worst(result!.softmax, reference.softmax)).toBeLessThan(1e-4);
}

test('the worker runs on WebGPU and the self-test matches a CPU reference', async ({ page }) => {
  const shell = new StudioShell(page);
  // Nothing the page asks for is missing (a favicon 404 used to be the one).
  const missing: string[] = [];
  page.on('response', (response) => {
    if (response.status() >= 400) missing.push(`${response.status()} ${response.url()}`);
  });
  await shell.open();
  await shell.waitForEngine();
  expect(await studioState(page, (s) => s.capability?.backend)).toBe('webgpu');
  expect(await studioState(page, (s) => s.capability?.adapter?.architecture)).toBe('swiftshader');
  await expect(shell.badge()).toHaveText('WebGPU · swiftshader');
  await shell.waitForSelfTest();
  await expectSelfTestMatchesReference(page, 'webgpu');
  const icon = await page.locator('link[rel="icon"]').getAttribute('href');
  const favicon = await page.request.get(new URL(icon!, page.url()).href);
  expect(favicon.headers()['content-type']).toContain('image/svg+xml');
  expect(missing).toEqual([]);
  await page.screenshot({ path: test.info().outputPath('shell-webgpu.png') });
});

test('?backend=wasm forces the wasm backend and it computes correctly', async ({ page }) => {
  const shell = new StudioShell(page);
  await shell.open('?backend=wasm');
  await shell.waitForEngine();
  expect(await studioState(page, (s) => s.capability?.backend)).toBe('wasm');
  await expect(shell.badge()).toHaveText('WASM (forced by ?backend=wasm)');
  await shell.waitForSelfTest();
  await expectSelfTestMatchesReference(page, 'wasm');
});

test('an unknown ?backend= value is reported and the best backend is used', async ({ page }) => {
  const shell = new StudioShell(page);
  await shell.open('?backend=quantum');
  await shell.waitForEngine();
  await expect(page.getByTestId('backend-invalid')).toContainText('quantum');
  expect(await studioState(page, (s) => s.capability?.backend)).toBe('webgpu');
  await expect(shell.badge()).toHaveText('WebGPU · swiftshader');
});

test('a worker crash shows a banner and "Restart engine" brings the engine back', async ({ page }) => {
  const shell = new StudioShell(page);
  await shell.open();
  await shell.waitForEngine();
  await shell.waitForSelfTest();
  await page.evaluate(() => window.__studio!.crashEngine('simulated crash for the test'));
  await expect(page.getByTestId('engine-error-banner')).toBeVisible();
  await expect(page.getByTestId('engine-error-message')).toContainText('simulated crash for the test');
  await expect(shell.badge()).toHaveText('Engine stopped');
  await page.getByTestId('restart-engine').click();
  await expect(page.getByTestId('engine-error-banner')).toBeHidden();
  await shell.waitForSelfTest();
  await expect(shell.badge()).toHaveText('WebGPU · swiftshader');
  await expectSelfTestMatchesReference(page, 'webgpu');
});
