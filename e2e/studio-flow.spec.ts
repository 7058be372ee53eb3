/**
 * The studio end to end on WebGPU: default model → CSV → mapping → train a few steps → playground
 * answers during training → evaluate → export a Hugging Face zip. Offline: any request to a host
 * other than the app's origin fails the test.
 */
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvFile, sst2Csv } from './fixtures/datasets';
import { Studio, studioState } from './studio';

test('model → data → train → playground during training → evaluate → export', async ({ page, baseURL }, testInfo) => {
  test.setTimeout(540_000);
  const foreign: string[] = [];
  const origin = new URL(baseURL!).origin;
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.protocol !== 'blob:' && url.protocol !== 'data:' && url.origin !== origin) foreign.push(r.url());
  });
  const studio = new Studio(page);
  const out = (name: string) => testInfo.outputPath(name);

  await studio.open();
  await studio.waitForEngine();
  await studio.waitForModel();
  expect(await studioState(page, (s) => s.model?.name)).toBe('micro-random');
  await expect(page.getByTestId('model-name')).toHaveText('micro-random');
  await studio.screenshot('model', out);

  // Data: 24 SST-2 rows dragged onto the drop zone, text/label detected by name.
  await studio.dropDataFile(csvFile('sst2-24.csv', sst2Csv(24)));
  await expect.poll(() => studioState(page, (s) => s.dataset?.examples.length)).toBe(24);
  expect(await studioState(page, (s) => s.dataset!.mapping)).toEqual({ text: 'text', textPair: null, label: 'label' });
  expect(await studioState(page, (s) => s.validation!.labels.length)).toBe(2);
  expect(await studioState(page, (s) => s.dataset!.tokenLengths!.length)).toBe(24);
  await expect(page.getByTestId('map-text')).toHaveValue('text');
  await expect(page.getByTestId('map-label')).toHaveValue('label');
  await expect(page.getByTestId('data-preview').locator('tbody tr')).toHaveCount(8);
  await expect(page.getByTestId('label-chart').locator('.recharts-bar-rectangle')).toHaveCount(2);
  await studio.screenshot('data', out);

  // Train: 20 train rows after the auto dev split, batch 4 → 5 steps per epoch, 3 epochs → ~15 steps
  // (enough margin for two playground answers between steps before the run ends).
  await studio.tab('train');
  await page.getByTestId('setting-epochs').fill('3');
  await page.getByTestId('setting-batchSize').fill('4');
  await page.getByTestId('setting-maxLength').fill('32');
  // Before Start the engine's plan shows what "auto" resolves to for this data and model.
  await expect(page.getByTestId('train-draft-plan')).toContainText('Start will run', { timeout: 60_000 });
  await expect(page.getByTestId('train-draft-plan')).toContainText('3 epochs · batch 4');
  await expect(page.getByTestId('setting-learningRate')).toHaveAttribute('placeholder', /^auto: \d/);
  expect(await studioState(page, (s) => s.draftPlan!.auto)).toContain('learningRate');
  await page.getByTestId('train-start').click();
  await expect.poll(() => studioState(page, (s) => s.plan?.totalSteps), { timeout: 120_000 }).toBeGreaterThan(0);
  const totalSteps = await studioState(page, (s) => s.plan!.totalSteps);
  expect(totalSteps).toBeGreaterThanOrEqual(12);
  expect(totalSteps).toBeLessThanOrEqual(16);

  // Playground while training runs: fill-mask, and the same text predicted at two different steps.
  await studio.tab('playground');
  const text = 'a warm , funny and moving film';
  await page.getByTestId('play-text').fill(text);
  await page.getByTestId('mask-run').click();
  await expect.poll(() => studioState(page, (s) => s.predictionLog.length), { timeout: 120_000 }).toBeGreaterThan(0);
  const first = (await studioState(page, (s) => s.predictionLog))[0];
  // `step` is the step of the weights that answered (from the worker). Two steps later, so at least
  // one step with a learning rate > 0 lies between the answers (the first warmup step has rate 0).
  await expect
    .poll(() => studioState(page, (s) => s.progress?.step ?? 0), { timeout: 120_000 })
    .toBeGreaterThan((first.step ?? 0) + 1);
  await page.getByTestId('play-text').fill('');
  await page.getByTestId('play-text').fill(text);
  await expect.poll(() => studioState(page, (s) => s.predictionLog.length), { timeout: 120_000 }).toBeGreaterThan(1);
  await expect(page.getByTestId('mask-results')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('play-bars')).toBeVisible();
  // Zero-shot prompt on the same model, scored on the same dev split the run uses.
  // The default label words for positive / negative are the built-in sentiment prompt's.
  await expect(page.getByTestId('zs-words')).toHaveValue('positive: great\nnegative: terrible');
  await page.getByTestId('zs-run').click();
  await expect(page.getByTestId('zs-accuracy')).toContainText('Dev accuracy of this prompt', { timeout: 120_000 });
  const zeroShot = await studioState(page, (s) => s.zsResult!);
  expect(zeroShot.labels).toEqual(['positive', 'negative']);
  expect(zeroShot.evaluation!.n).toBe(await studioState(page, (s) => s.plan!.devCount));
  expect(zeroShot.predictions[0].probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  await studio.screenshot('playground', out);
  await studio.tab('train');
  await expect(page.getByTestId('loss-chart').locator('.recharts-line-curve').first()).toBeVisible();
  await studio.screenshot('train-running', out);
  expect(await studioState(page, (s) => s.losses.length)).toBeGreaterThan(0);

  // Done. The playground answers above must have arrived BEFORE trainingDone.
  await expect
    .poll(() => studioState(page, (s) => s.summary !== null && s.trainingState === 'idle'), { timeout: 400_000 })
    .toBe(true);
  const doneAt = (await studioState(page, (s) => s.trainingDoneAt))!;
  const log = await studioState(page, (s) => s.predictionLog);
  const mask = (await studioState(page, (s) => s.maskAnswered))!;
  expect(mask.duringTraining).toBe(true);
  expect(mask.at).toBeLessThan(doneAt);
  expect(log[0].duringTraining && log[1].duringTraining).toBe(true);
  expect(log[1].at).toBeLessThan(doneAt);
  expect(log[1].step ?? 0).toBeGreaterThan(log[0].step ?? 0);
  expect(log[1].text).toBe(log[0].text);
  expect(log[1].probabilities).not.toEqual(log[0].probabilities);
  expect(await studioState(page, (s) => s.trainingError)).toBeNull();
  await expect(page.getByTestId('train-summary')).toBeVisible();
  // A finished run shows no estimate of time left.
  await expect(page.getByTestId('train-progress')).not.toContainText('ETA');
  await studio.screenshot('train-done', out);
  await studio.tab('evaluate');
  await expect(page.getByTestId('confusion-matrix')).toBeVisible();
  await expect(page.getByTestId('confusion-matrix').locator('button.cell')).toHaveCount(4);
  await page.getByTestId('confusion-0-0').click();
  await expect(page.getByTestId('cell-examples')).toBeVisible();
  await studio.screenshot('evaluate', out);

  // Export → zip with a Hugging Face folder.
  await studio.tab('model');
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 120_000 }),
    page.getByTestId('export-model').click(),
  ]);
  expect(download.suggestedFilename()).toBe('micro-random-fewshot.zip');
  const files = unzipSync(new Uint8Array(await readFile((await download.path())!)));
  for (const name of [
    'config.json',
    'vocab.txt',
    'model.safetensors',
    'tokenizer_config.json',
    'special_tokens_map.json',
  ])
    expect(Object.keys(files)).toContain(name);
  const config = JSON.parse(new TextDecoder().decode(files['config.json'])) as { id2label: Record<string, string> };
  expect(Object.values(config.id2label).sort()).toEqual(['negative', 'positive']);
  const card = new TextDecoder().decode(files['README.md']);
  expect(card).toContain('## Dev metrics');
  expect(card).toContain('![training loss](loss.svg)');
  expect(new TextDecoder().decode(files['loss.svg'])).toMatch(/^<svg[\s\S]*<polyline[\s\S]*<\/svg>$/);
  const predictionsCsv = new TextDecoder().decode(files['dev_predictions.csv']).trim().split('\n');
  expect(predictionsCsv[0]).toBe('text,label,predicted,confidence,p_positive,p_negative');
  expect(predictionsCsv.length - 1).toBe(await studioState(page, (s) => s.plan!.devCount));

  // Re-import the exported folder: the same text gets the same probabilities.
  await studio.tab('playground');
  await page.getByTestId('play-text').fill('');
  await page.getByTestId('play-text').fill('an utterly charming film');
  await expect
    .poll(() => studioState(page, (s) => s.predictionLog.at(-1)?.text), { timeout: 60_000 })
    .toBe('an utterly charming film');
  const before = await studioState(page, (s) => s.predictionLog.at(-1)!.probabilities);
  const answeredBefore = await studioState(page, (s) => s.predictionLog.length);
  const folder = await mkdtemp(join(tmpdir(), 'exported-'));
  const modelDir = join(folder, 'exported-model');
  await mkdir(modelDir);
  for (const [name, bytes] of Object.entries(files)) await writeFile(join(modelDir, name), bytes);
  await studio.tab('model');
  await page.getByTestId('model-folder-input').setInputFiles(modelDir);
  await expect.poll(() => studioState(page, (s) => s.model?.name), { timeout: 120_000 }).toBe('exported-model');
  expect(await studioState(page, (s) => s.model!.labels)).toEqual(await studioState(page, (s) => s.plan!.labels));
  await studio.tab('playground');
  await page.getByTestId('play-text').fill('');
  await page.getByTestId('play-text').fill('an utterly charming film');
  await expect
    .poll(() => studioState(page, (s) => s.predictionLog.length), { timeout: 60_000 })
    .toBeGreaterThan(answeredBefore);
  await expect
    .poll(() => studioState(page, (s) => s.predictionLog.at(-1)!.text), { timeout: 60_000 })
    .toBe('an utterly charming film');
  const after = await studioState(page, (s) => s.predictionLog.at(-1)!.probabilities);
  after.forEach((p, i) => expect(Math.abs(p - before[i])).toBeLessThan(1e-5));
  await rm(folder, { recursive: true, force: true });

  // Evaluate: predictions for an unlabeled file (one text column) come back as a CSV download.
  await studio.tab('evaluate');
  const unlabeled = 'text\n"a warm , funny and moving film"\nflat and dull\nan utterly charming film\n';
  await page
    .getByTestId('predict-file-input')
    .setInputFiles({ name: 'unlabeled.csv', mimeType: 'text/csv', buffer: Buffer.from(unlabeled) });
  await expect(page.getByTestId('predict-file-download')).toBeVisible({ timeout: 120_000 });
  const [csvDownload] = await Promise.all([
    page.waitForEvent('download', { timeout: 60_000 }),
    page.getByTestId('predict-file-download').click(),
  ]);
  expect(csvDownload.suggestedFilename()).toBe('unlabeled-predictions.csv');
  const predicted = (await readFile((await csvDownload.path())!, 'utf8')).trim().split('\n');
  const modelLabels = await studioState(page, (s) => s.model!.labels);
  expect(predicted[0]).toBe(['row', 'text', 'predicted_label', ...modelLabels.map((l) => `prob_${l}`)].join(','));
  expect(predicted).toHaveLength(4);
  const charming = predicted[3].split(',');
  expect(charming.slice(0, 2)).toEqual(['4', 'an utterly charming film']);
  // The same text, the same model: the probabilities the playground showed (to the CSV's 6 decimals).
  charming.slice(3).forEach((p, i) => expect(Math.abs(Number(p) - after[i])).toBeLessThan(2e-6));
  expect(modelLabels).toContain(charming[2]);
  await studio.screenshot('evaluate-predict-file', out);

  expect(foreign).toEqual([]);
});

