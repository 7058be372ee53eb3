/**
 * The Data panel's map on WebGPU (issue 21): a 5,000-row, 3-label CSV generated here is loaded, the
 * micro model draws its map, and the canvas holds every label's colour; hovering a dot shows that
 * row, clicking it selects the row. A 600-row CSV is laid out with UMAP (epochs shown), then drawn
 * again with PCA. Over UMAP's row limit the picker falls back to PCA and keeps the user's choice.
 */
import { expect, test, type Locator, type Page } from '@playwright/test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Studio, studioState } from './studio';

/** Rows of the generated dataset. */
const ROWS = 5000;
const TOPICS: Record<string, string[]> = {
  sport: ['the team won the match', 'a great goal in the final', 'the coach praised the players'],
  food: ['the soup tasted of garlic', 'bake the bread for an hour', 'a sweet cake with cream'],
  weather: ['heavy rain tomorrow morning', 'a cold wind from the north', 'sunny skies all week'],
};

/** `rows` lines cycling through the labels, each text a topic phrase with a row number. */
function mapCsv(rows: number): string {
  const labels = Object.keys(TOPICS);
  const lines = ['text,label'];
  for (let i = 0; i < rows; i++) {
    const label = labels[i % labels.length];
    const phrases = TOPICS[label];
    lines.push(`${phrases[Math.floor(i / labels.length) % phrases.length]} number ${i},${label}`);
  }
  return lines.join('\n') + '\n';
}

/** Opens the studio on its default model with a generated `rows`-row topics CSV in the Data tab; returns the CSV's folder. */
async function openWithTopics(page: Page, rows: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'studio-map-'));
  const csvPath = join(dir, `topics-${rows}.csv`);
  await writeFile(csvPath, mapCsv(rows));
  const studio = new Studio(page);
  await studio.open();
  await studio.waitForEngine();
  await studio.waitForModel();
  await studio.tab('data');
  await page.getByTestId('data-file-input').setInputFiles(csvPath);
  await expect.poll(() => studioState(page, (s) => s.dataset?.examples.length)).toBe(rows);
  return dir;
}

/** Per palette colour: opaque canvas pixels of exactly that colour, and the first one's position. */
function labelPixels(canvas: Locator, palette: string[]) {
  return canvas.evaluate((element: HTMLCanvasElement, colours: string[]) => {
    const { data, width } = element.getContext('2d')!.getImageData(0, 0, element.width, element.height);
    const rgb = colours.map((hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16)));
    const counts = colours.map(() => 0);
    const first: ({ x: number; y: number } | null)[] = colours.map(() => null);
    for (let p = 0; p < data.length; p += 4) {
      if (data[p + 3] !== 255) continue;
      rgb.forEach(([r, g, b], k) => {
        if (data[p] === r && data[p + 1] === g && data[p + 2] === b) {
          counts[k]++;
          first[k] ??= { x: (p / 4) % width, y: Math.floor(p / 4 / width) };
        }
      });
    }
    return { counts, first, width: element.width, height: element.height };
  }, palette);
}

