/**
 * `fewshot bench-fewshot`: the LM-BFF few-shot protocol. Per seed, K examples per class are drawn
 * from DIR/train.csv for training and another K per class (disjoint) for dev; each method is run
 * from a freshly loaded model and scored on DIR/test.csv (the same, optionally capped, test set for
 * every seed). Reports mean ± sample std (n−1) of accuracy and macro-F1 over seeds.
 *
 * Methods: zeroshot (template + verbalizer, no training), prompt (PromptTrainer, LM-BFF
 * prompt-based fine-tuning), head (classifier head + encoder via prepareFineTune/createTrainer).
 * prompt and head share epochs / batch size / learning rate / max length (the data-driven defaults
 * of `train` unless given).
 */
import { writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { EngineError } from '../../engine/errors';
import { createTrainer, prepareFineTune, type FineTuneOverrides } from '../../engine/pipeline/fine-tune';
import { loadModelFromDir } from '../../engine/pipeline/node';
import type { FewShotModel } from '../../engine/pipeline';
import {
  PromptTrainer,
  buildVerbalizer,
  compileTemplate,
  defaultPrompt,
  encodePromptExamples,
  evaluatePrompt,
  parseVerbalizerJson,
  type VerbalizerSpec,
} from '../../engine/prompt';
import type { Example } from '../../engine/data/dataset';
import type { Metrics } from '../../engine/train/metrics';
import { Rng } from '../../engine/util/rng';
import { UsageError, intFlag, numberFlag, stringFlag } from '../args';
import { printJson, setupBackend, wantsJson, type Command } from '../context';
import { COLUMN_FLAGS, columnOverrides, readExamples } from './train';

export const BENCH_METHODS = ['zeroshot', 'prompt', 'head'] as const;
export type BenchMethod = (typeof BENCH_METHODS)[number];

/** Default model when --model is not given (relative to the working directory). */
export const DEFAULT_BENCH_MODEL = 'public/models/fewshot-mini';

type Labeled = Example & { label: string };

/** K per class for train and K per class for dev (disjoint), seeded; classes in sorted order. */
export function sampleFewShot(rows: readonly Labeled[], k: number, seed: number): { train: Labeled[]; dev: Labeled[] } {
  const byLabel = new Map<string, Labeled[]>();
  for (const r of rows) byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), r]);
  const rng = new Rng(seed).fork('fewshot-sample');
  const train: Labeled[] = [];
  const dev: Labeled[] = [];
  for (const label of [...byLabel.keys()].sort()) {
    const pool = rng.shuffle([...byLabel.get(label)!]);
    if (pool.length < 2 * k)
      throw new EngineError(
        'BENCH_TOO_FEW_ROWS',
        `Label "${label}" has ${pool.length} training rows; K=${k} needs ${2 * k} (K for train and K for dev). Lower --k.`,
      );
    train.push(...pool.slice(0, k));
    dev.push(...pool.slice(k, 2 * k));
  }
  return { train: rng.shuffle(train), dev };
}

export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const variance = values.length > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}

interface RunResult {
  method: BenchMethod;
  seed: number;
  accuracy: number;
  macroF1: number;
  seconds: number;
}

