/**
 * `fewshot train --method setfit`: SetFit through the door (`startSetFit`, docs/ARCHITECTURE.md,
 * "SetFit"), then one all-or-nothing write of the sentence-transformers folder with the head,
 * metrics.json (the plan, the body stage, the head fit, dev/test metrics) and train_log.jsonl.
 * Translates flags and prints; the run is the studio's.
 */
import {
  DEFAULT_SEED,
  evaluateModel,
  startSetFit,
  type Example,
  type Metrics,
  type SetFitRunSettings,
} from '../../engine/studio';
import { checkOutputFolder, loadModelFromDir } from '../../engine/studio/node';
import { saveTrainedRun } from '../run-output';
import { UsageError, intFlag, numberFlag, stringFlag, type ParsedArgs } from '../args';
import { compactMetrics, printJson, printMetrics, setupBackend, wantsJson, type CliIO } from '../context';
import { columnOverrides, readExamples } from '../datafile';
import { ProgressBar, progressText } from '../progress';

/** Flags of `fewshot train` that mean nothing to SetFit, and why. */
const NOT_FOR_SETFIT: Record<string, string> = {
  cv: 'cross-validation runs the head and prompt methods only',
  'job-out': 'a training bundle replays the head and prompt methods only',
  template: 'it is a prompt-method flag',
  verbalizer: 'it is a prompt-method flag',
  'class-weights': 'SetFit trains on pairs, not classes',
  'grad-accum': 'SetFit steps are whole pair batches',
  'eval-every': 'the body stage has no evaluation (the head is fitted after it)',
  patience: 'the body stage has no evaluation, so nothing to stop early on',
};

/** SetFit settings from flags; anything not given stays "auto" (null). */
export function setfitSettingsFromFlags(args: ParsedArgs): SetFitRunSettings {
  const optionalInt = (name: string, min: number, max: number) =>
    stringFlag(args, name) ? intFlag(args, name, min, { min, max }) : null;
  const C = numberFlag(args, 'head-c', undefined);
  if (C !== undefined && !(C > 0)) throw new UsageError('--head-c must be a positive number.');
  return {
    iterations: optionalInt('iterations', 1, 1000),
    epochs: optionalInt('epochs', 1, 10_000),
    learningRate: numberFlag(args, 'lr', undefined) ?? null,
    batchSize: optionalInt('batch-size', 1, 4096),
    maxLength: optionalInt('max-len', 8, 4096),
    seed: optionalInt('seed', 0, Number.MAX_SAFE_INTEGER),
    C: C ?? null,
  };
}

/** Labeled rows whose label the model knows; says how many were left out. */
function knownRows(rows: readonly Example[], labels: readonly string[], what: string, io: CliIO): Example[] {
  const kept = rows.filter((r) => r.label !== null && labels.includes(r.label));
  if (kept.length < rows.length)
    io.stderr(
      `note: ${rows.length - kept.length} ${what} rows have no label or a label unseen in training and are not scored.\n`,
    );
  return kept;
}

