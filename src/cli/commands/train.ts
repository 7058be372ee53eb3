import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTrainer, prepareFineTune, type FineTuneOverrides } from '../../engine/pipeline/fine-tune';
import { loadModelFromDir, saveModelToDir } from '../../engine/pipeline/node';
import { formatConfusionMatrix, type Metrics } from '../../engine/train/metrics';
import type { EncodedExample } from '../../engine/train/batches';
import type { Example } from '../../engine/data/dataset';
import { defaultPrompt, parseVerbalizerJson } from '../../engine/prompt';
import { preparePromptFineTune } from '../../engine/pipeline/prompt-fine-tune';
import type { TrainerCallbacks } from '../../engine/train/trainer';
import { UsageError, intFlag, numberFlag, requireString, stringFlag } from '../args';
import { printJson, setupBackend, wantsJson, type CliIO, type Command } from '../context';
import { readDataFile, type ColumnOverrides } from '../datafile';
import { ProgressBar, formatDuration } from '../progress';

export function columnOverrides(args: Parameters<Command['run']>[0]): ColumnOverrides {
  return {
    text: stringFlag(args, 'text-column'),
    textPair: stringFlag(args, 'text-pair-column'),
    label: stringFlag(args, 'label-column'),
  };
}

export const COLUMN_FLAGS = {
  'text-column': { type: 'string', placeholder: 'NAME', help: 'override the detected text column' },
  'text-pair-column': { type: 'string', placeholder: 'NAME', help: 'override the detected second-text column' },
  'label-column': { type: 'string', placeholder: 'NAME', help: 'override the detected label column' },
} as const;

export async function readExamples(path: string, columns: ColumnOverrides, io: CliIO): Promise<Example[]> {
  const file = await readDataFile(path, columns);
  for (const w of file.warnings) io.stderr(`warning: ${w}\n`);
  if (!file.columns.label)
    throw new UsageError(
      `${path}: no label column found (columns detected: text=${file.columns.text}). Name it with --label-column.`,
    );
  return file.rows.map((r) => ({ text: r.text, textPair: r.textPair, label: r.label }));
}

export function printMetrics(io: CliIO, title: string, metrics: Metrics, labels: string[]): void {
  io.stdout(
    `\n${title}: accuracy ${metrics.accuracy.toFixed(4)}, macro-F1 ${metrics.macroF1.toFixed(4)} (${metrics.n} examples)\n`,
  );
  const width = Math.max(5, ...labels.map((l) => l.length));
  io.stdout(`${'label'.padEnd(width)}  precision  recall  f1      support\n`);
  for (const c of metrics.perClass) {
    io.stdout(
      `${c.label.padEnd(width)}  ${c.precision.toFixed(4).padEnd(9)}  ${c.recall.toFixed(4)}  ${c.f1.toFixed(4)}  ${c.support}\n`,
    );
  }
  io.stdout(
    `\nconfusion matrix (rows: true, columns: predicted)\n${formatConfusionMatrix(metrics.confusion, labels)}\n`,
  );
}

