/**
 * `fewshot train`: fine-tune on labeled data by method (classifier head or cloze prompt) and write
 * a Hugging Face folder with metrics.json and train_log.jsonl. The run itself goes through the
 * engine's door (startFineTune), exactly as in the studio.
 */
import { join } from 'node:path';
import {
  DEFAULT_SEED,
  MAX_CV_FOLDS,
  STUDIO_VERSION,
  folderBytes,
  jobBundleFiles,
  jobTrainingSetup,
  makeJobSpec,
  parseVerbalizerJson,
  startCrossValidation,
  startFineTune,
  type CrossValidationResult,
  type FineTuneRun,
  type FineTuneSettings,
  type JobSpec,
  type LoopCallbacks,
  type Metrics,
  type MethodSpec,
  type TrainingSummary,
} from '../../engine/studio';
import { checkOutputFolder, loadModelFromDir, readJobFile, writeJobFolder } from '../../engine/studio/node';
import { UsageError, intFlag, numberFlag, requireString, stringFlag, type ParsedArgs } from '../args';
import { compactMetrics, printJson, printMetrics, setupBackend, wantsJson, type Command } from '../context';
import { COLUMN_FLAGS, columnOverrides, readExamples } from '../datafile';
import { saveTrainedRun } from '../run-output';
import { ProgressBar, progressText } from '../progress';

/** Settings from flags; anything not given stays "auto" (null) and the engine picks it from the data. */
export function settingsFromFlags(args: ParsedArgs): FineTuneSettings {
  const optionalInt = (name: string, min: number, max: number) =>
    stringFlag(args, name) ? intFlag(args, name, min, { min, max }) : null;
  const classWeights = stringFlag(args, 'class-weights');
  if (classWeights !== undefined && classWeights !== 'balanced')
    throw new UsageError('--class-weights takes only "balanced".');
  return {
    epochs: optionalInt('epochs', 1, 10_000),
    learningRate: numberFlag(args, 'lr', undefined) ?? null,
    batchSize: optionalInt('batch-size', 1, 4096),
    maxLength: optionalInt('max-len', 8, 4096),
    seed: optionalInt('seed', 0, Number.MAX_SAFE_INTEGER),
    gradAccumSteps: optionalInt('grad-accum', 1, 1024),
    classWeights: classWeights === 'balanced' ? 'balanced' : null,
    evalEvery: optionalInt('eval-every', 1, Number.MAX_SAFE_INTEGER),
    patience: optionalInt('patience', 0, Number.MAX_SAFE_INTEGER),
  };
}

/** Flags every training command shares. */
export const TRAINING_FLAGS = {
  epochs: { type: 'string', placeholder: 'N', help: 'passes over the data (default: from dataset size)' },
  lr: { type: 'string', placeholder: 'X', help: 'peak learning rate (default: from model size)' },
  'batch-size': { type: 'string', placeholder: 'N', help: 'examples per step (default: from dataset size)' },
  'max-len': {
    type: 'string',
    placeholder: 'N',
    help: 'max tokens per text (default: 95th percentile, capped by the model)',
  },
  seed: { type: 'string', placeholder: 'N', help: 'random seed (default 42)' },
} as const;

