import { loadModelFromDir } from '../../engine/pipeline/node';
import { computeMetrics } from '../../engine/train/metrics';
import { EngineError } from '../../engine/errors';
import { requireString, stringFlag } from '../args';
import { printJson, setupBackend, wantsJson, type Command } from '../context';
import { COLUMN_FLAGS, columnOverrides, printMetrics, readExamples } from './train';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'evaluate a fine-tuned model on labeled data: metrics and a confusion matrix',
  usage: 'fewshot eval --model DIR --data test.csv',
  flags: {
    model: { type: 'string', placeholder: 'DIR', help: 'fine-tuned Hugging Face model folder' },
    data: { type: 'string', placeholder: 'FILE', help: 'labeled CSV, TSV or JSONL' },
    'max-len': { type: 'string', placeholder: 'N', help: 'truncate to N tokens (default 128, capped by the model)' },
    ...COLUMN_FLAGS,
  },
  async run(args, io) {
    const dir = requireString(args, 'model', 'the fine-tuned model folder');
    const dataPath = requireString(args, 'data', 'the labeled evaluation file');
    await setupBackend(args);
    const model = await loadModelFromDir(dir);
    const labels = model.labels;
    const rows = await readExamples(dataPath, columnOverrides(args), io);
    const unknown = [
      ...new Set(rows.map((r) => r.label).filter((l): l is string => l !== null && !labels.includes(l))),
    ];
    if (unknown.length > 0) {
      throw new EngineError(
        'EVAL_UNKNOWN_LABELS',
        `${dataPath} has labels the model does not know: ${unknown.join(', ')}. The model's labels: ${labels.join(', ')}.`,
      );
    }
    const labeled = rows.filter((r) => r.label !== null);
    if (labeled.length === 0)
      throw new EngineError('EVAL_NO_LABELS', `${dataPath} has no labeled rows to evaluate on.`);
    const maxLength = Math.min(Number(stringFlag(args, 'max-len') ?? 128), model.maxLength);
    // model.predict goes through the saved prompt when the model has one, else the classifier head.
    const predictions = await model.predict(
      labeled.map((r) => ({ text: r.text, textPair: r.textPair ?? null })),
      { maxLength },
    );
    const metrics = computeMetrics(
      labeled.map((r) => labels.indexOf(r.label!)),
      predictions.map((p) => p.probabilities),
      labels,
    );
    model.dispose();
    if (wantsJson(args)) {
      const { predictions: _p, ...rest } = metrics;
      printJson(io, rest);
      return 0;
    }
    printMetrics(io, dataPath, metrics, labels);
    return 0;
  },
};
