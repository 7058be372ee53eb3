import { evaluateModel } from '../../engine/studio';
import { loadModelFromDir } from '../../engine/studio/node';
import { intFlag, requireString } from '../args';
import { compactMetrics, printJson, printMetrics, setupBackend, wantsJson, type Command } from '../context';
import { COLUMN_FLAGS, columnOverrides, readExamples } from '../datafile';

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
    try {
      const rows = await readExamples(dataPath, columnOverrides(args), io);
      const maxLength = Math.min(intFlag(args, 'max-len', 128, { min: 8, max: 4096 }), model.maxLength);
      // Through the saved prompt when the model has one, else the classifier head.
      const metrics = await evaluateModel(model, rows, { maxLength, source: dataPath });
      if (wantsJson(args)) printJson(io, compactMetrics(metrics));
      else printMetrics(io, dataPath, metrics, model.labels);
      return 0;
    } finally {
      model.dispose();
    }
  },
};
