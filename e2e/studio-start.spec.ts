/**
 * A newcomer's first minutes: the first screen says what to do, a shipped sample dataset loads in
 * one click (through the same path as a dropped file) and Train is ready; the prompt boxes start
 * with real label words and plain-words help whose links open the shipped user guide. Offline: any
 * request to a host other than the app's origin fails the test.
 */
import { expect, test } from '@playwright/test';
import { Studio, studioState } from './studio';

test('start here → sample in one click → data loaded, Train enabled, plain-words help', async ({
  page,
  baseURL,
  request,
}, testInfo) => {
  test.setTimeout(300_000);
  const foreign: string[] = [];
  const origin = new URL(baseURL!).origin;
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.protocol !== 'blob:' && url.protocol !== 'data:' && url.origin !== origin) foreign.push(r.url());
  });
  const studio = new Studio(page);
  await studio.open();
  await studio.waitForModel();

  // The first screen: three steps and the samples.
  const start = page.getByTestId('start-here');
  await expect(start).toBeVisible();
  await expect(start.locator('ol > li')).toHaveCount(3);
  await studio.screenshot('start-here', (name) => testInfo.outputPath(name));

  // One click: the reviews sample is in the Data panel, parsed like a dropped file.
  await page.getByTestId('sample-reviews').click();
  await expect(page.getByTestId('panel-data')).toBeVisible();
  await expect.poll(() => studioState(page, (s) => s.dataset?.fileName), { timeout: 60_000 }).toBe('reviews.csv');
  await expect(page.getByTestId('data-file')).toContainText('32 rows');
  expect(await studioState(page, (s) => s.validation!.labels.map((l) => [l.label, l.count]).sort())).toEqual([
    ['negative', 16],
    ['positive', 16],
  ]);
  expect(await studioState(page, (s) => s.validation!.usable)).toBe(32);
  // Token lengths were counted with the model's tokenizer, as for a dropped file.
  expect(await studioState(page, (s) => s.dataset!.tokenLengths?.length)).toBe(32);

  // Next step: Train, with Start enabled and a plan for these rows.
  await page.getByTestId('data-next-train').click();
  await expect(page.getByTestId('panel-train')).toBeVisible();
  await expect(page.getByTestId('train-start')).toBeEnabled();
  await expect(page.getByTestId('train-draft-plan')).toContainText('Start will run', { timeout: 60_000 });
  // Once data is loaded the start card steps aside.
  await studio.tab('model');
  await expect(page.getByTestId('start-here')).toHaveCount(0);

  // The prompt method speaks plain words and starts from real label words (the library's for
  // positive / negative), each concept linking to the shipped user guide.
  await studio.tab('train');
  await page.getByTestId('method-prompt').check();
  await expect(page.getByTestId('train-words')).toHaveValue('positive: great\nnegative: terrible');
  for (const id of ['promptMethod', 'template', 'labelWords'])
    await expect(page.getByTestId(`concept-${id}`)).toBeVisible();
  await expect(page.getByTestId('panel-train')).not.toContainText('[CLS]');
  await expect(page.getByTestId('panel-train')).not.toContainText('cloze');
  const href = await page.getByTestId('concept-link-labelWords').first().getAttribute('href');
  expect(href).toBe('docs/USER_GUIDE.html#label-words');
  const guide = await request.get(new URL(href!, `${baseURL}/`).href);
  expect(guide.status()).toBe(200);
  expect(await guide.text()).toContain('id="label-words"');

  // Another sample from the Data panel's own buttons: label names become single real words.
  await studio.tab('data');
  await page.getByTestId('data-samples').getByTestId('sample-banking-intents').click();
  await expect
    .poll(() => studioState(page, (s) => s.dataset?.fileName), { timeout: 60_000 })
    .toBe('banking-intents.csv');
  await studio.tab('playground');
  await expect(page.getByTestId('zs-words')).toHaveValue(
    'card_arrival: arrival\ntop_up_failed: top\nlost_or_stolen_card: lost\nexchange_rate: exchange',
  );
  await expect(page.getByTestId('label-word-notes')).toContainText('card_arrival');
  for (const id of ['zeroShot', 'template', 'mask', 'labelWords', 'calibration'])
    await expect(page.getByTestId(`concept-${id}`)).toBeVisible();
  await expect(page.getByTestId('panel-playground')).not.toContainText('content-free');
  await expect(page.getByTestId('panel-playground')).not.toContainText('MLM head');
  await studio.screenshot('playground-plain-words', (name) => testInfo.outputPath(name));

  // The held-out test file ships next to the training file.
  const testFile = await request.get(`${baseURL}/samples/banking-intents-test.csv`);
  expect(testFile.status()).toBe(200);
  expect((await testFile.text()).split('\n')[0]).toBe('text,label');
  expect(foreign).toEqual([]);
});