export async function trainSetFit(
  args: ParsedArgs,
  io: CliIO,
  paths: { modelDir: string; trainPath: string; outDir: string; dtype: 'F32' | 'F16' },
): Promise<number> {
  const refused = Object.keys(NOT_FOR_SETFIT).filter((flag) => args.flags[flag] !== undefined);
  if (refused.length > 0)
    throw new UsageError(
      `${refused.map((f) => `--${f}`).join(', ')} cannot be combined with --method setfit: ${refused.map((f) => NOT_FOR_SETFIT[f]).join('; ')}.`,
    );
  const settings = setfitSettingsFromFlags(args);
  const { modelDir, trainPath, outDir, dtype } = paths;
  await checkOutputFolder(outDir, { modelDir, overwrite: args.flags.overwrite === true });
  const backend = await setupBackend(args);
  const columns = columnOverrides(args);
  const train = await readExamples(trainPath, columns, io);
  const devPath = stringFlag(args, 'dev');
  const dev = devPath ? await readExamples(devPath, columns, io) : null;
  const testPath = stringFlag(args, 'test');
  const test = testPath ? await readExamples(testPath, columns, io) : null;

  const model = await loadModelFromDir(modelDir, { seed: settings.seed ?? DEFAULT_SEED });
  try {
    const log: string[] = [];
    const bar = new ProgressBar(io);
    const run = startSetFit(model, { train }, settings, {
      onProgress: (p) => {
        for (const l of p.losses) log.push(JSON.stringify({ step: l.step, epoch: p.epoch, loss: l.loss, lr: l.lr }));
        bar.update(p.step, p.totalSteps, progressText(p, 'pairs'));
      },
      onLog: (level, message) => io.stderr(`${level}: ${message}\n`),
    });
    const plan = run.plan;
    io.stderr(
      `Training ${model.name} with SetFit on ${plan.trainCount} examples (${plan.labels.length} labels: ${plan.labels.join(', ')}): ` +
        `${plan.pairs} pairs (R = ${plan.iterations}), backend ${backend}, epochs ${plan.epochs}, batch ${plan.batchSize} pairs, lr ${plan.learningRate}, ` +
        `max length ${plan.maxLength}, ${plan.pooling} pooling, head C ${plan.C}, seed ${plan.seed} (on auto: ${plan.auto.join(', ') || 'none'})\n`,
    );
    const started = Date.now();
    const { body, head } = await run.run();
    bar.done();
    const seconds = (Date.now() - started) / 1000;
    io.stderr(
      `${body.message}\nHead: logistic regression ${head.converged ? 'converged' : 'did not converge'} after ${head.iterations} L-BFGS iterations.\n`,
    );
    const score = async (rows: readonly Example[] | null, what: string, source: string): Promise<Metrics | null> => {
      if (!rows) return null;
      const kept = knownRows(rows, plan.labels, what, io);
      return kept.length > 0 ? evaluateModel(model, kept, { source }) : null;
    };
    const devMetrics = await score(dev, 'dev', devPath ?? '');
    const testMetrics = await score(test, 'test', testPath ?? '');
    const metrics = {
      model: modelDir,
      method: 'setfit',
      labels: plan.labels,
      plan: {
        trainCount: plan.trainCount,
        iterations: plan.iterations,
        pairs: plan.pairs,
        epochs: plan.epochs,
        batchSize: plan.batchSize,
        learningRate: plan.learningRate,
        maxLength: plan.maxLength,
        seed: plan.seed,
        pooling: plan.pooling,
        totalSteps: plan.totalSteps,
        chosenFromData: plan.auto,
        warnings: plan.warnings,
      },
      body: { reason: body.reason, steps: body.steps, message: body.message },
      head: {
        C: plan.C,
        solver: model.setfitHead?.solver ?? null,
        iterations: head.iterations,
        converged: head.converged,
        gradMaxNorm: head.gradMaxNorm,
        objective: head.objective,
      },
      seconds,
      dev: compactMetrics(devMetrics),
      test: compactMetrics(testMetrics),
    };
    if (body.reason === 'diverged') {
      io.stderr(`${body.message}\nNothing was written to ${outDir}.\n`);
      if (wantsJson(args)) printJson(io, metrics);
      return 1;
    }
    await saveTrainedRun(model, outDir, dtype, metrics, log);
    io.stderr(
      `Saved the SetFit model (sentence-transformers folder + setfit_head.safetensors, README.md says how to load it in Python), metrics.json and train_log.jsonl to ${outDir}\n`,
    );
    if (wantsJson(args)) {
      printJson(io, metrics);
      return 0;
    }
    if (devMetrics) printMetrics(io, 'dev', devMetrics, plan.labels);
    if (testMetrics) printMetrics(io, 'test', testMetrics, plan.labels);
    return 0;
  } finally {
    model.dispose();
  }
}
