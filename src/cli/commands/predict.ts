import { writeFile } from 'node:fs/promises';
import { loadModelFromDir } from '../../engine/pipeline/node';
import { UsageError, requireString, stringFlag } from '../args';
import { printJson, setupBackend, wantsJson, type Command } from '../context';
import { TEXT_INPUT_FLAGS, collectTextInputs } from '../datafile';
import { csvField } from '../io';

export const predictCommand: Command = {
  name: 'predict',
  summary: 'classify texts with a fine-tuned model (label + probabilities, CSV or JSONL out)',
  usage: 'fewshot predict --model DIR (--input FILE | --text "…" [--text "…"]) [--output FILE.csv|.jsonl]',
  flags: {
    model: { type: 'string', placeholder: 'DIR', help: 'fine-tuned Hugging Face model folder' },
    ...TEXT_INPUT_FLAGS,
    output: { type: 'string', placeholder: 'FILE', help: 'write predictions here (.csv or .jsonl; default: stdout)' },
    format: { type: 'string', placeholder: 'csv|jsonl', help: 'output format (default from --output, else jsonl)' },
    'max-len': {
      type: 'string',
      placeholder: 'N',
      help: 'truncate inputs to N tokens (default 128, capped by the model)',
    },
  },
  async run(args, io) {
    const dir = requireString(args, 'model', 'the fine-tuned model folder');
    const output = stringFlag(args, 'output');
    const format = stringFlag(args, 'format') ?? (output?.endsWith('.csv') ? 'csv' : 'jsonl');
    if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl, got "${format}".`);
    const inputs = await collectTextInputs(args, (w) => io.stderr(`warning: ${w}\n`));
    await setupBackend(args);
    const model = await loadModelFromDir(dir);
    const maxLen = stringFlag(args, 'max-len');
    const predictions = await model.predict(inputs, { maxLength: maxLen ? Number(maxLen) : undefined });
    const labels = model.labels;
    model.dispose();
    if (wantsJson(args) && !output) {
      printJson(io, {
        labels,
        predictions: predictions.map((p, i) => ({
          text: inputs[i].text,
          label: p.label,
          probabilities: Object.fromEntries(labels.map((l, j) => [l, p.probabilities[j]])),
        })),
      });
      return 0;
    }
    let text: string;
    if (format === 'csv') {
      const header = ['text', 'label', ...labels.map((l) => `p_${l}`)].map(csvField).join(',');
      const lines = predictions.map((p, i) =>
        [inputs[i].text, p.label, ...p.probabilities.map((x) => x.toFixed(6))].map(csvField).join(','),
      );
      text = `${[header, ...lines].join('\n')}\n`;
    } else {
      text =
        predictions
          .map((p, i) =>
            JSON.stringify({
              text: inputs[i].text,
              label: p.label,
              probabilities: Object.fromEntries(labels.map((l, j) => [l, p.probabilities[j]])),
            }),
          )
          .join('\n') + '\n';
    }
    if (output) {
      await writeFile(output, text);
      io.stderr(`Wrote ${predictions.length} predictions to ${output}\n`);
    } else io.stdout(text);
    return 0;
  },
};
