/**
 * Scoring a labeled test file (the Evaluate panel's "Test file", `fewshot eval`): the Data panel's
 * parser and column detection, labels mapped onto the model's, an unknown label named with its row.
 * On the golden micro model (labels negative / neutral / positive), wasm.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../tf/node';
import { computeMetrics } from '../train/metrics';
import { evaluateFile, evaluateModel } from './evaluate';
import { loadModelFromDir } from './node';

const GOLDEN_DIR = 'tests/fixtures/golden-micro/model';
const bytes = (text: string) => new TextEncoder().encode(text);
const TEST_CSV = [
  'review,sentiment,id',
  'the movie was good,positive,1',
  'the film was bad,negative,2',
  'i loved the book,positive,3',
  'i hated the show,negative,4',
  'the story was ok,neutral,5',
  'no label here,,6',
  'the book was good,positive,7',
].join('\n');

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe('evaluateFile', () => {
  it('detects the columns as the Data panel does and scores the labeled rows', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    try {
      const result = await evaluateFile(model, bytes(TEST_CSV), 'test.csv', { rowsPerChunk: 2 });
      expect(result.mapping).toEqual({ text: 'review', textPair: null, label: 'sentiment' });
      expect(result.rows).toBe(6);
      expect(result.unlabeled).toBe(1);
      expect(result.fileRows).toEqual([2, 3, 4, 5, 6, 8]);
      expect(result.texts[4]).toBe('the story was ok');
      // The same numbers as predicting the rows in one go and computing the metrics directly.
      const labels = [...model.labels];
      const texts = [
        'the movie was good',
        'the film was bad',
        'i loved the book',
        'i hated the show',
        'the story was ok',
        'the book was good',
      ];
      const truth = ['positive', 'negative', 'positive', 'negative', 'neutral', 'positive'];
      const predictions = await model.predict(texts.map((text) => ({ text, textPair: null })));
      const direct = computeMetrics(
        truth.map((l) => labels.indexOf(l)),
        predictions.map((p) => p.probabilities),
        labels,
      );
      expect(result.metrics.n).toBe(6);
      expect(result.metrics.confusion).toEqual(direct.confusion);
      expect(result.metrics.accuracy).toBe(direct.accuracy);
      expect(result.metrics.macroF1).toBeCloseTo(direct.macroF1, 12);
      expect(result.metrics.accuracyInterval).toBeDefined();
    } finally {
      model.dispose();
    }
  });

  it('names the row and the label the model does not know, before predicting anything', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    try {
      const csv = `${TEST_CSV}\nthe show was great,joyful,8\nso so,meh,9\nmore joy,joyful,10`;
      let chunks = 0;
      const failure = evaluateFile(model, bytes(csv), 'test.csv', {
        runChunk: async (predict) => {
          chunks++;
          return predict();
        },
      });
      await expect(failure).rejects.toMatchObject({
        code: 'EVAL_UNKNOWN_LABELS',
        message: expect.stringMatching(
          /^test\.csv has labels the model does not know: row 9 has "joyful", row 10 has "meh"\. The model's labels are "negative", "neutral", "positive"/,
        ),
      });
      expect(chunks).toBe(0);
    } finally {
      model.dispose();
    }
  });

  it('refuses a file with no label column and one with no labeled row, saying what to do', async () => {
    const model = await loadModelFromDir(GOLDEN_DIR);
    try {
      await expect(
        evaluateFile(model, bytes('text\nthe movie was good\nbad film\n'), 'texts.csv'),
      ).rejects.toMatchObject({
        code: 'EVAL_NO_LABEL_COLUMN',
        message: expect.stringMatching(/texts\.csv has no label column.*Predictions for a file/),
      });
      await expect(evaluateModel(model, [{ text: 'a', label: null }], { source: 'empty.csv' })).rejects.toMatchObject({
        code: 'EVAL_NO_LABELS',
        message: 'empty.csv has no labeled rows to evaluate on.',
      });
    } finally {
      model.dispose();
    }
  });
});
