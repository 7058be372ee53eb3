/** Opening a model folder from the Model panel; a broken folder shows an error and keeps the model. */
import { expect, test } from '@playwright/test';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Studio, studioState } from './studio';

test('a model folder loads through the folder picker; a broken one keeps the previous model', async ({
  page,
}, testInfo) => {
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

  // The models shipped with the studio are chosen in the panel, each with what it is good for.
  await page.getByTestId('embedded-select').selectOption('micro-random');
  await expect(page.getByTestId('embedded-description')).toContainText('fast, for tests');
  await page.getByTestId('embedded-load').click();
  await expect.poll(() => studioState(page, (s) => s.model?.name), { timeout: 120_000 }).toBe('micro-random');
  await expect(page.getByTestId('embedded-load')).toHaveText('Loaded');
});

test('the Hub picker downloads through a loopback Hub mirror, then says cached and loads with only a HEAD', async ({
  page,
}) => {
  const requests: string[] = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(`${req.method} ${path}`);
    const headers = { 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin' };
    // Any repo of the picker resolves to the golden micro checkpoint.
    const match = /^\/[^/]+\/[^/]+\/resolve\/main\/(.+)$/.exec(path);
    try {
      if (!match) throw new Error('not found');
      const body = await readFile(`tests/fixtures/golden-micro/model/${match[1]}`);
      res
        .writeHead(200, { ...headers, 'content-type': 'application/octet-stream', 'content-length': body.length })
        .end(body);
    } catch {
      res.writeHead(404, headers).end('Entry not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const hub = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const studio = new Studio(page);
    await studio.open(`?hub=${encodeURIComponent(hub)}`);
    await studio.waitForEngine();
    await studio.waitForModel();
    await studio.tab('model');
    await page.getByTestId('hub-select').selectOption('prajjwal1/bert-tiny');
    await expect(page.getByTestId('hub-cache-status')).toContainText('not downloaded yet');
    await page.getByTestId('hub-load').click();
    await expect.poll(() => studioState(page, (s) => s.model?.name), { timeout: 120_000 }).toBe('prajjwal1/bert-tiny');
    expect(requests.some((r) => r.endsWith('/model.safetensors'))).toBe(true);
    await expect(page.getByTestId('hub-cache-status')).toContainText('in this browser’s cache');
    await expect(page.getByTestId('hub-load')).toHaveText('Load');

    // Second load: served by Cache Storage; the mirror is only asked whether `main` moved (one HEAD).
    const before = requests.length;
    await page.getByTestId('hub-load').click();
    await expect.poll(() => studioState(page, (s) => s.modelStatus), { timeout: 60_000 }).toBe('ready');
    expect(await studioState(page, (s) => s.model?.name)).toBe('prajjwal1/bert-tiny');
    expect(requests.slice(before)).toEqual(['HEAD /prajjwal1/bert-tiny/resolve/main/config.json']);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('the zip that Export downloads opens again when dropped on the Model panel', async ({ page }) => {
  const studio = new Studio(page);
  await studio.open();
  await studio.waitForEngine();
  await studio.waitForModel();
  // The golden micro model has labels, so the playground shows class probabilities to compare.
  await studio.tab('model');
  await page.getByTestId('model-folder-input').setInputFiles('tests/fixtures/golden-micro/model');
  await expect.poll(() => studioState(page, (s) => s.model?.name), { timeout: 120_000 }).toBe('model');
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 120_000 }),
    page.getByTestId('export-model').click(),
  ]);
  expect(download.suggestedFilename()).toBe('model-fewshot.zip');
  const zip = await readFile((await download.path())!);

  const text = 'the cat sat on the mat';
  const probabilities = async (answered: number) => {
    await studio.tab('playground');
    await page.getByTestId('play-text').fill('');
    await page.getByTestId('play-text').fill(text);
    await expect
      .poll(() => studioState(page, (s) => s.predictionLog.length), { timeout: 60_000 })
      .toBeGreaterThan(answered);
    await expect.poll(() => studioState(page, (s) => s.predictionLog.at(-1)!.text), { timeout: 60_000 }).toBe(text);
    return studioState(page, (s) => s.predictionLog.at(-1)!.probabilities);
  };
  const before = await probabilities(0);
  const answeredBefore = await studioState(page, (s) => s.predictionLog.length);

  // Dropped under another name: the model is named after the zip, without "-fewshot.zip".
  await studio.tab('model');
  const dataTransfer = await page.evaluateHandle(
    (bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'golden-fewshot.zip', { type: 'application/zip' }));
      return transfer;
    },
    [...zip],
  );
  await page.getByTestId('model-dropzone').dispatchEvent('drop', { dataTransfer });
  await expect.poll(() => studioState(page, (s) => s.model?.name), { timeout: 120_000 }).toBe('golden');
  expect(await studioState(page, (s) => s.modelError)).toBeNull();
  const after = await probabilities(answeredBefore);
  expect(after).toHaveLength(before.length);
  after.forEach((p, i) => expect(Math.abs(p - before[i])).toBeLessThan(1e-6));

  // The same zip through the Model panel's zip picker.
  await studio.tab('model');
  await page
    .getByTestId('model-zip-input')
    .setInputFiles({ name: 'picked.zip', mimeType: 'application/zip', buffer: zip });
  await expect.poll(() => studioState(page, (s) => s.model?.name), { timeout: 120_000 }).toBe('picked');
});
