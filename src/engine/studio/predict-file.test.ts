/**
 * Predictions for a whole file: a one-column file streamed in, predicted chunk by chunk (each
 * chunk through the caller's queue), written as a CSV whose rows and probabilities are exactly
 * what `predict` gives, with formula-like text made safe for spreadsheets.
 */
import Papa from 'papaparse';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend, loadModelFromDir } from './node';
import { predictFile, type PredictFileProgress } from './predict-file';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe('predictFile', () => {
  it('predicts a text-only file in chunks with progress, as predict does, into a safe CSV', async () => {
    const model = await loadModelFromDir('tests/fixtures/golden-micro/model');
    const texts = ['the cat sat', '=HYPERLINK("http://x","click")', 'a "quoted"\nline', 'the dog', 'good', 'bad', 'x'];
    const csvIn = Papa.unparse({ fields: ['review'], data: texts.map((t) => [t]) });
    const progress: PredictFileProgress[] = [];
    let chunks = 0;
    const result = await predictFile(model, new TextEncoder().encode(csvIn), 'reviews.csv', {
      rowsPerChunk: 3,
      onProgress: (p) => progress.push(p),
      runChunk: (predict) => {
        chunks++;
        return predict();
      },
    });
    expect(result.rows).toBe(texts.length);
    expect(result.textColumn).toBe('review');
    expect(chunks).toBe(3);
    expect(progress.filter((p) => p.phase === 'predicting').map((p) => p.done)).toEqual([0, 3, 6, 7]);
    const parsed = Papa.parse<string[]>(new TextDecoder().decode(result.csv).trim()).data;
    expect(parsed[0]).toEqual(['row', 'text', 'predicted_label', ...model.labels.map((l) => `prob_${l}`)]);
    const direct = await model.predict(texts.map((text) => ({ text })));
    parsed.slice(1).forEach((cells, i) => {
      // Formula-like text is written with a leading apostrophe; everything else as it was.
      expect(cells[1]).toBe(texts[i].startsWith('=') ? `'${texts[i]}` : texts[i]);
      expect(cells[2]).toBe(direct[i].label);
      cells.slice(3).forEach((p, j) => expect(Number(p)).toBeCloseTo(direct[i].probabilities[j], 6));
    });
    expect(parsed[1][0]).toBe('2'); // the file's row numbers (header = row 1)
    model.dispose();
  });

  it('names a text column the file does not have', async () => {
    const model = await loadModelFromDir('tests/fixtures/golden-micro/model');
    await expect(
      predictFile(model, new TextEncoder().encode('text\nhello\n'), 'f.csv', { textColumn: 'body' }),
    ).rejects.toMatchObject({ code: 'DATA_BAD_MAPPING', message: expect.stringContaining('"body"') });
    model.dispose();
  });
});
