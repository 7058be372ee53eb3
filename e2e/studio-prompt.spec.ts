/**
 * Prompt-based training in the studio on WebGPU: score a zero-shot prompt in the playground, train
 * the same prompt with the LM-BFF method, compare both in the Train panel, and check that the
 * playground and the exported config.json then use the prompt.
 */
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import { readFile } from 'node:fs/promises';
import { csvFile, sst2Csv } from './fixtures/datasets';
import { Studio, studioState } from './studio';

test('adapt to my texts → suggestions → zero-shot prompt → prompt fine-tuning with pause/resume → comparison table → export keeps the prompt', async ({
  page,
}, testInfo) => {
  test.setTimeout(400_000);
  const studio = new Studio(page);
  const out = (name: string) => testInfo.outputPath(name);
  await studio.open();
  await studio.waitForEngine();
  await studio.waitForModel();
  await studio.chooseDataFile(csvFile('sst2-20.csv', sst2Csv(20)));
  await expect.poll(() => studioState(page, (s) => s.dataset?.examples.length)).toBe(20);

  // Adapt to my texts: a few MLM steps on the file's texts, with a before/after held-out score.
  await studio.tab('train');
  await page.getByTestId('adapt-section').locator('summary').click();
  await page.getByTestId('adapt-steps').fill('4');
  await page.getByTestId('adapt-start').click();
  await expect(page.getByTestId('adapt-result')).toContainText('Done after 4 steps', { timeout: 180_000 });
  const adapted = (await studioState(page, (s) => s.adaptResult))!;
  expect(Number.isFinite(adapted.before.loss) && Number.isFinite(adapted.after.loss)).toBe(true);
  expect(await studioState(page, (s) => s.losses.length)).toBe(4);
  // The slot frees once the adapted model is also kept in browser storage (a moment after adaptDone).
  await expect.poll(() => studioState(page, (s) => s.trainingState), { timeout: 60_000 }).toBe('idle');

  await studio.tab('playground');
  // Suggestions: label words per class from the training rows, library prompts ranked on dev.
  await page.getByTestId('zs-suggest').click();
  await expect(page.getByTestId('zs-ranked').locator('tbody tr').first()).toBeVisible({ timeout: 180_000 });
  const suggestions = (await studioState(page, (s) => s.zsSuggestions))!;
  expect(suggestions.labels.sort()).toEqual(['negative', 'positive']);
  expect(suggestions.words.positive.length).toBeGreaterThan(0);
  await page.getByTestId('zs-ranked').locator('tbody tr').first().getByRole('button', { name: 'Use' }).click();
  await expect(page.getByTestId('zs-template')).toHaveValue(suggestions.ranked[0].template);
  await page
    .getByTestId('zs-suggestions')
    .getByRole('button', { name: suggestions.words.positive[0].word, exact: true })
    .first()
    .click();
  await expect(page.getByTestId('zs-words')).toHaveValue(
    new RegExp(`positive: .*${suggestions.words.positive[0].word}`),
  );
  await studio.screenshot('playground-suggestions', out);

  await page.getByTestId('zs-template').fill('{text} It was [MASK].');
  await page.getByTestId('zs-words').fill('positive: great, good\nnegative: terrible, bad');
  await page.getByTestId('zs-run').click();
  await expect(page.getByTestId('zs-accuracy')).toBeVisible({ timeout: 120_000 });

  await studio.tab('train');
  await page.getByTestId('method-prompt').check();
  // The Train panel edits the same prompt as the playground.
  await expect(page.getByTestId('train-words')).toHaveValue('positive: great, good\nnegative: terrible, bad');
  await page.getByTestId('setting-epochs').fill('3');
  await page.getByTestId('setting-batchSize').fill('16');
  await page.getByTestId('setting-maxLength').fill('32');
  await page.getByTestId('train-start').click();
  await expect.poll(() => studioState(page, (s) => s.plan?.method), { timeout: 120_000 }).toBe('prompt');
  // Pause says "pausing…" until the worker has stopped at a step boundary, then "paused"; every
  // step that ran is reported before "paused" and none runs after it.
  await page.evaluate(() => {
    const seen: { state: string; step: number }[] = [];
    (window as unknown as { __seen: typeof seen }).__seen = seen;
    window.__studio!.subscribe((s) => {
      const last = seen.at(-1);
      const step = s.progress?.step ?? 0;
      if (!last || last.state !== s.trainingState || last.step !== step) seen.push({ state: s.trainingState, step });
    });
  });
  await page.getByTestId('train-pause').click();
  await expect(page.getByTestId('train-state')).toHaveText(/^pausing after step \d+…$|^paused$/);
  await expect.poll(() => studioState(page, (s) => s.trainingState), { timeout: 120_000 }).toBe('paused');
  const pausedAt = await studioState(page, (s) => s.progress?.step ?? 0);
  await page.waitForTimeout(1500);
  expect(await studioState(page, (s) => s.progress?.step ?? 0)).toBe(pausedAt);
  expect(await studioState(page, (s) => s.losses.at(-1)?.step)).toBe(pausedAt);
  const seen = await page.evaluate(() => (window as unknown as { __seen: { state: string; step: number }[] }).__seen);
  const states = seen.map((e) => e.state).filter((state, i, all) => state !== all[i - 1]);
  expect(states.slice(-2)).toEqual(['pausing', 'paused']);
  // Nothing moved once the worker said "paused".
  expect(seen.filter((e) => e.state === 'paused').every((e) => e.step === pausedAt)).toBe(true);
  await expect(page.getByTestId('train-resume')).toBeEnabled();
  await page.getByTestId('train-resume').click();
  await expect.poll(() => studioState(page, (s) => s.trainingState), { timeout: 60_000 }).not.toBe('paused');
  await expect
    .poll(() => studioState(page, (s) => s.summary !== null && s.trainingState === 'idle'), { timeout: 300_000 })
    .toBe(true);
  expect(await studioState(page, (s) => s.trainingError)).toBeNull();
  expect(await studioState(page, (s) => s.model!.prompt)).toEqual({
    template: '{text} It was [MASK].',
    verbalizer: { positive: ['great', 'good'], negative: ['terrible', 'bad'] },
  });

  // Both methods in the comparison table, scored on the same number of dev rows.
  const runs = await studioState(page, (s) => s.methodRuns);
  expect(runs.map((r) => r.method)).toEqual(['zero-shot', 'prompt']);
  expect(runs[0].devCount).toBe(runs[1].devCount);
  await expect(page.getByTestId('method-runs').locator('tbody tr')).toHaveCount(2);
  await studio.screenshot('train-prompt', out);

  await studio.tab('model');
  const download = page.waitForEvent('download');
  await page.getByTestId('export-model').click();
  const files = unzipSync(new Uint8Array(await readFile(await (await download).path())));
  const config = JSON.parse(new TextDecoder().decode(files['config.json']));
  expect(config.fewshot_prompt).toEqual({
    template: '{text} It was [MASK].',
    verbalizer: { positive: ['great', 'good'], negative: ['terrible', 'bad'] },
  });
  expect(config.architectures).toEqual(['BertForMaskedLM']);
});