/** Metrics without the per-example list (that goes to predictions files, not metrics.json). */
function compact(metrics: Metrics | null) {
  if (!metrics) return null;
  const { predictions: _predictions, ...rest } = metrics;
  return rest;
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'fine-tune on labeled CSV/TSV/JSONL (classifier head or cloze prompt) and write a Hugging Face folder',
  usage:
    'fewshot train --model DIR --train train.csv [--dev dev.csv] [--test test.csv] --out DIR [--method head|prompt --template T --verbalizer JSON] [--epochs N --lr X --batch-size N --max-len N --seed N]',
  flags: {
    method: {
      type: 'string',
      placeholder: 'head|prompt',
      help: 'head: classifier on the pooled [CLS] (default); prompt: LM-BFF cloze prompt through the MLM head',
    },
    template: {
      type: 'string',
      placeholder: 'T',
      help: 'prompt method: template with {text} (and {text_pair}) and one [MASK] (default: built-in for the labels)',
    },
    verbalizer: {
      type: 'string',
      placeholder: 'JSON',
      help: 'prompt method: label words, e.g. {"pos": ["great"], "neg": ["terrible"]} (default: built-in or the label names)',
    },
    model: { type: 'string', placeholder: 'DIR', help: 'pretrained Hugging Face model folder to start from' },
    train: { type: 'string', placeholder: 'FILE', help: 'labeled training data (CSV, TSV or JSONL)' },
    dev: {
      type: 'string',
      placeholder: 'FILE',
      help: 'dev data for evaluation/early stopping (default: 20% stratified split of --train)',
    },
    test: { type: 'string', placeholder: 'FILE', help: 'test data, evaluated once with the final weights' },
    out: { type: 'string', placeholder: 'DIR', help: 'output folder (model + metrics.json + train_log.jsonl)' },
    epochs: { type: 'string', placeholder: 'N', help: 'passes over the data (default: from dataset size)' },
    lr: { type: 'string', placeholder: 'X', help: 'peak learning rate (default: from model size)' },
    'batch-size': { type: 'string', placeholder: 'N', help: 'examples per step (default: from dataset size)' },
    'max-len': {
      type: 'string',
      placeholder: 'N',
      help: 'max tokens per example (default: 95th percentile, capped by the model)',
    },
    seed: { type: 'string', placeholder: 'N', help: 'random seed (default 42)' },
    'grad-accum': { type: 'string', placeholder: 'N', help: 'micro-batches per optimizer step (default 1)' },
    'class-weights': { type: 'string', placeholder: 'balanced', help: 'weight the loss by inverse class frequency' },
    'eval-every': { type: 'string', placeholder: 'N', help: 'also evaluate every N steps (default: each epoch)' },
    patience: {
      type: 'string',
      placeholder: 'N',
      help: 'early-stop after N evaluations without improvement (0 = off)',
    },
    dtype: { type: 'string', placeholder: 'f32|f16', help: 'weights dtype of the exported model (default f32)' },
    ...COLUMN_FLAGS,
  },
  async run(args, io) {
    const modelDir = requireString(args, 'model', 'the pretrained model folder to fine-tune');
    const trainPath = requireString(args, 'train', 'the labeled training file');
    const outDir = requireString(args, 'out', 'where to write the fine-tuned model');
    const dtype = (stringFlag(args, 'dtype') ?? 'f32').toUpperCase();
    if (dtype !== 'F32' && dtype !== 'F16') throw new UsageError('--dtype must be f32 or f16.');
    const method = stringFlag(args, 'method') ?? 'head';
    if (method !== 'head' && method !== 'prompt')
      throw new UsageError(`--method must be head or prompt, got "${method}".`);
    if (method === 'head' && (stringFlag(args, 'template') || stringFlag(args, 'verbalizer')))
      throw new UsageError('--template and --verbalizer need --method prompt.');
    const classWeights = stringFlag(args, 'class-weights');
    if (method === 'prompt' && classWeights) throw new UsageError('--class-weights works with --method head only.');
    if (classWeights !== undefined && classWeights !== 'balanced')
      throw new UsageError('--class-weights takes only "balanced".');
    const overrides: FineTuneOverrides = {
      epochs: stringFlag(args, 'epochs') ? intFlag(args, 'epochs', 1, { min: 1, max: 10_000 }) : undefined,
      learningRate: numberFlag(args, 'lr', undefined),
      batchSize: stringFlag(args, 'batch-size') ? intFlag(args, 'batch-size', 1, { min: 1, max: 4096 }) : undefined,
      maxLength: stringFlag(args, 'max-len') ? intFlag(args, 'max-len', 8, { min: 8, max: 4096 }) : undefined,
      seed: intFlag(args, 'seed', 42, { min: 0 }),
      gradAccumSteps: intFlag(args, 'grad-accum', 1, { min: 1, max: 1024 }),
      classWeights: classWeights === 'balanced' ? 'balanced' : null,
      evalEvery: stringFlag(args, 'eval-every') ? intFlag(args, 'eval-every', 0, { min: 1 }) : undefined,
      patience: stringFlag(args, 'patience') ? intFlag(args, 'patience', 0, { min: 0 }) : undefined,
    };
    const backend = await setupBackend(args);
    const columns = columnOverrides(args);
    const train = await readExamples(trainPath, columns, io);
    const devPath = stringFlag(args, 'dev');
    const dev = devPath ? await readExamples(devPath, columns, io) : null;
    const testPath = stringFlag(args, 'test');
    const test = testPath ? await readExamples(testPath, columns, io) : null;

    const model = await loadModelFromDir(modelDir, { seed: overrides.seed });
    // A prompt saved with the starting model would change what `predict` means; training sets its own.
    model.setPrompt(null);
    const prepared = prepareFineTune(model, { train, dev }, overrides);
    let prompt = null;
    if (method === 'prompt') {
      const templateFlag = stringFlag(args, 'template');
      const verbalizerFlag = stringFlag(args, 'verbalizer');
      // The built-in choice is computed only for what the flags leave open (it may need label names as words).
      const fallback = templateFlag && verbalizerFlag ? null : defaultPrompt(null, prepared.labels, model.tokenizer);
      prompt = preparePromptFineTune(model, prepared, {
        template: templateFlag ?? fallback!.template,
        verbalizer: verbalizerFlag ? parseVerbalizerJson(verbalizerFlag) : fallback!.verbalizer,
      });
      for (const w of prompt.warnings) io.stderr(`warning: ${w}\n`);
    }
    for (const issue of prepared.issues) io.stderr(`${issue.severity}: ${issue.message} ${issue.action ?? ''}\n`);
    for (const note of prepared.splitNotes) io.stderr(`note: ${note}\n`);
    if (prepared.memory.note) io.stderr(`note: ${prepared.memory.note}\n`);
    if (prepared.truncated.train + prepared.truncated.dev > 0) {
      io.stderr(
        `note: ${prepared.truncated.train} training and ${prepared.truncated.dev} dev texts are longer than ${prepared.options.maxLength} tokens and were truncated.\n`,
      );
    }
    const o = prepared.options;
    io.stderr(
      `Training ${model.name}${prompt ? ` with the prompt "${prompt.config.template}" and label words ${JSON.stringify(prompt.config.verbalizer)}` : ''} on ${prepared.train.length} examples (${prepared.labels.length} labels: ${prepared.labels.join(', ')}), dev ${prepared.dev.length}${prepared.autoSplit ? ' (automatic split)' : ''}; ` +
        `backend ${backend}, epochs ${o.epochs}, batch ${o.batchSize}${(o.gradAccumSteps ?? 1) > 1 ? `×${o.gradAccumSteps}` : ''}, lr ${o.learningRate}, max length ${o.maxLength}, seed ${o.seed}\n`,
    );

    await mkdir(outDir, { recursive: true });
    const log: string[] = [];
    const evaluations: { step: number; epoch: number; accuracy: number; macroF1: number }[] = [];
    const bar = new ProgressBar(io);
    const callbacks: TrainerCallbacks = {
      onProgress: (p) => {
        for (const l of p.losses)
          log.push(JSON.stringify({ step: l.step, epoch: p.epoch, loss: l.loss, lr: p.learningRate }));
        bar.update(
          p.step,
          p.totalSteps,
          `epoch ${p.epoch}/${p.epochs} loss ${p.loss?.toFixed(4) ?? '-'} lr ${p.learningRate.toExponential(2)} ${p.examplesPerSecond.toFixed(1)} ex/s ETA ${formatDuration(p.etaSeconds)}`,
        );
      },
      onEvaluated: (e) => {
        evaluations.push({ step: e.step, epoch: e.epoch, accuracy: e.metrics.accuracy, macroF1: e.metrics.macroF1 });
        log.push(
          JSON.stringify({
            step: e.step,
            epoch: e.epoch,
            dev_accuracy: e.metrics.accuracy,
            dev_macro_f1: e.metrics.macroF1,
          }),
        );
      },
      onLog: (level, message) => io.stderr(`${level}: ${message}\n`),
    };
    const trainer = prompt ? prompt.createTrainer(callbacks) : createTrainer(model, prepared, callbacks);
    // Both trainers evaluate their own encoding (prompt examples carry the [MASK] position).
    const evaluate = (examples: readonly EncodedExample[]) =>
      (trainer as { evaluate(e: readonly EncodedExample[]): Promise<Metrics> }).evaluate(examples);
    const encodeForEval = (
      rows: { text: string; textPair?: string | null }[],
      labelIndices: number[],
    ): EncodedExample[] =>
      prompt
        ? prompt.encode(rows, labelIndices)
        : model.encode(
            rows.map((r) => ({ text: r.text, textPair: r.textPair ?? null })),
            labelIndices,
            o.maxLength,
          ).examples;
    const started = Date.now();
    while (await trainer.runStep()) {
      /* one optimizer step per iteration */
    }
    const summary = await trainer.finish();
    bar.done();
    if (prompt) model.setPrompt(prompt.config);
    else model.markClassifierTrained();
    const devMetrics = prepared.dev.length > 0 ? await evaluate(prompt ? prompt.dev : prepared.dev) : null;
    let testMetrics: Metrics | null = null;
    if (test) {
      const labeled = test.filter((r) => r.label !== null && prepared.labels.includes(r.label));
      const skipped = test.length - labeled.length;
      if (skipped > 0)
        io.stderr(`note: ${skipped} test rows have no label or a label unseen in training and are not scored.\n`);
      testMetrics = await evaluate(
        encodeForEval(
          labeled,
          labeled.map((r) => prepared.labels.indexOf(r.label!)),
        ),
      );
    }
    trainer.dispose();
    await saveModelToDir(model, outDir, { dtype });
    const metrics = {
      model: modelDir,
      method,
      prompt: prompt?.config ?? null,
      labels: prepared.labels,
      hyperparameters: o,
      memory: prepared.memory,
      result: {
        reason: summary.reason,
        steps: summary.steps,
        bestStep: summary.bestStep,
        restored: summary.restored,
        message: summary.message,
        seconds: (Date.now() - started) / 1000,
      },
      evaluations,
      dev: compact(devMetrics),
      test: compact(testMetrics),
    };
    await writeFile(join(outDir, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
    await writeFile(join(outDir, 'train_log.jsonl'), `${log.join('\n')}\n`);
    model.dispose();
    io.stderr(`${summary.message}\nSaved the model, metrics.json and train_log.jsonl to ${outDir}\n`);
    if (wantsJson(args)) {
      printJson(io, metrics);
      return summary.reason === 'diverged' ? 1 : 0;
    }
    if (devMetrics) printMetrics(io, 'dev', devMetrics, prepared.labels);
    if (testMetrics) printMetrics(io, 'test', testMetrics, prepared.labels);
    return summary.reason === 'diverged' ? 1 : 0;
  },
};
