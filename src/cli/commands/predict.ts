/**
 * `fewshot predict`: labels and probabilities for texts or a whole file. A file to CSV gives the
 * same columns as the studio's Evaluate download (row, text, predicted_label, prob_<label>...).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { predictFile, predictionCsvLines, type Prediction, type TextInput } from '../../engine/studio';
import { checkWritableFile, loadModelFromDir, writeFileAtomic } from '../../engine/studio/node';
import { UsageError, intFlag, requireString, stringFlag } from '../args';
import { printJson, setupBackend, wantsJson, type Command } from '../context';
import { TEXT_INPUT_FLAGS, collectTextInputs } from '../datafile';
import { ProgressBar } from '../progress';

function jsonLines(
  labels: readonly string[],
  inputs: readonly TextInput[],
  predictions: readonly Prediction[],
): string {
  return predictions
    .map((p, i) =>
      JSON.stringify({
        text: inputs[i].text,
        label: p.label,
        probabilities: Object.fromEntries(labels.map((l, j) => [l, p.probabilities[j]])),
      }),
    )
    .map((line) => `${line}\n`)
    .join('');
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'classify texts or a whole file with a fine-tuned model (label + probabilities, CSV or JSONL)',
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
    const maxLength = stringFlag(args, 'max-len') ? intFlag(args, 'max-len', 128, { min: 8, max: 4096 }) : undefined;
    const inputPath = stringFlag(args, 'input');
    const texts = (args.flags.text as string[] | undefined) ?? [];
    // Fail before predicting (which can take long) when the output cannot be written.
    if (output) await checkWritableFile(output);
    await setupBackend(args);
    const model = await loadModelFromDir(dir);
    try {
      // A whole file to CSV streams through the same path as the studio's Evaluate panel.
      if (inputPath && texts.length === 0 && format === 'csv' && !wantsJson(args) && maxLength === undefined) {
        const bar = new ProgressBar(io);
        const result = await predictFile(model, createReadStream(inputPath), basename(inputPath), {
          textColumn: stringFlag(args, 'text-column') ?? null,
          textPairColumn: stringFlag(args, 'text-pair-column'),
          totalBytes: (await stat(inputPath)).size,
          onProgress: (p) => {
            if (p.phase === 'predicting' && p.total !== null) bar.update(p.done, p.total, 'rows');
          },
        });
        bar.done();
        for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
        if (output) {
          await writeFileAtomic(output, result.csv, { what: 'predictions file' });
          io.stderr(`Wrote ${result.rows} predictions to ${output}\n`);
        } else io.stdout(new TextDecoder().decode(result.csv));
        return 0;
      }
      const inputs = await collectTextInputs(args, (w) => io.stderr(`warning: ${w}\n`));
      const predictions = await model.predict(inputs, { maxLength });
      const labels = model.labels;
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
      const text =
        format === 'csv'
          ? predictionCsvLines(labels, inputs, predictions, true)
          : jsonLines(labels, inputs, predictions);
      if (output) {
        await writeFileAtomic(output, text, { what: 'predictions file' });
        io.stderr(`Wrote ${predictions.length} predictions to ${output}\n`);
      } else io.stdout(text);
      return 0;
    } finally {
      model.dispose();
    }
  },
};
