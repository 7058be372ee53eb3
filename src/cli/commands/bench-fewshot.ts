/**
 * `fewshot bench-fewshot`: the LM-BFF few-shot protocol. Per seed, K examples per class are drawn
 * from DIR/train.csv for training and another K per class (disjoint) for dev; each method is run
 * from a freshly loaded model and scored on DIR/test.csv (the same, optionally capped, test set for
 * every seed). Reports mean ± sample std (n−1) of accuracy and macro-F1 over seeds.
 *
 * Methods: zeroshot (template + verbalizer, no training), prompt (LM-BFF prompt-based
 * fine-tuning), head (classifier head + encoder) and setfit (contrastive pairs, then a
 * logistic-regression head; opt-in), all through the engine door's `runFewShotMethod`, i.e. the
 * same fine-tuning as `train` and the studio. Given flags (epochs / batch size / learning rate /
 * max length) apply to every training method; left out, each method takes the engine's defaults
 * (SetFit's differ: pairs of 16, R and epochs from the data, its own learning rate).
 */
import { basename, join, resolve } from 'node:path';
import {
  DEFAULT_FEWSHOT_METHODS,
  EngineError,
  FEWSHOT_METHODS,
  defaultPrompt,
  meanStd,
  parseVerbalizerJson,
  runFewShotMethod,
  sampleFewShot,
  subsampleTest,
  usesPrompt,
  zeroShot,
  type Example,
  type FewShotMethod,
  type FineTunePlan,
  type FineTuneSettings,
  type LabeledExample,
  type VerbalizerSpec,
} from '../../engine/studio';
import { checkWritableFile, loadModelFromDir, writeFileAtomic } from '../../engine/studio/node';
import { UsageError, intFlag, numberFlag, stringFlag } from '../args';
import { printJson, setupBackend, wantsJson, type Command } from '../context';
import { COLUMN_FLAGS, columnOverrides, readExamples } from '../datafile';

/** Default model when --model is not given (relative to the working directory). */
export const DEFAULT_BENCH_MODEL = 'public/models/fewshot-mini';

interface RunResult {
  method: FewShotMethod;
  seed: number;
  accuracy: number;
  macroF1: number;
  seconds: number;
  /** What the engine resolved for a training method (null for zeroshot). */
  plan: RunPlan | null;
}

/** The resolved settings of one training run, as the report records them. */
interface RunPlan {
  epochs: number;
  batchSize: number;
  learningRate: number;
  maxLength: number;
  totalSteps: number;
  /** SetFit only: pair iterations R, pairs per epoch and the head's C. */
  setfit: { iterations: number; pairs: number; C: number } | null;
}

function runPlan(plan: FineTunePlan): RunPlan {
  const { epochs, batchSize, learningRate, maxLength, totalSteps, setfit } = plan;
  return {
    epochs,
    batchSize,
    learningRate,
    maxLength,
    totalSteps,
    setfit: setfit && { iterations: setfit.iterations, pairs: setfit.pairs, C: setfit.C },
  };
}