export const benchFewshotCommand: Command = {
  name: 'bench-fewshot',
  summary: 'few-shot benchmark (LM-BFF protocol): zero-shot prompt vs prompt fine-tuning vs classifier head',
  usage:
    'fewshot bench-fewshot --data DIR [--k 16 --seeds 5 --methods zeroshot,prompt,head --model DIR --template T --verbalizer JSON --max-test N --out FILE.json]',
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
    methods: { type: 'string', placeholder: 'LIST', help: 'comma-separated: zeroshot,prompt,head (default all)' },
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
    epochs: { type: 'string', placeholder: 'N', help: 'training epochs for prompt and head (default: from data size)' },
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
    const methods = (stringFlag(args, 'methods') ?? BENCH_METHODS.join(','))
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    const unknown = methods.filter((m) => !(BENCH_METHODS as readonly string[]).includes(m));
    if (unknown.length > 0 || methods.length === 0)
      throw new UsageError(`--methods takes ${BENCH_METHODS.join(', ')}; got "${unknown.join(', ') || 'nothing'}".`);
    const maxTest = stringFlag(args, 'max-test') ? intFlag(args, 'max-test', 1, { min: 1 }) : null;
    const overrides: FineTuneOverrides = {
      epochs: stringFlag(args, 'epochs') ? intFlag(args, 'epochs', 1, { min: 1, max: 10_000 }) : undefined,
      learningRate: numberFlag(args, 'lr', undefined),
      batchSize: stringFlag(args, 'batch-size') ? intFlag(args, 'batch-size', 1, { min: 1, max: 4096 }) : undefined,
      maxLength: stringFlag(args, 'max-len') ? intFlag(args, 'max-len', 8, { min: 8, max: 4096 }) : undefined,
    };
    const calibrate = args.flags.calibrate === true;
    await setupBackend(args);

    const columns = columnOverrides(args);
    const labeledOnly = (rows: Example[]) => rows.filter((r): r is Labeled => r.label !== null);
    const trainRows = labeledOnly(await readExamples(join(dataDir, 'train.csv'), columns, io));
    let testRows = labeledOnly(await readExamples(join(dataDir, 'test.csv'), columns, io));
    const labels = [...new Set(trainRows.map((r) => r.label))].sort();
    const unseen = testRows.filter((r) => !labels.includes(r.label)).length;
    if (unseen > 0) io.stderr(`note: ${unseen} test rows have labels absent from train.csv and are not scored.\n`);
    testRows = testRows.filter((r) => labels.includes(r.label));
    if (maxTest !== null && testRows.length > maxTest)
      testRows = new Rng(0)
        .fork('max-test')
        .shuffle([...testRows])
        .slice(0, maxTest);
    if (testRows.length === 0)
      throw new EngineError('BENCH_NO_TEST', `${join(dataDir, 'test.csv')} has no labeled rows with a training label.`);

    // Prompt: flags or the built-in default for this dataset; validated once up front.
    const probe = await loadModelFromDir(modelDir);
    const dataset = basename(resolve(dataDir));
    const fallback = defaultPrompt(dataset, labels, probe.tokenizer);
    const templateText = stringFlag(args, 'template') ?? fallback.template;
    const verbalizerSpec: VerbalizerSpec = stringFlag(args, 'verbalizer')
      ? parseVerbalizerJson(stringFlag(args, 'verbalizer')!)
      : fallback.verbalizer;
    const needsPrompt = methods.some((m) => m !== 'head');
    if (needsPrompt) {
      for (const w of compileTemplate(templateText, probe.tokenizer).warnings) io.stderr(`warning: ${w}\n`);
      const v = buildVerbalizer(verbalizerSpec, labels, probe.tokenizer);
      for (const w of v.warnings) io.stderr(`warning: ${w}\n`);
    }
    probe.dispose();
    io.stderr(
      `bench-fewshot ${dataset}: K=${k} per class (${labels.length} labels), ${seeds} seeds, test ${testRows.length} rows, methods ${methods.join(', ')}` +
        (needsPrompt ? `; template "${templateText}", verbalizer ${JSON.stringify(verbalizerSpec)}` : '') +
        '\n',
    );

    const results: RunResult[] = [];
    for (let seed = 1; seed <= seeds; seed++) {
      const sample = sampleFewShot(trainRows, k, seed);
      for (const method of methods as BenchMethod[]) {
        const started = Date.now();
        const model = await loadModelFromDir(modelDir, { seed });
        try {
          const metrics = await runMethod(method, model, sample, testRows, labels, {
            templateText,
            verbalizerSpec,
            overrides: { ...overrides, seed },
            calibrate,
          });
          const r = {
            method,
            seed,
            accuracy: metrics.accuracy,
            macroF1: metrics.macroF1,
            seconds: (Date.now() - started) / 1000,
          };
          results.push(r);
          io.stderr(
            `seed ${seed} ${method.padEnd(8)} accuracy ${r.accuracy.toFixed(4)} macro-F1 ${r.macroF1.toFixed(4)} (${r.seconds.toFixed(1)} s)\n`,
          );
        } finally {
          model.dispose();
        }
      }
    }

    const summary = (methods as BenchMethod[]).map((method) => {
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
      labels,
      testRows: testRows.length,
      template: needsPrompt ? templateText : null,
      verbalizer: needsPrompt ? verbalizerSpec : null,
      calibrate,
      summary,
      runs: results,
    };
    const outPath = stringFlag(args, 'out');
    if (outPath) await writeFile(outPath, `${JSON.stringify(report, null, 2)}\n`);
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

async function runMethod(
  method: BenchMethod,
  model: FewShotModel,
  sample: { train: Labeled[]; dev: Labeled[] },
  test: readonly Labeled[],
  labels: readonly string[],
  o: { templateText: string; verbalizerSpec: VerbalizerSpec; overrides: FineTuneOverrides; calibrate: boolean },
): Promise<Metrics> {
  const toInput = (r: Labeled) => ({ text: r.text, textPair: r.textPair ?? null, label: r.label });
  if (method === 'zeroshot') {
    const v = buildVerbalizer(o.verbalizerSpec, labels, model.tokenizer);
    return evaluatePrompt(model, o.templateText, v, test.map(toInput), {
      calibrate: o.calibrate,
      maxLength: model.maxLength,
    });
  }
  const prepared = prepareFineTune(model, { train: sample.train, dev: sample.dev }, { ...o.overrides, patience: 0 });
  if (method === 'head') {
    const trainer = createTrainer(model, prepared);
    try {
      while (await trainer.runStep()) {
        /* steps */
      }
      await trainer.finish();
      const encoded = model.encode(
        test.map(toInput),
        test.map((r) => prepared.labels.indexOf(r.label)),
        prepared.options.maxLength,
      );
      return await trainer.evaluate(encoded.examples);
    } finally {
      trainer.dispose();
    }
  }
  // prompt: the text gets the same token budget as for head, plus room for the template.
  const compiled = compileTemplate(o.templateText, model.tokenizer);
  const maxLength = Math.min(model.maxLength, Math.ceil((prepared.options.maxLength + compiled.fixedLength) / 8) * 8);
  const v = buildVerbalizer(o.verbalizerSpec, labels, model.tokenizer);
  const encode = (rows: readonly Labeled[]) =>
    encodePromptExamples(
      compiled,
      model.tokenizer,
      rows.map(toInput),
      rows.map((r) => labels.indexOf(r.label)),
      maxLength,
    ).examples;
  const { classWeights: _cw, ...options } = prepared.options;
  const trainer = new PromptTrainer(model.params, model.config, v, encode(sample.train), encode(sample.dev), {
    ...options,
    gradAccumSteps: 1,
    batchSize: options.batchSize * (options.gradAccumSteps ?? 1),
    maxLength,
  });
  try {
    await trainer.run();
    return await trainer.evaluate(encode(test));
  } finally {
    trainer.dispose();
  }
}
