import { writeFile } from 'node:fs/promises';
import { loadModelFromDir } from '../../engine/pipeline/node';
import type { TextInput } from '../../engine/pipeline';
import { UsageError, requireString, stringFlag } from '../args';
import { printJson, setupBackend, wantsJson, type Command } from '../context';
import { readDataFile } from '../datafile';
import { csvField } from '../io';

export const predictCommand: Command = {
  name: 'predict',
  summary: 'classify texts with a fine-tuned model (label + probabilities, CSV or JSONL out)',
  usage: 'fewshot predict --model DIR (--input FILE | --text "…" [--text "…"]) [--output FILE.csv|.jsonl]',
  flags: {
    model: { type: 'string', placeholder: 'DIR', help: 'fine-tuned Hugging Face model folder' },
    input: { type: 'string', placeholder: 'FILE', help: 'CSV, TSV or JSONL with a text column (labels, if present, are ignored)' },
    text: { type: 'string', placeholder: 'TEXT', multiple: true, help: 'a text to classify (repeatable)' },
    'text-pair': { type: 'string', placeholder: 'TEXT', help: 'second text for pair models (with a single --text)' },
    'text-column': { type: 'string', placeholder: 'NAME', help: 'override the detected text column' },
    'text-pair-column': { type: 'string', placeholder: 'NAME', help: 'override the detected second-text column' },
    output: { type: 'string', placeholder: 'FILE', help: 'write predictions here (.csv or .jsonl; default: stdout)' },
    format: { type: 'string', placeholder: 'csv|jsonl', help: 'output format (default from --output, else jsonl)' },
    'max-len': { type: 'string', placeholder: 'N', help: 'truncate inputs to N tokens (default 128, capped by the model)' },
  },
  async run(args, io) {
    const dir = requireString(args, 'model', 'the fine-tuned model folder');
    const inputPath = stringFlag(args, 'input');
    const texts = (args.flags.text as string[] | undefined) ?? [];
    if (!inputPath && texts.length === 0) throw new UsageError('Give --input FILE or at least one --text "…".');
    const output = stringFlag(args, 'output');
    const format = stringFlag(args, 'format') ?? (output?.endsWith('.csv') ? 'csv' : 'jsonl');
    if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl, got "${format}".`);
    await setupBackend(args);
    const model = await loadModelFromDir(dir);
    let inputs: TextInput[] = texts.map((text) => ({ text, textPair: texts.length === 1 ? (stringFlag(args, 'text-pair') ?? null) : null }));
    if (inputPath) {
      const file = await readDataFile(inputPath, { text: stringFlag(args, 'text-column'), textPair: stringFlag(args, 'text-pair-column') });
      inputs = [...inputs, ...file.rows.map((r) => ({ text: r.text, textPair: r.textPair ?? null }))];
      for (const w of file.warnings) io.stderr(`warning: ${w}\n`);
    }
    const maxLen = stringFlag(args, 'max-len');
    const predictions = await model.predict(inputs, { maxLength: maxLen ? Number(maxLen) : undefined });
    const labels = model.labels;
    model.dispose();
    if (wantsJson(args) && !output) {
      printJson(io, { labels, predictions: predictions.map((p, i) => ({ text: inputs[i].text, label: p.label, probabilities: Object.fromEntries(labels.map((l, j) => [l, p.probabilities[j]])) })) });
      return 0;
    }
    let text: string;
    if (format === 'csv') {
      const header = ['text', 'label', ...labels.map((l) => `p_${l}`)].map(csvField).join(',');
      const lines = predictions.map((p, i) => [inputs[i].text, p.label, ...p.probabilities.map((x) => x.toFixed(6))].map(csvField).join(','));
      text = `${[header, ...lines].join('\n')}\n`;
    } else {
      text = predictions.map((p, i) => JSON.stringify({ text: inputs[i].text, label: p.label, probabilities: Object.fromEntries(labels.map((l, j) => [l, p.probabilities[j]])) })).join('\n') + '\n';
    }
    if (output) {
      await writeFile(output, text);
      io.stderr(`Wrote ${predictions.length} predictions to ${output}\n`);
    } else io.stdout(text);
    return 0;
  },
};
