/**
 * Downloading a model from a fake Hub (loopback server with the Hub's URL layout and headers), in the real
 * browser: progress events arrive; the weights are checked against their sha256 (which a browser reads from
 * the LFS pointer, since it cannot see the Hub's redirect headers); a corrupted download is refused and not
 * cached; a second load only revalidates `main`; offline, the cached commit loads. In the studio, the Model
 * panel lists the cached model and clears it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { FakeHub } from '../src/engine/checkpoint/test-hub-server';
import { Studio, studioState } from './studio';

const FOLDER = 'tests/fixtures/golden-micro/model';
const REPO = 'acme/golden-micro';
const golden = Object.fromEntries(
  readdirSync(FOLDER).map((name) => [name, new Uint8Array(readFileSync(`${FOLDER}/${name}`))]),
);
const hub = new FakeHub();
let commit = '';

test.beforeAll(async () => {
  await hub.start();
  commit = hub.commit(REPO, golden);
  // The studio's picker offers this repo; any repo of the fake Hub serves the golden micro checkpoint.
  hub.commit('prajjwal1/bert-tiny', golden);
});

test.afterAll(() => hub.stop());

test.beforeEach(() => hub.reset());

/** One harness load through Cache Storage bucket `cacheName`; failures come back as `{ error }`. */
function harnessLoad(page: Page, cacheName: string) {
  return page.evaluate(
    async ({ baseUrl, repo, cacheName }) => {
      try {
        return await window.__harness!.hubLoad(baseUrl, repo, cacheName);
      } catch (error) {
        const e = error as { code?: string; message: string };
        return { error: `${e.code}: ${e.message}` };
      }
    },
    { baseUrl: hub.baseUrl, repo: REPO, cacheName },
  );
}

test('a Hub download is verified, pinned, cached, revalidated and works offline', async ({ page }) => {
  await page.goto('/e2e/harness/index.html');
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  const cacheName = `test-${Date.now()}`;

  // A corrupted body of the right length is refused, and nothing of it is cached.
  hub.faults.set('model.safetensors', 'corrupt');
  const corrupt = await harnessLoad(page, cacheName);
  expect('error' in corrupt && corrupt.error).toMatch(
    /DOWNLOAD_CORRUPT: model\.safetensors: expected sha256 .*not cached/,
  );
  // The browser hides the redirect's headers, so the sha256 came from the LFS pointer.
  expect(hub.seen('GET')).toContain(`GET /${REPO}/raw/${commit}/model.safetensors`);

  hub.reset();
  const first = await harnessLoad(page, cacheName);
  if ('error' in first) throw new Error(first.error);
  expect(first.commit).toBe(commit);
  expect(first.weightFormat).toBe('safetensors');
  expect(first.tensors).toBeGreaterThan(30);
  expect(hub.seen('GET')).toContain(`GET /${REPO}/resolve/${commit}/model.safetensors`);
  const weights = first.progress.filter((p) => p.file === 'model.safetensors');
  expect(weights.length).toBeGreaterThan(0);
  expect(weights.at(-1)!.loaded).toBe(weights.at(-1)!.total);

  // Second load: Cache Storage serves every file and remembered 404; only `main` is asked about.
  hub.reset();
  const second = await harnessLoad(page, cacheName);
  expect(second).toMatchObject({ tensors: first.tensors, weightFormat: 'safetensors', vocabLines: first.vocabLines });
  expect(hub.seen()).toEqual([`HEAD /${REPO}/resolve/main/config.json`]);

  // Offline: the cached commit loads, with a warning that says so.
  hub.down = true;
  const offline = await harnessLoad(page, cacheName);
  if ('error' in offline) throw new Error(offline.error);
  expect(offline.commit).toBe(commit);
  expect(offline.warnings.join(' ')).toContain('Offline');
});

test('the Model panel lists the cached Hub model and clears it', async ({ page }, testInfo) => {
  const studio = new Studio(page);
  await studio.open(`?hub=${encodeURIComponent(hub.baseUrl)}`);
  await studio.waitForEngine();
  await studio.waitForModel();
  await studio.tab('model');
  await expect(page.getByTestId('hub-cache-empty')).toBeVisible(); // each test has a fresh browser context
  await expect(page.getByTestId('hub-cache-clear-all')).toBeDisabled();

  await page.getByTestId('hub-select').selectOption('prajjwal1/bert-tiny');
  await page.getByTestId('hub-load').click();
  await expect.poll(() => studioState(page, (s) => s.model?.name), { timeout: 120_000 }).toBe('prajjwal1/bert-tiny');
  const entry = page.getByTestId('hub-cache-entry');
  await expect(entry).toHaveCount(1);
  await expect(entry).toContainText('prajjwal1/bert-tiny');
  await expect(entry).toContainText('(main)');
  await expect(entry).toContainText('KiB');
  await expect(page.getByTestId('hub-cache-status')).toContainText('in this browser’s cache');
  await page.getByTestId('hub-cache-list').screenshot({ path: testInfo.outputPath('hub-cache-list.png') });

  await entry.getByTestId('hub-cache-clear').click();
  await expect(page.getByTestId('hub-cache-empty')).toBeVisible();
  await expect(page.getByTestId('hub-cache-status')).toContainText('not downloaded yet');
  expect(await studioState(page, (s) => s.model?.name)).toBe('prajjwal1/bert-tiny'); // the loaded model stays

  // Downloaded again (requests reach the Hub), then "Clear all".
  hub.reset();
  await page.getByTestId('hub-load').click();
  await expect(page.getByTestId('hub-cache-entry')).toHaveCount(1);
  expect(hub.seen('GET').some((r) => r.startsWith('GET /cdn/'))).toBe(true);
  await page.getByTestId('hub-cache-clear-all').click();
  await expect(page.getByTestId('hub-cache-empty')).toBeVisible();
});