export const trainCommand: Command = {
  name: 'train',
  summary:
    'fine-tune on labeled CSV/TSV/JSONL (classifier head, cloze prompt or SetFit) and write a Hugging Face folder',
  usage:
    'fewshot train --model DIR --train train.csv [--dev dev.csv | --cv K] [--test test.csv] --out DIR [--method head|prompt|setfit --template T --verbalizer JSON --iterations R --head-c X] [--epochs N --lr X --batch-size N --max-len N --seed N] [--job-out DIR]\n       fewshot train --job job.json --out DIR [--model DIR] [--test test.csv]',
  flags: {
    job: {
      type: 'string',
      placeholder: 'FILE',
      help: "run a training job (a bundle's job.json): its data, split, method and settings; compares the losses with the job's run",
    },
    cv: {
      type: 'string',
      placeholder: 'K',
      help: `k-fold cross-validation (2-${MAX_CV_FOLDS}; not with --dev): K models, each scored on the rows it did not train on, mean ± std; then the model is trained on all rows (recommended when the dev split would be under 20 rows)`,
    },
    'job-out': {
      type: 'string',
      placeholder: 'DIR',
      help: 'also write the run as a training bundle for Hugging Face transformers (job.json, data/, train.py, the starting weights)',
    },
    method: {
      type: 'string',
      placeholder: 'head|prompt|setfit',
      help: 'head: classifier on the pooled [CLS] (default); prompt: LM-BFF cloze prompt through the MLM head; setfit: contrastive sentence-embedding fine-tuning + logistic-regression head, written as a sentence-transformers folder',
    },
    iterations: {
      type: 'string',
      placeholder: 'N',
      help: 'setfit: pair iterations R (one positive + one negative pair per example each; default: from dataset size)',
    },
    'head-c': {
      type: 'string',
      placeholder: 'X',
      help: "setfit: the logistic-regression head's inverse regularisation C (default 1)",
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
    ...TRAINING_FLAGS,
    'grad-accum': { type: 'string', placeholder: 'N', help: 'micro-batches per optimizer step (default 1)' },
    'class-weights': { type: 'string', placeholder: 'balanced', help: 'weight the loss by inverse class frequency' },
    'eval-every': {
      type: 'string',
      placeholder: 'N',
      help: 'also evaluate every N steps (default: about 10 evaluations per run)',
    },
    patience: {
      type: 'string',
      placeholder: 'N',
      help: 'early-stop after N evaluations without improvement (0 = off; default 3 with a dev set)',
    },
    dtype: { type: 'string', placeholder: 'f32|f16', help: 'weights dtype of the exported model (default f32)' },
    overwrite: { type: 'boolean', help: 'replace --out even if it holds files that are not an export of ours' },
    ...COLUMN_FLAGS,
  },
  async run(args, io) {
    const jobPath = stringFlag(args, 'job');
    const job = jobPath ? await readJobFile(jobPath) : null;
    if (job) {
      // The job fixes the data, the split, the method and every setting: a flag would quietly change the run.
      const fixed = [
        'train',
        'dev',
        'method',
        'template',
        'verbalizer',
        'epochs',
        'lr',
        'batch-size',
        'max-len',
        'seed',
        'grad-accum',
        'class-weights',
        'eval-every',
        'patience',
        'text-column',
        'text-pair-column',
        'label-column',
      ].filter((flag) => args.flags[flag] !== undefined);
      if (fixed.length > 0)
        throw new UsageError(
          `${fixed.map((f) => `--${f}`).join(', ')} cannot be combined with --job: the job fixes ${fixed.length > 1 ? 'them' : 'it'}. Edit job.json (or its data/ files) to change the run.`,
        );
    }
    const modelDir = job
      ? jobModelDir(job.spec, job.dir, stringFlag(args, 'model'))
      : requireString(args, 'model', 'the pretrained model folder to fine-tune');
    const trainPath = job
      ? join(job.dir, job.spec.data.train)
      : requireString(args, 'train', 'the labeled training file');
    const outDir = requireString(args, 'out', 'where to write the fine-tuned model');
    const jobOut = stringFlag(args, 'job-out');
    const dtype = (stringFlag(args, 'dtype') ?? 'f32').toUpperCase();
    if (dtype !== 'F32' && dtype !== 'F16') throw new UsageError('--dtype must be f32 or f16.');
    let method: MethodSpec;
    let settings: FineTuneSettings;
    if (job) {
      ({ method, settings } = jobTrainingSetup(job.spec));
    } else {
      const methodName = stringFlag(args, 'method') ?? 'head';
      if (methodName !== 'head' && methodName !== 'prompt' && methodName !== 'setfit')
        throw new UsageError(`--method must be head, prompt or setfit, got "${methodName}".`);
      const template = stringFlag(args, 'template');
      const verbalizer = stringFlag(args, 'verbalizer');
      if (methodName !== 'prompt' && (template || verbalizer))
        throw new UsageError('--template and --verbalizer need --method prompt.');
      if (methodName !== 'head' && stringFlag(args, 'class-weights'))
        throw new UsageError('--class-weights works with --method head only.');
      if (methodName !== 'setfit' && (stringFlag(args, 'iterations') || stringFlag(args, 'head-c')))
        throw new UsageError('--iterations and --head-c need --method setfit.');
      if (methodName === 'setfit' && jobOut)
        throw new UsageError(
          '--job-out cannot be combined with --method setfit: a training bundle replays the head and prompt methods only.',
        );
      settings = settingsFromFlags(args);
      const headC = numberFlag(args, 'head-c', undefined);
      if (headC !== undefined && !(headC > 0)) throw new UsageError('--head-c must be a positive number.');
      method =
        methodName === 'head'
          ? { kind: 'head' }
          : methodName === 'setfit'
            ? {
                kind: 'setfit',
                iterations: stringFlag(args, 'iterations')
                  ? intFlag(args, 'iterations', 1, { min: 1, max: 1000 })
                  : null,
                C: headC ?? null,
              }
            : {
                kind: 'prompt',
                template,
                verbalizer: verbalizer
                  ? Object.fromEntries(
                      Object.entries(parseVerbalizerJson(verbalizer)).map(([l, w]) => [
                        l,
                        typeof w === 'string' ? [w] : [...w],
                      ]),
                    )
                  : undefined,
              };
    }
    // Before any work: a finished run must have a safe place to land.
    await checkOutputFolder(outDir, { modelDir, overwrite: args.flags.overwrite === true });
    const backend = await setupBackend(args);
    // A job's CSVs have fixed columns; detection could take a label-like text column for the label.
    const columns = job
      ? { text: 'text', label: 'label', textPair: job.spec.data.textPair ? 'text_pair' : undefined }
      : columnOverrides(args);
    const train = await readExamples(trainPath, columns, io);
    const devPath = job
      ? job.spec.data.devRows > 0
        ? join(job.dir, job.spec.data.dev)
        : undefined
      : stringFlag(args, 'dev');
    const dev = devPath ? await readExamples(devPath, columns, io) : job ? [] : null;
    const testPath = stringFlag(args, 'test');
    const test = testPath ? await readExamples(testPath, columns, io) : null;

    const folds = stringFlag(args, 'cv') ? intFlag(args, 'cv', 5, { min: 2, max: MAX_CV_FOLDS }) : null;
    if (folds !== null && dev) throw new UsageError('--cv makes its own held-out folds from --train; leave out --dev.');
    if (folds !== null && (job || jobOut))
      throw new UsageError(
        '--cv cannot be combined with --job or --job-out: a training job is one run on a fixed split.',
      );

    const model = await loadModelFromDir(modelDir, { seed: settings.seed ?? DEFAULT_SEED });
    // The starting weights, for the bundle: read before training changes them.
    const baseFiles = jobOut ? await model.exportFiles({ dtype: 'F32' }) : null;
    const log: string[] = [];
    const losses: { step: number; loss: number }[] = [];
    const evaluations: { step: number; epoch: number; accuracy: number; macroF1: number }[] = [];
    const bar = new ProgressBar(io);
    /** Which fold's run the progress bar and the log lines belong to (null: a plain run). */
    let phase: string | null = null;
    const callbacks: LoopCallbacks<Metrics> = {
      onProgress: (p) => {
        for (const l of p.losses) {
          log.push(
            JSON.stringify({ ...(phase ? { cv: phase } : {}), step: l.step, epoch: p.epoch, loss: l.loss, lr: l.lr }),
          );
          if (!phase) losses.push({ step: l.step, loss: l.loss });
        }
        bar.update(p.step, p.totalSteps, progressText(p, phase));
      },
      onEvaluated: (e) => {
        const { accuracy, macroF1 } = e.metrics;
        evaluations.push({ step: e.step, epoch: e.epoch, accuracy, macroF1 });
        log.push(JSON.stringify({ step: e.step, epoch: e.epoch, dev_accuracy: accuracy, dev_macro_f1: macroF1 }));
      },
      onLog: (level, message) => io.stderr(`${level}: ${message}\n`),
    };
    // Cross-validation is a driver around the same door: each fold is a startFineTune run.
    const cv =
      folds === null
        ? null
        : startCrossValidation(model, { train }, method, settings, {
            folds,
            limits: backend.memoryLimits,
            callbacks,
            onFold: (p) => {
              const scored = p.results.at(-1);
              if (scored && scored.fold === p.fold && p.phase === 'fold') {
                bar.done();
                io.stderr(
                  `fold ${scored.fold}/${p.folds}: accuracy ${(100 * scored.accuracy).toFixed(1)}% (${scored.correct} of ${scored.testRows}), macro-F1 ${scored.macroF1.toFixed(3)}, trained on ${scored.trainRows} rows for ${scored.steps} steps\n`,
                );
                return;
              }
              phase = p.phase === 'final' ? 'final model' : `fold ${p.fold}/${p.folds}`;
            },
          });
    const data = job ? { train, dev, labels: job.spec.labels, autoSplit: false } : { train, dev };
    let run: FineTuneRun | null = cv
      ? null
      : startFineTune(model, data, method, settings, {
          limits: backend.memoryLimits,
          callbacks,
        });
    const plan = cv ? cv.plan.finalPlan : run!.plan;
    for (const w of plan.promptWarnings) io.stderr(`warning: ${w}\n`);
    for (const issue of plan.issues) io.stderr(`${issue.severity}: ${issue.message} ${issue.action ?? ''}\n`);
    for (const note of plan.splitNotes) io.stderr(`note: ${note}\n`);
    if (plan.memory.note) io.stderr(`note: ${plan.memory.note}\n`);
    if (plan.truncated.train + plan.truncated.dev > 0) {
      io.stderr(
        `note: ${plan.truncated.train} training and ${plan.truncated.dev} dev texts are longer than ${plan.settings.maxLength} tokens and were truncated.\n`,
      );
    }
    if (!cv && plan.crossValidation.recommended)
      io.stderr(`note: ${plan.crossValidation.reason} Try --cv ${plan.crossValidation.folds}.\n`);
    const s = plan.settings;
    io.stderr(
      `Training ${model.name}${plan.prompt ? ` with the prompt "${plan.prompt.template}" and label words ${JSON.stringify(plan.prompt.verbalizer)}` : ''}${plan.setfit ? ` with SetFit (${plan.setfit.pairs} pairs (R = ${plan.setfit.iterations}) per epoch, ${plan.setfit.pooling} pooling, head C ${plan.setfit.C})` : ''} on ${plan.trainCount} examples (${plan.labels.length} labels: ${plan.labels.join(', ')}), ` +
        (cv
          ? `after ${cv.plan.folds}-fold cross-validation (folds of ${cv.plan.foldSizes.join(', ')} rows, each model trained on the others); `
          : `dev ${plan.devCount}${plan.autoSplit ? ' (automatic split)' : ''}; `) +
        `backend ${backend.label}, epochs ${s.epochs}, batch ${s.batchSize}${s.gradAccumSteps > 1 ? `×${s.gradAccumSteps}` : ''}, lr ${s.learningRate}, max length ${plan.maxLength}, seed ${s.seed}` +
        ` (on auto: ${plan.auto.join(', ') || 'none'})\n`,
    );

    const started = Date.now();
    let summary: TrainingSummary<Metrics>;
    let crossValidation: CrossValidationResult | null = null;
    try {
      if (cv) {
        await cv.run();
        crossValidation = cv.result();
        io.stderr(`Cross-validation: ${crossValidation.text}\n`);
        run = cv.final!;
        summary = (await cv.finish())!;
      } else {
        while (await run!.loop.runStep()) {
          /* one optimizer step per iteration */
        }
        summary = await run!.finish();
      }
    } catch (error) {
      if (cv) cv.dispose();
      else run!.dispose();
      model.dispose();
      throw error;
    }
    bar.done();
    const finalRun: FineTuneRun = run!;
    const devRows = plan.devExamples;
    const devMetrics: Metrics | null = devRows.length > 0 ? await finalRun.evaluate(devRows) : null;
    let testMetrics: Metrics | null = null;
    if (test) {
      const labeled = test.filter((r) => r.label !== null && plan.labels.includes(r.label));
      const skipped = test.length - labeled.length;
      if (skipped > 0)
        io.stderr(`note: ${skipped} test rows have no label or a label unseen in training and are not scored.\n`);
      testMetrics = await finalRun.evaluate(labeled);
    }
    if (cv) cv.dispose();
    else finalRun.dispose();
    const headFit = finalRun.setfitHead();
    const metrics = {
      model: modelDir,
      method: plan.method,
      prompt: plan.prompt,
      setfit: plan.setfit
        ? {
            ...plan.setfit,
            head: headFit && {
              solver: model.setfitHead?.solver ?? null,
              iterations: headFit.iterations,
              converged: headFit.converged,
              gradMaxNorm: headFit.gradMaxNorm,
              objective: headFit.objective,
            },
          }
        : null,
      labels: plan.labels,
      hyperparameters: { ...s, maxLength: plan.maxLength, textMaxLength: s.maxLength, chosenFromData: plan.auto },
      memory: plan.memory,
      result: {
        reason: summary.reason,
        steps: summary.steps,
        bestStep: summary.bestStep,
        restored: summary.restored,
        message: summary.message,
        seconds: (Date.now() - started) / 1000,
      },
      evaluations,
      ...(crossValidation ? { crossValidation } : {}),
      dev: compactMetrics(devMetrics),
      test: compactMetrics(testMetrics),
      job: job ? compareWithJob(job.spec, losses, jobPath!) : null,
    };
    if (metrics.job) io.stderr(`${metrics.job.message}\n`);
    if (summary.reason === 'diverged') {
      model.dispose();
      io.stderr(`${summary.message}\nNothing was written to ${outDir}.\n`);
      if (wantsJson(args)) printJson(io, metrics);
      return 1;
    }
    try {
      await saveTrainedRun(model, outDir, dtype, metrics, log);
    } finally {
      model.dispose();
    }
    io.stderr(
      `${summary.message}\nSaved the model${plan.setfit ? ' (a sentence-transformers folder with setfit_head.safetensors; its README.md says how to load it in Python)' : ''}, metrics.json and train_log.jsonl to ${outDir}\n`,
    );
    if (jobOut && baseFiles) {
      const bestDevAccuracy = evaluations.reduce<number | null>(
        (m, e) => (m === null || e.accuracy > m ? e.accuracy : m),
        null,
      );
      const spec = makeJobSpec({
        plan,
        model: {
          source: 'included',
          path: 'model',
          bytes: folderBytes(baseFiles),
          name: model.name,
          origin: `the folder ${modelDir}`,
        },
        createdBy: `FewShot Studio ${STUDIO_VERSION} (fewshot train)`,
        run: { id: null, losses, bestDevAccuracy },
      });
      await writeJobFolder(
        jobOut,
        jobBundleFiles({ spec, train: plan.trainExamples, dev: plan.devExamples, modelFiles: baseFiles }),
      );
      io.stderr(
        `Wrote the training bundle to ${jobOut} (job.json, data/, train.py; the starting weights are included: ${(folderBytes(baseFiles) / 1e6).toFixed(1)} MB). Its README says how to run it with Hugging Face transformers.\n`,
      );
    }
    if (wantsJson(args)) {
      printJson(io, metrics);
      return 0;
    }
    if (crossValidation) io.stdout(`cross-validation: ${crossValidation.text}\n`);
    if (devMetrics) printMetrics(io, 'dev', devMetrics, plan.labels);
    if (testMetrics) printMetrics(io, 'test', testMetrics, plan.labels);
    return 0;
  },
};

/** The folder of the model a job starts from: --model, or the weights in the bundle. */
function jobModelDir(spec: JobSpec, jobDir: string, modelFlag: string | undefined): string {
  if (modelFlag) return modelFlag;
  if (spec.model.source === 'included') return join(jobDir, spec.model.path);
  throw new UsageError(
    `The job starts from the Hugging Face Hub model ${spec.model.repo} at commit ${spec.model.revision}, and fewshot reads local folders. Download it (e.g. \`huggingface-cli download ${spec.model.repo} --revision ${spec.model.revision} --local-dir ${spec.model.name}\`) and pass --model ${spec.model.name}.`,
  );
}

/** How the rerun's losses compare with the job's run, step by step (its first losses are in job.json). */
export function compareWithJob(spec: JobSpec, losses: readonly { step: number; loss: number }[], jobPath: string) {
  const mine = new Map(losses.map((l) => [l.step, l.loss]));
  const pairs = (spec.run?.losses ?? []).filter((l) => mine.has(l.step));
  const maxDifference = pairs.reduce((m, l) => Math.max(m, Math.abs(l.loss - mine.get(l.step)!)), 0);
  return {
    path: jobPath,
    comparedSteps: pairs.length,
    maxLossDifference: pairs.length > 0 ? maxDifference : null,
    message:
      pairs.length > 0
        ? `Compared with the job's run over its first ${pairs.length} steps: largest loss difference ${maxDifference.toExponential(2)}.`
        : 'The job holds no losses of its run to compare with.',
  };
}