export const benchFewshotCommand: Command = {
  name: 'bench-fewshot',
  summary: 'few-shot benchmark (LM-BFF protocol): zero-shot prompt vs prompt fine-tuning vs head vs SetFit',
  usage:
    'fewshot bench-fewshot --data DIR [--k 16 --seeds 5 --first-seed 1 --methods zeroshot,prompt,head[,setfit] --model DIR --template T --verbalizer JSON --max-test N --out FILE.json]',
  flags: {
    data: {
      type: 'string',
      placeholder: 'DIR',
      help: 'dataset folder with train.csv and test.csv (its name picks the default prompt, e.g. sst2)',
    },
    model: {
      type: 'string',
      placeholder: 'DIR',
      help: `pretrained model folder with an MLM head (default ${DEFAULT_BENCH_MODEL})`,
    },
    k: { type: 'string', placeholder: 'N', help: 'examples per class for train, and again for dev (default 16)' },
    seeds: { type: 'string', placeholder: 'N', help: 'number of seeds / samples (default 5; seeds 1..N)' },
    'first-seed': {
      type: 'string',
      placeholder: 'S',
      help: 'first seed (default 1; seeds S..S+N-1), to add seeds to an earlier run',
    },
    methods: {
      type: 'string',
      placeholder: 'LIST',
      help: `comma-separated: ${FEWSHOT_METHODS.join(',')} (default ${DEFAULT_FEWSHOT_METHODS.join(',')})`,
    },
    template: {
      type: 'string',
      placeholder: 'T',
      help: 'cloze template, e.g. "{text} It was [MASK]." (default: built-in per dataset)',
    },
    verbalizer: {
      type: 'string',
      placeholder: 'JSON',
      help: 'label words, e.g. \'{"positive":["great"],"negative":["terrible"]}\'',
    },
    calibrate: { type: 'boolean', help: 'calibrate zero-shot scores on content-free inputs' },
    'max-test': { type: 'string', placeholder: 'N', help: 'score at most N test rows (a fixed random subset)' },
    epochs: {
      type: 'string',
      placeholder: 'N',
      help: 'training epochs for prompt, head and setfit (default: from data size)',
    },
    lr: { type: 'string', placeholder: 'X', help: 'peak learning rate (default: from model size)' },
    'batch-size': { type: 'string', placeholder: 'N', help: 'batch size (default: from data size)' },
    'max-len': { type: 'string', placeholder: 'N', help: 'max tokens of the text (default: 95th percentile)' },
    out: { type: 'string', placeholder: 'FILE', help: 'write all results as JSON' },
    ...COLUMN_FLAGS,
  },
  async run(args, io) {
    const dataDir = stringFlag(args, 'data');
    if (!dataDir) throw new UsageError('--data is required: a folder with train.csv and test.csv.');
    const modelDir = stringFlag(args, 'model') ?? DEFAULT_BENCH_MODEL;
    const k = intFlag(args, 'k', 16, { min: 1, max: 10_000 });
    const seeds = intFlag(args, 'seeds', 5, { min: 1, max: 100 });
    const firstSeed = intFlag(args, 'first-seed', 1, { min: 1, max: 10_000 });
    const methods = (stringFlag(args, 'methods') ?? DEFAULT_FEWSHOT_METHODS.join(','))
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    const unknown = methods.filter((m) => !(FEWSHOT_METHODS as readonly string[]).includes(m));
    if (unknown.length > 0 || methods.length === 0)
      throw new UsageError(`--methods takes ${FEWSHOT_METHODS.join(', ')}; got "${unknown.join(', ') || 'nothing'}".`);
    const maxTest = stringFlag(args, 'max-test') ? intFlag(args, 'max-test', 1, { min: 1 }) : null;
    const settings: FineTuneSettings = {
      epochs: stringFlag(args, 'epochs') ? intFlag(args, 'epochs', 1, { min: 1, max: 10_000 }) : null,
      learningRate: numberFlag(args, 'lr', undefined) ?? null,
      batchSize: stringFlag(args, 'batch-size') ? intFlag(args, 'batch-size', 1, { min: 1, max: 4096 }) : null,
      maxLength: stringFlag(args, 'max-len') ? intFlag(args, 'max-len', 8, { min: 8, max: 4096 }) : null,
    };
    const calibrate = args.flags.calibrate === true;
    const outPath = stringFlag(args, 'out');
    // Fail before the benchmark (which can take hours) when the report cannot be written.
    if (outPath) await checkWritableFile(outPath);
    await setupBackend(args);

    const columns = columnOverrides(args);
    const labeledOnly = (rows: Example[]) => rows.filter((r): r is LabeledExample => r.label !== null);
    const trainRows = labeledOnly(await readExamples(join(dataDir, 'train.csv'), columns, io));
    let testRows = labeledOnly(await readExamples(join(dataDir, 'test.csv'), columns, io));
    const labels = [...new Set(trainRows.map((r) => r.label))].sort();
    const unseen = testRows.filter((r) => !labels.includes(r.label)).length;
    if (unseen > 0) io.stderr(`note: ${unseen} test rows have labels absent from train.csv and are not scored.\n`);
    testRows = testRows.filter((r) => labels.includes(r.label));
    if (maxTest !== null) testRows = subsampleTest(testRows, maxTest);
    if (testRows.length === 0)
      throw new EngineError('BENCH_NO_TEST', `${join(dataDir, 'test.csv')} has no labeled rows with a training label.`);

    // Prompt (zeroshot and prompt only): flags or the built-in default for this dataset; validated
    // once up front. Head and SetFit need none, so a dataset without usable label words still runs them.
    const probe = await loadModelFromDir(modelDir);
    const dataset = basename(resolve(dataDir));
    const needsPrompt = (methods as FewShotMethod[]).some(usesPrompt);
    const givenTemplate = stringFlag(args, 'template');
    const givenVerbalizerText = stringFlag(args, 'verbalizer');
    const givenVerbalizer = givenVerbalizerText ? parseVerbalizerJson(givenVerbalizerText) : undefined;
    const fallback =
      needsPrompt && (!givenTemplate || !givenVerbalizer)
        ? defaultPrompt(dataset, labels, probe.tokenizer, givenVerbalizer)
        : null;
    const templateText = givenTemplate ?? fallback?.template ?? '';
    const verbalizerSpec: VerbalizerSpec = givenVerbalizer ?? fallback?.verbalizer ?? {};
    if (needsPrompt) {
      const verbalizer = Object.fromEntries(
        labels.map((l) => {
          const w = verbalizerSpec[l];
          return [l, w === undefined ? [] : typeof w === 'string' ? [w] : [...w]];
        }),
      );
      const check = await zeroShot(probe, {
        template: templateText,
        verbalizer,
        calibrate: false,
        inputs: [],
        labeled: null,
      });
      for (const w of check.warnings) io.stderr(`warning: ${w}\n`);
    }
    probe.dispose();
    io.stderr(
      `bench-fewshot ${dataset}: K=${k} per class (${labels.length} labels), ${seeds} seeds (from ${firstSeed}), test ${testRows.length} rows, methods ${methods.join(', ')}` +
        (needsPrompt ? `; template "${templateText}", verbalizer ${JSON.stringify(verbalizerSpec)}` : '') +
        '\n',
    );

    const results: RunResult[] = [];
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
      const sample = sampleFewShot(trainRows, k, seed);
      for (const method of methods as FewShotMethod[]) {
        const started = Date.now();
        const model = await loadModelFromDir(modelDir, { seed });
        try {
          let plan: RunPlan | null = null;
          const metrics = await runFewShotMethod(method, model, sample, testRows, labels, {
            template: templateText,
            verbalizer: verbalizerSpec,
            settings: { ...settings, seed },
            calibrate,
            onPlan: (p) => (plan = runPlan(p)),
          });
          const r: RunResult = {
            method,
            seed,
            accuracy: metrics.accuracy,
            macroF1: metrics.macroF1,
            seconds: (Date.now() - started) / 1000,
            plan,
          };
          results.push(r);
          const how = r.plan
            ? `; ${r.plan.epochs} epochs, ${r.plan.totalSteps} steps of ${r.plan.batchSize}${r.plan.setfit ? ' pairs' : ''}, lr ${r.plan.learningRate}` +
              (r.plan.setfit
                ? `, R ${r.plan.setfit.iterations}, ${r.plan.setfit.pairs} pairs, C ${r.plan.setfit.C}`
                : '')
            : '';
          io.stderr(
            `seed ${seed} ${method.padEnd(8)} accuracy ${r.accuracy.toFixed(4)} macro-F1 ${r.macroF1.toFixed(4)} (${r.seconds.toFixed(1)} s${how})\n`,
          );
        } finally {
          model.dispose();
        }
      }
    }

    const summary = (methods as FewShotMethod[]).map((method) => {
      const rs = results.filter((r) => r.method === method);
      return {
        method,
        accuracy: meanStd(rs.map((r) => r.accuracy)),
        macroF1: meanStd(rs.map((r) => r.macroF1)),
        runs: rs.length,
      };
    });
    const report = {
      dataset,
      data: dataDir,
      model: modelDir,
      k,
      seeds,
      firstSeed,
      labels,
      testRows: testRows.length,
      template: needsPrompt ? templateText : null,
      verbalizer: needsPrompt ? verbalizerSpec : null,
      calibrate,
      summary,
      runs: results,
    };
    if (outPath) await writeFileAtomic(outPath, `${JSON.stringify(report, null, 2)}\n`, { what: 'report' });
    if (wantsJson(args)) {
      printJson(io, report);
      return 0;
    }
    io.stdout(
      `\n${dataset}, K=${k}, ${seeds} seed${seeds > 1 ? 's' : ''}, ${testRows.length} test rows (mean ± std)\n`,
    );
    io.stdout(`${'method'.padEnd(10)}  ${'accuracy'.padEnd(17)}  macro-F1\n`);
    for (const s of summary) {
      const fmt = (m: { mean: number; std: number }) => `${(100 * m.mean).toFixed(1)} ± ${(100 * m.std).toFixed(1)}`;
      io.stdout(`${s.method.padEnd(10)}  ${fmt(s.accuracy).padEnd(17)}  ${fmt(s.macroF1)}\n`);
    }
    if (outPath) io.stderr(`Wrote ${outPath}\n`);
    return 0;
  },
};
