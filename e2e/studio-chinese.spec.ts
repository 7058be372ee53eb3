/**
 * Beyond English on WebGPU: a micro BERT with a CJK vocabulary (tests/fixtures/cjk-micro, built by
 * scripts/make-cjk-micro-model.ts) is opened as a folder, its tokenizer splits Chinese one character
 * per token in the playground, the Data panel and Train accept 24 Chinese rows with Chinese labels,
 * a few training steps run, and the playground gives class probabilities for a Chinese text.
 */
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { csvFile } from './fixtures/datasets';
import { Studio, studioState } from './studio';

const REVIEWS = readFileSync('tests/fixtures/cjk-micro/reviews.csv');
/** The rows' texts (header `text,label`; the texts hold Chinese commas only). */
const TEXTS = REVIEWS.toString('utf8')
  .split('\n')
  .filter(Boolean)
  .slice(1)
  .map((line) => line.slice(0, line.lastIndexOf(',')));

test('a CJK micro model trains on Chinese rows and predicts Chinese text', async ({ page }, testInfo) => {
  test.setTimeout(480_000);
  const studio = new Studio(page);
  await studio.open();
  await studio.waitForEngine();
  await studio.waitForModel();

  await studio.tab('model');
  await page.getByTestId('model-folder-input').setInputFiles('tests/fixtures/cjk-micro/model');
  await expect.poll(() => studioState(page, (s) => s.model?.name), { timeout: 120_000 }).toBe('model');
  expect(await studioState(page, (s) => s.modelError)).toBeNull();

  // The playground shows how the loaded tokenizer splits the text: one token per character.
  const text = '这家餐厅的服务很好，我很喜欢！';
  await studio.tab('playground');
  await page.getByTestId('play-text').fill(text);
  await expect(page.getByTestId('play-tokens')).toContainText('15 tokens');
  expect(await studioState(page, (s) => s.playTokens)).toEqual({ text, tokens: [...text] });
  await expect(page.getByTestId('play-tokens').locator('code')).toHaveText([...text]);

  // Data: the Chinese rows, text and label columns detected, labels in Chinese.
  await studio.dropDataFile(csvFile('reviews-zh.csv', REVIEWS));
  await expect.poll(() => studioState(page, (s) => s.dataset?.examples.length)).toBe(24);
  expect(await studioState(page, (s) => s.dataset!.mapping)).toEqual({ text: 'text', textPair: null, label: 'label' });
  expect((await studioState(page, (s) => s.validation!.labels.map((l) => l.label))).sort()).toEqual(['正面', '负面']);
  expect(await studioState(page, (s) => s.dataset!.examples[0].text)).toBe(TEXTS[0]);
  // Token counts: one per character plus [CLS] and [SEP] (no [UNK] merging characters into words).
  expect(await studioState(page, (s) => s.dataset!.tokenLengths)).toEqual(TEXTS.map((t) => [...t].length + 2));
  await expect(page.getByTestId('data-preview')).toContainText(TEXTS[0]);
  await studio.screenshot('data-chinese', (name) => testInfo.outputPath(name));

  // Train: a few steps (20 train rows after the dev split, batch 4, 2 epochs, max length 32).
  await studio.tab('train');
  await page.getByTestId('setting-epochs').fill('2');
  await page.getByTestId('setting-batchSize').fill('4');
  await page.getByTestId('setting-maxLength').fill('32');
  await expect(page.getByTestId('train-draft-plan')).toContainText('Start will run', { timeout: 60_000 });
  await page.getByTestId('train-start').click();
  await expect.poll(() => studioState(page, (s) => s.plan?.totalSteps), { timeout: 120_000 }).toBeGreaterThan(0);
  expect((await studioState(page, (s) => s.plan!.labels)).sort()).toEqual(['正面', '负面']);
  await expect
    .poll(() => studioState(page, (s) => s.summary !== null && s.trainingState === 'idle'), { timeout: 400_000 })
    .toBe(true);
  expect(await studioState(page, (s) => s.trainingError)).toBeNull();
  const losses = await studioState(page, (s) => s.losses.map((l) => l.loss));
  expect(losses.length).toBeGreaterThan(0);
  expect(losses.every(Number.isFinite)).toBe(true);

  // Playground: class probabilities for a Chinese text, under the Chinese labels.
  await studio.tab('playground');
  const answered = await studioState(page, (s) => s.predictionLog.length);
  const query = '房间干净，服务很好';
  await page.getByTestId('play-text').fill(query);
  await expect
    .poll(() => studioState(page, (s) => s.predictionLog.at(-1)?.text ?? null), { timeout: 120_000 })
    .toBe(query);
  expect(await studioState(page, (s) => s.predictionLog.length)).toBeGreaterThan(answered);
  const probabilities = await studioState(page, (s) => s.predictionLog.at(-1)!.probabilities);
  expect(probabilities).toHaveLength(2);
  expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  await expect(page.getByTestId('play-bars')).toContainText('正面');
  await expect(page.getByTestId('play-bars')).toContainText('负面');
  await expect(page.getByTestId('play-tokens')).toContainText('9 tokens');
  await studio.screenshot('playground-chinese', (name) => testInfo.outputPath(name));
});
