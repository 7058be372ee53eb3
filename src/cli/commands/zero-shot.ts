/**
 * `fewshot zero-shot`: classify texts with a cloze prompt and the MLM head (no training), or, with
 * `--data`, score a (template, verbalizer) on labeled rows; `--suggest N` lists label-word
 * suggestions per class and `--search` ranks the built-in library prompts on the labeled rows.
 * Template/verbalizer default to the model's saved `fewshot_prompt` (config.json).
 */
import { basename } from 'node:path';
import { loadModelFromDir } from '../../engine/pipeline/node';
import {
  buildVerbalizer,
  defaultPrompt,
  evaluatePrompt,
  findRecipe,
  parseVerbalizerJson,
  rankPrompts,
  recipeCandidates,
  suggestLabelWords,
  zeroShotProbabilities,
  type VerbalizerSpec,
} from '../../engine/prompt';
import { readPromptFromDir } from '../../engine/prompt/node';
import { UsageError, intFlag, requireString, stringFlag } from '../args';
import { printJson, setupBackend, wantsJson, type Command } from '../context';
import { TEXT_INPUT_FLAGS, collectTextInputs } from '../datafile';
import { COLUMN_FLAGS, columnOverrides, printMetrics, readExamples } from './train';

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
    data: { type: 'string', placeholder: 'FILE', help: 'labeled CSV/TSV/JSONL: print metrics instead of predictions' },
    suggest: { type: 'string', placeholder: 'N', help: 'with --data: suggest N label words per class from the MLM' },
    search: { type: 'boolean', help: 'with --data: rank the built-in templates/verbalizers for these labels' },
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
      const rows = dataPath
        ? (await readExamples(dataPath, columnOverrides(args), io)).filter((r) => r.label !== null)
        : null;
      const labels = rows ? [...new Set(rows.map((r) => r.label as string))].sort() : null;
      const fallback = labels
        ? defaultPrompt(dataPath ? basename(dataPath).replace(/\..*$/, '') : null, labels, model.tokenizer)
        : null;
      const template = stringFlag(args, 'template') ?? saved?.template ?? fallback?.template;
      const verbalizerText = stringFlag(args, 'verbalizer');
      const spec: VerbalizerSpec | undefined = verbalizerText
        ? parseVerbalizerJson(verbalizerText)
        : (saved?.verbalizer ?? fallback?.verbalizer);
      if (!template)
        throw new UsageError(
          '--template is required (the model has no saved fewshot_prompt), e.g. --template "{text} It was [MASK]."',
        );
      const maxLength = intFlag(args, 'max-len', 128, { min: 8, max: 4096 });
      const calibrate = args.flags.calibrate === true || saved?.calibrate === true;
      const examples = rows?.map((r) => ({ text: r.text, textPair: r.textPair ?? null, label: r.label as string }));

      if (examples && labels && stringFlag(args, 'suggest')) {
        const topK = intFlag(args, 'suggest', 10, { min: 1, max: 100 });
        const suggestions = await suggestLabelWords(model, template, examples, labels, { topK, maxLength });
        if (wantsJson(args)) printJson(io, { template, suggestions });
        else
          for (const l of labels)
            io.stdout(`${l}: ${suggestions[l].map((s) => `${s.word} (${s.score.toFixed(2)})`).join(', ')}\n`);
        return 0;
      }
      if (examples && labels && args.flags.search === true) {
        const recipe = findRecipe(null, labels);
        const candidates = recipe ? recipeCandidates(recipe, labels, model.tokenizer) : [];
        if (spec) candidates.unshift({ template, verbalizer: spec });
        const ranked = await rankPrompts(model, candidates, examples, labels, { calibrate, maxLength });
        if (wantsJson(args))
          printJson(
            io,
            ranked.map(({ metrics: _m, ...r }) => r),
          );
        else
          for (const r of ranked)
            io.stdout(
              r.error
                ? `  error  ${r.template}  ${JSON.stringify(r.verbalizer)}: ${r.error}\n`
                : `${r.accuracy.toFixed(4)}  ${r.template}  ${JSON.stringify(r.verbalizer)}\n`,
            );
        return 0;
      }
      if (!spec)
        throw new UsageError(
          '--verbalizer is required (the model has no saved fewshot_prompt), e.g. --verbalizer \'{"positive":["great"],"negative":["terrible"]}\'',
        );
      const v = buildVerbalizer(spec, labels ?? Object.keys(spec), model.tokenizer);
      for (const w of v.warnings) io.stderr(`warning: ${w}\n`);
      if (examples) {
        const metrics = await evaluatePrompt(model, template, v, examples, { calibrate, maxLength });
        if (wantsJson(args)) {
          const { predictions: _p, ...rest } = metrics;
          printJson(io, { template, verbalizer: spec, calibrate, ...rest });
        } else printMetrics(io, `${dataPath} (zero-shot, ${template})`, metrics, v.labels);
        return 0;
      }
      const inputs = await collectTextInputs(args, (w) => io.stderr(`warning: ${w}\n`));
      const probs = await zeroShotProbabilities(model, template, v, inputs, { calibrate, maxLength });
      const out = probs.map((p, i) => {
        const best = p.indexOf(Math.max(...p));
        return {
          text: inputs[i].text,
          label: v.labels[best],
          probabilities: Object.fromEntries(v.labels.map((l, j) => [l, p[j]])),
        };
      });
      if (wantsJson(args)) printJson(io, { template, labels: v.labels, predictions: out });
      else io.stdout(out.map((o) => JSON.stringify(o)).join('\n') + '\n');
      return 0;
    } finally {
      model.dispose();
    }
  },
};
