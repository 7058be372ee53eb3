/**
 * `fewshot zero-shot`: classify texts with a cloze prompt and the MLM head (no training), or, with
 * `--data`, score a (template, verbalizer) on its labeled rows; `--suggest N` and
 * `--search` give the studio's prompt suggestions for the same data (label words and library
 * prompts ranked on every labeled row). Template and label words default to the model's
 * saved `fewshot_prompt` (config.json), else the built-in choice for the labels.
 */
import { basename } from 'node:path';
import {
  DEFAULT_SEED,
  defaultPrompt,
  evaluatePromptOn,
  parseVerbalizerJson,
  suggestPrompts,
  zeroShot,
  type Example,
} from '../../engine/studio';
import { loadModelFromDir, readPromptFromDir } from '../../engine/studio/node';
import { UsageError, intFlag, requireString, stringFlag } from '../args';
import { compactMetrics, printJson, printMetrics, setupBackend, wantsJson, type Command } from '../context';
import { COLUMN_FLAGS, TEXT_INPUT_FLAGS, collectTextInputs, columnOverrides, readExamples } from '../datafile';

const words = (spec: Record<string, string | readonly string[]>) =>
  Object.fromEntries(Object.entries(spec).map(([l, w]) => [l, typeof w === 'string' ? [w] : [...w]]));

export const zeroShotCommand: Command = {
  name: 'zero-shot',
  summary:
    'classify with a cloze prompt and label words (no training); score, suggest or search prompts on labeled data',
  usage:
    'fewshot zero-shot --model DIR [--template "{text} It was [MASK]." --verbalizer JSON] (--text "…" | --input FILE | --data labeled.csv [--suggest N | --search])',
  flags: {
    model: { type: 'string', placeholder: 'DIR', help: 'Hugging Face model folder with an MLM head' },
    template: { type: 'string', placeholder: 'T', help: 'cloze template with {text} (and {text_pair}) and one [MASK]' },
    verbalizer: {
      type: 'string',
      placeholder: 'JSON',
      help: 'label → word(s), e.g. \'{"positive":["great"],"negative":["terrible"]}\'',
    },
    calibrate: { type: 'boolean', help: 'divide by the label prior on content-free inputs ("", "N/A")' },
    data: {
      type: 'string',
      placeholder: 'FILE',
      help: 'labeled CSV/TSV/JSONL: print metrics instead of predictions',
    },
    suggest: {
      type: 'string',
      placeholder: 'N',
      help: 'with --data: N label words per class and ranked prompts (as the studio suggests them)',
    },
    search: { type: 'boolean', help: 'with --data: only the ranked prompts for these labels' },
    seed: { type: 'string', placeholder: 'N', help: 'seed of the train/dev split (default 42, as training)' },
    'max-len': { type: 'string', placeholder: 'N', help: 'max tokens per rendered prompt (default 128)' },
    ...TEXT_INPUT_FLAGS,
    'label-column': COLUMN_FLAGS['label-column'],
  },
  async run(args, io) {
    const dir = requireString(args, 'model', 'the model folder');
    await setupBackend(args);
    const model = await loadModelFromDir(dir);
    try {
      const saved = await readPromptFromDir(dir).catch(() => null);
      const dataPath = stringFlag(args, 'data');
      const rows: Example[] | null = dataPath
        ? (await readExamples(dataPath, columnOverrides(args), io)).filter((r) => r.label !== null)
        : null;
      const seed = intFlag(args, 'seed', DEFAULT_SEED, { min: 0 });
      const labels = rows ? [...new Set(rows.map((r) => r.label as string))].sort() : null;
      const verbalizerText = stringFlag(args, 'verbalizer');
      const givenSpec = verbalizerText ? parseVerbalizerJson(verbalizerText) : saved?.verbalizer;
      const fallback = labels
        ? defaultPrompt(dataPath ? basename(dataPath).replace(/\..*$/, '') : null, labels, model.tokenizer, givenSpec)
        : null;
      const template = stringFlag(args, 'template') ?? saved?.template ?? fallback?.template;
      const spec = givenSpec ?? fallback?.verbalizer;
      if (!template)
        throw new UsageError(
          '--template is required (the model has no saved fewshot_prompt), e.g. --template "{text} It was [MASK]."',
        );
      const maxLength = intFlag(args, 'max-len', 128, { min: 8, max: 4096 });
      const calibrate = args.flags.calibrate === true || saved?.calibrate === true;

      if (rows && (stringFlag(args, 'suggest') || args.flags.search === true)) {
        const topK = intFlag(args, 'suggest', 8, { min: 1, max: 100 });
        const result = await suggestPrompts(model, { template, labeled: rows, seed, topK });
        if (args.flags.search === true && !stringFlag(args, 'suggest')) {
          if (wantsJson(args)) printJson(io, result.ranked);
          else printRanked(io, result.ranked);
          return 0;
        }
        if (wantsJson(args))
          printJson(io, { template, suggestions: result.words, ranked: result.ranked, rowCount: result.rowCount });
        else {
          for (const l of result.labels)
            io.stdout(`${l}: ${result.words[l].map((s) => `${s.word} (${s.score.toFixed(2)})`).join(', ')}\n`);
          io.stdout(`\nPrompts ranked by zero-shot accuracy on the ${result.rowCount} labeled rows:\n`);
          printRanked(io, result.ranked);
        }
        return 0;
      }
      if (!spec)
        throw new UsageError(
          '--verbalizer is required (the model has no saved fewshot_prompt), e.g. --verbalizer \'{"positive":["great"],"negative":["terrible"]}\'',
        );
      const verbalizer = words(spec);
      if (rows) {
        const labeled = rows.map((r) => ({ text: r.text, textPair: r.textPair ?? null, label: r.label! }));
        const metrics = await evaluatePromptOn(model, { template, verbalizer, calibrate }, labeled, labels!, {
          maxLength,
        });
        if (wantsJson(args)) printJson(io, { template, verbalizer, calibrate, ...compactMetrics(metrics) });
        else printMetrics(io, `${dataPath} (zero-shot, ${template})`, metrics, labels!);
        return 0;
      }
      const inputs = await collectTextInputs(args, (w) => io.stderr(`warning: ${w}\n`));
      const result = await zeroShot(model, { template, verbalizer, calibrate, inputs, labeled: null, maxLength });
      for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
      const out = result.predictions.map((p, i) => ({
        text: inputs[i].text,
        label: p.label,
        probabilities: Object.fromEntries(result.labels.map((l, j) => [l, p.probabilities[j]])),
      }));
      if (wantsJson(args)) printJson(io, { template, labels: result.labels, predictions: out });
      else io.stdout(out.map((o) => JSON.stringify(o)).join('\n') + '\n');
      return 0;
    } finally {
      model.dispose();
    }
  },
};

function printRanked(
  io: { stdout: (t: string) => void },
  ranked: { template: string; verbalizer: unknown; accuracy: number; error: string | null }[],
) {
  for (const r of ranked)
    io.stdout(
      r.error
        ? `  error  ${r.template}  ${JSON.stringify(r.verbalizer)}: ${r.error}\n`
        : `${r.accuracy.toFixed(4)}  ${r.template}  ${JSON.stringify(r.verbalizer)}\n`,
    );
}
