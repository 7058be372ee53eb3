/**
 * Scoring a trained model on labeled rows (`fewshot eval`): predictions through the model's own
 * method (its saved prompt, else the classifier head) and the usual metrics.
 */
import type { Example } from '../data/dataset';
import { EngineError } from '../errors';
import { computeMetrics, type Metrics } from '../train/metrics';
import type { FewShotModel } from './fewshot-model';

export async function evaluateModel(
  model: FewShotModel,
  rows: readonly Example[],
  options: { maxLength?: number; source?: string } = {},
): Promise<Metrics> {
  const labels = model.labels;
  const source = options.source ?? 'The data';
  const unknown = [...new Set(rows.map((r) => r.label).filter((l): l is string => l !== null && !labels.includes(l)))];
  if (unknown.length > 0) {
    throw new EngineError(
      'EVAL_UNKNOWN_LABELS',
      `${source} has labels the model does not know: ${unknown.join(', ')}. The model's labels: ${labels.join(', ')}.`,
    );
  }
  const labeled = rows.filter((r) => r.label !== null);
  if (labeled.length === 0) throw new EngineError('EVAL_NO_LABELS', `${source} has no labeled rows to evaluate on.`);
  const predictions = await model.predict(
    labeled.map((r) => ({ text: r.text, textPair: r.textPair ?? null })),
    { maxLength: options.maxLength },
  );
  return computeMetrics(
    labeled.map((r) => labels.indexOf(r.label!)),
    predictions.map((p) => p.probabilities),
    labels,
  );
}