test('bad dataset files show a clear message and keep the previous data', async ({ page }, testInfo) => {
  const studio = new Studio(page);
  await studio.open();
  await studio.waitForEngine();
  await studio.waitForModel();
  await studio.chooseDataFile(csvFile('good.csv', sst2Csv(10)));
  await expect.poll(() => studioState(page, (s) => s.dataset?.fileName)).toBe('good.csv');

  const bad = [
    csvFile('empty.csv', Buffer.alloc(0)),
    csvFile('binary.csv', Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 37) % 256))),
    csvFile('one-column.csv', Buffer.from('text\nhello\nworld\nagain\n')),
  ];
  for (const file of bad) {
    await studio.chooseDataFile(file);
    await expect(page.getByTestId('data-error')).toContainText(file.name);
    await expect(page.getByTestId('data-error')).toContainText('The previous data (good.csv) is kept.');
    expect(await studioState(page, (s) => s.dataError?.fileName)).toBe(file.name);
    expect(await studioState(page, (s) => s.dataset?.fileName)).toBe('good.csv');
    expect(await studioState(page, (s) => s.dataset?.examples.length)).toBe(10);
    await expect(page.getByTestId('data-preview')).toBeVisible();
  }
  await page.screenshot({ path: testInfo.outputPath('panel-data-error.png') });

  // Files that load, with what was repaired said in the validation list: a UTF-8 BOM, Windows
  // line endings, a quoted field with an embedded newline and a ragged row; then windows-1252 bytes.
  const messy =
    '\uFEFFtext,label\r\n"a film, with\r\na newline",positive\r\nflat and dull,negative\r\nshort row\r\nwarm and funny,positive,extra\r\n';
  await studio.dropDataFile(csvFile('messy.csv', Buffer.from(messy, 'utf8')));
  await expect.poll(() => studioState(page, (s) => s.dataset?.fileName)).toBe('messy.csv');
  expect(await studioState(page, (s) => s.dataset!.columns)).toEqual(['text', 'label']);
  expect(await studioState(page, (s) => s.dataset!.examples[0].text)).toBe('a film, with\r\na newline');
  expect((await studioState(page, (s) => s.dataset!.warnings)).length).toBeGreaterThan(0);
  await expect(page.getByTestId('validation-list').locator('li.warn').first()).toBeVisible();
  const latin1 = Buffer.from([
    ...Buffer.from('text,label\nna'),
    0xef,
    ...Buffer.from('ve caf'),
    0xe9,
    ...Buffer.from(',positive\nawful,negative\n'),
  ]);
  await studio.dropDataFile(csvFile('latin1.csv', latin1));
  await expect.poll(() => studioState(page, (s) => s.dataset?.fileName)).toBe('latin1.csv');
  expect(await studioState(page, (s) => s.dataset!.examples[0].text)).toBe('naïve café');
  expect((await studioState(page, (s) => s.dataset!.warnings)).join(' ')).toMatch(/windows-1252/i);

  // The column mapper re-parses with the chosen mapping.
  await studio.chooseDataFile(csvFile('good.csv', sst2Csv(10)));
  await expect.poll(() => studioState(page, (s) => s.dataset?.fileName)).toBe('good.csv');
  await page.getByTestId('map-label').selectOption('');
  await expect.poll(() => studioState(page, (s) => s.validation?.unlabeled)).toBe(10);
  await page.getByTestId('map-label').selectOption('label');
  await expect.poll(() => studioState(page, (s) => s.validation?.unlabeled)).toBe(0);
  // Narrow width, dark theme: the tab rail becomes a row and panels stack.
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.setViewportSize({ width: 420, height: 800 });
  await page.getByTestId('tab-data').focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('tab-train')).toBeFocused();
  await expect(page.getByTestId('panel-train')).toBeVisible();
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByTestId('panel-data')).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('panel-data-narrow-dark.png'), fullPage: true });
});