test('the map of a 5,000-row dataset renders coloured by label; hover shows a row, click selects it', async ({
  page,
}, testInfo) => {
  test.setTimeout(540_000);
  const dir = await openWithTopics(page, ROWS);
  try {
    const section = page.getByTestId('embedding-map');
    await expect(section.getByTestId('map-canvas')).toHaveCount(0);
    const started = Date.now();
    await section.getByTestId('map-draw').click();
    await expect(section.getByTestId('map-progress')).toContainText(`of ${ROWS.toLocaleString('en-US')}`);
    const canvas = section.getByTestId('map-canvas');
    await expect(canvas).toHaveAttribute('data-points', String(ROWS), { timeout: 480_000 });
    console.log(`map of ${ROWS} rows drawn in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(await studioState(page, (s) => s.map?.result.points.length)).toBe(2 * ROWS);
    await expect(canvas).toHaveAttribute('aria-label', /^Map of 5000 rows in two dimensions, coloured by label/);
    await expect(section.getByTestId('map-drawn-with')).toHaveText('Drawn with micro-random (base weights).');
    await expect(section.getByTestId('map-legend').locator('li')).toHaveCount(3);
    await expect(section.getByTestId('map-explained')).toContainText(/PCA: the horizontal axis holds \d/);

    // The canvas's pixels: every label's colour is there (dots are drawn opaque, so centres are exact).
    const colors = JSON.parse((await canvas.getAttribute('data-label-colors'))!) as Record<string, string>;
    expect(Object.keys(colors).sort()).toEqual(['food', 'sport', 'weather']);
    expect(new Set(Object.values(colors)).size).toBe(3);
    const pixels = await labelPixels(canvas, Object.values(colors));
    pixels.counts.forEach((count) => expect(count).toBeGreaterThan(20));

    // Hover a dot of the first label's colour: the tooltip shows that region's row, as the store has it.
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    const at = pixels.first[0]!;
    const x = box.x + ((at.x + 0.5) / pixels.width) * box.width;
    const y = box.y + ((at.y + 0.5) / pixels.height) * box.height;
    await page.mouse.move(x, y);
    const tooltip = section.getByTestId('map-tooltip');
    await expect(tooltip).toBeVisible();
    const shown = (await tooltip.innerText()).replace(/\s+/g, ' ');
    const row = Number(/^Row (\d+)/.exec(shown)?.[1]);
    const example = await studioState(page, (s) => s.dataset!.examples);
    const hovered = example.find((e) => e.row === row)!;
    expect(hovered).toBeDefined();
    expect(shown).toContain(`${hovered.label}`);
    expect(shown).toContain(hovered.text);

    await page.mouse.click(x, y);
    const selected = section.getByTestId('map-selected');
    await expect(selected).toContainText(`Row ${row}`);
    await expect(selected).toContainText(hovered.text);
    await section.screenshot({ path: testInfo.outputPath('map.png') });
    expect(await studioState(page, (s) => s.map!.dataset.examples[s.mapSelected!].row)).toBe(row);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('UMAP lays out the map in epochs; the layout can be switched and drawn again', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  const rows = 600;
  const dir = await openWithTopics(page, rows);
  try {
    const section = page.getByTestId('embedding-map');
    await section.getByTestId('map-method').selectOption('umap');
    await section.getByTestId('map-draw').click();
    await expect(section.getByTestId('map-progress')).toContainText(/Laying out with UMAP… epoch \d+ of \d+/, {
      timeout: 240_000,
    });
    const canvas = section.getByTestId('map-canvas');
    await expect(canvas).toHaveAttribute('data-points', String(rows), { timeout: 240_000 });
    expect(await studioState(page, (s) => s.map?.result.method)).toBe('umap');
    await expect(section.getByTestId('map-explained')).toContainText(/^UMAP \(15 neighbours per text\)/);
    // Every label's colour is on the canvas.
    const colors = Object.values(
      JSON.parse((await canvas.getAttribute('data-label-colors'))!) as Record<string, string>,
    );
    const { counts } = await labelPixels(canvas, colors);
    counts.forEach((count) => expect(count).toBeGreaterThan(20));
    await section.screenshot({ path: testInfo.outputPath('map-umap.png') });

    // Back to PCA: the drawn map stays until it is drawn again with the other layout.
    await section.getByTestId('map-method').selectOption('pca');
    await expect(section.getByTestId('map-draw')).toHaveText('Draw again with PCA');
    await section.getByTestId('map-draw').click();
    await expect(section.getByTestId('map-explained')).toContainText(/^PCA: the horizontal axis holds/, {
      timeout: 240_000,
    });
    await expect(section.getByTestId('map-draw')).toHaveCount(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('UMAP picked, then a file over its row limit: the picker shows PCA until a smaller file', async ({ page }) => {
  test.setTimeout(180_000);
  const small = 600;
  const large = 10_001; // one row over the studio's UMAP_MAX_ROWS
  const dir = await openWithTopics(page, small);
  try {
    const section = page.getByTestId('embedding-map');
    const picker = section.getByTestId('map-method');
    await picker.selectOption('umap');
    await expect(picker).toHaveValue('umap');

    const largePath = join(dir, `topics-${large}.csv`);
    await writeFile(largePath, mapCsv(large));
    await page.getByTestId('data-file-input').setInputFiles(largePath);
    await expect.poll(() => studioState(page, (s) => s.dataset?.examples.length)).toBe(large);
    await expect(picker).toHaveValue('pca');
    await expect(picker.locator('option[value="umap"]')).toBeDisabled();
    await expect(picker.locator('option[value="umap"]')).toContainText('at most 10,000 rows');
    // The user's choice is kept: the store still says UMAP.
    expect(await studioState(page, (s) => s.mapMethod)).toBe('umap');

    await page.getByTestId('data-file-input').setInputFiles(join(dir, `topics-${small}.csv`));
    await expect.poll(() => studioState(page, (s) => s.dataset?.examples.length)).toBe(small);
    await expect(picker).toHaveValue('umap');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
