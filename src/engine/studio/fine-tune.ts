/**
 * Fine-tuning through the door: everything between "here are some labeled rows" and a running
 * loop — validation, label vocabulary, dev split, data-driven defaults under the user's settings,
 * tokenization (through the cloze template for the prompt method), a memory check, the method and
 * the one loop — and, at the end, what the model keeps (its classifier labels or its prompt). The
 * worker session, the CLI and the few-shot benchmark all train through here, so they train the same
 * way (docs/ARCHITECTURE.md, "The door").
 */
import { buildLabelVocab, stratifiedSplit, type Example } from '../data/dataset';
import { crossValidationAdvice, type CrossValidationAdvice } from '../data/folds';
import { requireTrainingData, type DataIssue } from '../data/validate';
import { EngineError } from '../errors';
import { agree, counted } from '../util/words';
import { balancedClassWeights, classifierTraining, type ClassifierSettings } from '../methods/classifier';
import { logisticRegressionProbabilities, type LogisticRegressionFit } from '../methods/logistic-regression';
import { promptTraining, type PromptSettings } from '../methods/prompt';
import {
  fitSetFitHead,
  generateSetFitPairs,
  setfitDefaults,
  setfitTraining,
  type SetFitObjective,
  type SetFitScoring,
} from '../methods/setfit';
import type { PromptConfig } from '../prompt/config';
import { defaultPrompt } from '../prompt/search';
import { compileTemplate, type CompiledTemplate } from '../prompt/template';
import { buildVerbalizer, verbalizerToSpec, type Verbalizer } from '../prompt/verbalizer';
import { encodePromptExamples, type PromptExample } from '../prompt/zero-shot';
import type { EncodedExample } from '../train/batches';
import {
  DEFAULT_DEV_FRACTION,
  DEFAULT_SEED,
  LENGTH_MULTIPLE,
  defaultEvalEvery,
  suggestTrainingConfig,
} from '../train/defaults';
import type { LoopCallbacks, TrainingLoop, TrainingSummary } from '../train/loop';
import { computeMetrics, type Metrics } from '../train/metrics';
import type { FewShotModel, TextInput } from './fewshot-model';
import { planMemory, type MemoryLimits, type MemoryPlan } from './memory';

/**
 * Which method trains: a classifier head on [CLS], LM-BFF prompt fine-tuning through the MLM head,
 * or SetFit (contrastive pairs on the sentence embeddings, then a logistic-regression head on them).
 */
export type MethodSpec =
  | { kind: 'head' }
  /** Template and label words; left out, the built-in choice for these labels is used. */
  | { kind: 'prompt'; template?: string; verbalizer?: Record<string, string[]> }
  /** Pair iterations R and the head's C (scikit-learn's); null or left out: chosen from the data / 1. */
  | { kind: 'setfit'; iterations?: number | null; C?: number | null };

/** SetFit's part of a plan (docs/ARCHITECTURE.md, "SetFit"). */
export interface SetFitPlanPart {
  /** Pair iterations R: each gives every example one positive and one negative pair. */
  iterations: number;
  /** Pairs in one pass (epoch); a step takes `batchSize` pairs. */
  pairs: number;
  /** The head's inverse regularisation strength (scikit-learn's C). */
  C: number;
  /** The sentence pooling the embeddings use. */
  pooling: 'cls' | 'mean' | 'max';
  /** Whether the embeddings are L2-normalized before the head (a Normalize module). */
  normalize: boolean;
  /** Method settings the engine chose. */
  auto: ('iterations' | 'C')[];
  /** Single-example classes (negative pairs only). */
  warnings: string[];
}

/** Body learning rate of SetFit: the paper's 2e-5 for real encoders; micro models (≤ 128 hidden units) need more. */
export function setfitLearningRate(hiddenSize: number): number {
  return hiddenSize <= 128 ? 1e-4 : 2e-5;
}

/** Pairs per SetFit step (the paper's batch size). */
export const SETFIT_BATCH_PAIRS = 16;

/** Every setting as the run uses it. */
export interface ResolvedSettings {
  epochs: number;
  batchSize: number;
  gradAccumSteps: number;
  learningRate: number;
  /** Longest text in tokens (the prompt method's sequences add the template: FineTunePlan.maxLength). */
  maxLength: number;
  seed: number;
  weightDecay: number;
  warmupRatio: number;
  maxGradNorm: number;
  classWeights: 'balanced' | 'none';
  evalEvery: number;
  patience: number;
  devFraction: number;
  dropout: boolean;
}

/**
 * What a user may set: any setting, or null / left out for "auto" (the engine's data-driven
 * default). `classWeights: 'balanced'` weights classes by inverse frequency (head method only);
 * `patience` 0 never stops early; `devFraction` is held out when no dev set is given.
 */
export type FineTuneSettings = { [K in keyof ResolvedSettings]?: ResolvedSettings[K] | null };

/** What the run will do, with every resolved value: the UI shows it, the CLI prints it. */
export interface FineTunePlan {
  method: MethodSpec['kind'];
  /** The template and label words the prompt method trains with (null for the head method). */
  prompt: PromptConfig | null;
  /** Template / verbalizer warnings (unknown words, label words split into several pieces). */
  promptWarnings: string[];
  /** Pairs, R, the head's C and pooling of a SetFit run (null for the other methods). */
  setfit: SetFitPlanPart | null;
  labels: string[];
  trainCount: number;
  devCount: number;
  /** True when dev came from an automatic split of the training rows. */
  autoSplit: boolean;
  settings: ResolvedSettings;
  /** The settings the engine chose (the user left them on auto). */
  auto: (keyof ResolvedSettings)[];
  totalSteps: number;
  stepsPerEpoch: number;
  // Flat copies of the most used values.
  epochs: number;
  batchSize: number;
  gradAccumSteps: number;
  learningRate: number;
  /** Longest sequence the model sees, template included. */
  maxLength: number;
  seed: number;
  truncated: { train: number; dev: number };
  issues: DataIssue[];
  splitNotes: string[];
  memory: MemoryPlan;
  /** Dev rows as used (texts + labels), so the UI can show the examples behind metric cells. */
  devExamples: Example[];
  /** Training rows as used, in training order (after the automatic split): a training job's data/train.csv. */
  trainExamples: Example[];
  /** Whether k-fold cross-validation (studio/cross-validate.ts) is possible and recommended for these rows. */
  crossValidation: CrossValidationAdvice;
}

export interface FineTuneData {
  train: readonly Example[];
  /** A dev set; null or empty: a stratified split of `train` (DEFAULT_DEV_FRACTION). */
  dev?: readonly Example[] | null;
  /**
   * The label order (id2label), e.g. a training job's; left out, labels in first-seen order of the
   * training rows. Every training label must be in it.
   */
  labels?: readonly string[] | null;
  /** false: never split a dev set off `train`, even with no dev rows (a training job's fixed split). Default true. */
  autoSplit?: boolean;
}

interface Prepared {
  plan: FineTunePlan;
  train: EncodedExample[];
  dev: EncodedExample[];
  prompt: { config: PromptConfig; compiled: CompiledTemplate; verbalizer: Verbalizer } | null;
  classWeights: number[] | null;
  /** Tokenizes more rows (a test file) the way training did. */
  encode: (rows: readonly TextInput[], labelIndices: readonly number[] | null) => EncodedExample[];
}

const asInputs = (rows: readonly Example[]) => rows.map((r) => ({ text: r.text, textPair: r.textPair ?? null }));
const roundUp = (n: number) => Math.ceil(n / LENGTH_MULTIPLE) * LENGTH_MULTIPLE;

/**
 * Validates the rows and plans the run. Throws TRAIN_INVALID_DATA (listing the blocking issues)
 * when the data cannot be trained on; warnings come back in the plan's `issues`.
 */
function prepare(
  model: FewShotModel,
  data: FineTuneData,
  method: MethodSpec,
  settings: FineTuneSettings,
  limits: MemoryLimits | null,
): Prepared {
  const seed = settings.seed ?? DEFAULT_SEED;
  const devFraction = settings.devFraction ?? DEFAULT_DEV_FRACTION;
  const firstPass = requireTrainingData(data.train, data.dev ?? undefined);
  let trainRows = firstPass.train;
  let devRows = firstPass.dev;
  let splitNotes: string[] = [];
  const autoSplit = data.autoSplit !== false && (!data.dev || data.dev.length === 0);
  if (autoSplit) {
    const split = stratifiedSplit(trainRows, { devFraction, seed });
    trainRows = split.train;
    devRows = split.dev;
    splitNotes = split.notes;
  }
  const labels = data.labels ? [...data.labels] : buildLabelVocab(trainRows);
  if (data.labels) {
    const unlisted = [...new Set(buildLabelVocab(trainRows).filter((l) => !labels.includes(l)))];
    if (unlisted.length > 0)
      throw new EngineError(
        'TRAIN_INVALID_DATA',
        `The training rows have labels that the given label list lacks: ${unlisted.join(', ')}. Labels: ${labels.join(', ')}.`,
      );
  }
  const secondPass = requireTrainingData(trainRows, devRows);
  const unknownDevLabels = [
    ...new Set(devRows.map((r) => r.label).filter((l): l is string => l !== null && !labels.includes(l))),
  ];
  if (unknownDevLabels.length > 0) {
    throw new EngineError(
      'TRAIN_INVALID_DATA',
      `The dev set has labels that never occur in training: ${unknownDevLabels.join(', ')}. Add training rows for them or remove those dev rows.`,
    );
  }

  const defaults = suggestTrainingConfig(
    { nTrain: trainRows.length, nDev: devRows.length, tokenLengths: model.tokenLengths(asInputs(trainRows)) },
    { hiddenSize: model.config.hidden_size, maxPositionEmbeddings: model.maxLength },
  );
  const auto: (keyof ResolvedSettings)[] = [];
  const pick = <K extends keyof ResolvedSettings>(
    key: K,
    given: ResolvedSettings[K] | null | undefined,
    fallback: ResolvedSettings[K],
  ) => {
    if (given === null || given === undefined) {
      auto.push(key);
      return fallback;
    }
    return given;
  };
  // SetFit embeds like the model's sentence pipeline, which may cut texts shorter (max_seq_length).
  const pipelineMax = method.kind === 'setfit' ? (model.sentenceTransformers?.maxSeqLength ?? Infinity) : Infinity;
  const textLength = Math.min(pick('maxLength', settings.maxLength, defaults.maxLength), model.maxLength, pipelineMax);
  const labelIndex = (row: Example) => labels.indexOf(row.label as string);

  // The prompt method renders texts through the template: its sequences get the template's tokens on top.
  let prompt: Prepared['prompt'] = null;
  let maxLength = textLength;
  if (method.kind === 'prompt') {
    const fallback =
      method.template && method.verbalizer ? null : defaultPrompt(null, labels, model.tokenizer, method.verbalizer);
    const template = method.template ?? fallback!.template;
    const compiled = compileTemplate(template, model.tokenizer);
    const verbalizer = buildVerbalizer(method.verbalizer ?? fallback!.verbalizer, labels, model.tokenizer);
    prompt = { config: { template, verbalizer: verbalizerToSpec(verbalizer) }, compiled, verbalizer };
    maxLength = Math.min(model.maxLength, roundUp(textLength + compiled.fixedLength));
  }
  const truncatedOf = (rows: readonly Example[]) =>
    model.tokenLengths(asInputs(rows)).filter((n) => n > textLength).length;
  const encode: Prepared['encode'] = (rows, labelIndices) =>
    prompt
      ? encodePromptExamples(prompt.compiled, model.tokenizer, rows, labelIndices, maxLength).examples
      : model.encode(rows, labelIndices, maxLength).examples;
  const train = encode(asInputs(trainRows), trainRows.map(labelIndex));
  const dev = encode(asInputs(devRows), devRows.map(labelIndex));

  // SetFit: the pairs come first, since they (not the rows) set a run's length.
  let setfit: SetFitPlanPart | null = null;
  let batchesPerEpochRows = train.length;
  let setfitEpochs: number | null = null;
  if (method.kind === 'setfit') {
    const setfitAuto: SetFitPlanPart['auto'] = [];
    const chosen = setfitDefaults(train.length);
    const iterations = method.iterations ?? chosen.iterations;
    if (method.iterations === null || method.iterations === undefined) setfitAuto.push('iterations');
    const C = method.C ?? 1; // scikit-learn's LogisticRegression default, as SetFit's reference head uses
    if (method.C === null || method.C === undefined) setfitAuto.push('C');
    if (!(C > 0)) throw new EngineError('SETFIT_BAD_SETTINGS', `The head's C must be a positive number, got ${C}.`);
    const { pairs, warnings } = generateSetFitPairs(
      train.map((e) => e.label),
      { iterations, seed, classNames: labels },
    );
    const st = model.sentenceTransformers;
    setfit = {
      iterations,
      pairs: pairs.length,
      C,
      pooling: st?.pooling ?? 'mean',
      normalize: st?.normalize ?? false,
      auto: setfitAuto,
      warnings,
    };
    batchesPerEpochRows = pairs.length;
    setfitEpochs = chosen.epochs;
  }
  const isSetFit = setfit !== null;
  const batchSize = pick('batchSize', settings.batchSize, isSetFit ? SETFIT_BATCH_PAIRS : defaults.batchSize);
  const accumulation = pick('gradAccumSteps', settings.gradAccumSteps, 1);
  // A SetFit step of B pairs runs 2B rows through the encoder.
  const rowMemory = planMemory(
    model.config,
    model.summary().parameters,
    isSetFit ? 2 * batchSize : batchSize,
    accumulation,
    maxLength,
    limits,
  );
  const memory: MemoryPlan = isSetFit
    ? { ...rowMemory, requestedBatchSize: batchSize, batchSize: Math.max(1, Math.floor(rowMemory.batchSize / 2)) }
    : rowMemory;
  const classWeights = pick('classWeights', settings.classWeights, 'none');
  if (method.kind !== 'head' && classWeights === 'balanced') {
    throw new EngineError('TRAIN_BAD_OPTIONS', 'Class weights work with the classifier-head method only.');
  }
  const epochs = pick('epochs', settings.epochs, setfitEpochs ?? defaults.epochs);
  const stepsPerEpoch = Math.max(
    1,
    Math.ceil(Math.ceil(batchesPerEpochRows / memory.batchSize) / memory.gradAccumSteps),
  );
  const resolved: ResolvedSettings = {
    epochs,
    batchSize: memory.batchSize,
    gradAccumSteps: memory.gradAccumSteps,
    learningRate: pick(
      'learningRate',
      settings.learningRate,
      isSetFit ? setfitLearningRate(model.config.hidden_size) : defaults.learningRate,
    ),
    maxLength: textLength,
    seed: pick('seed', settings.seed, DEFAULT_SEED),
    weightDecay: pick('weightDecay', settings.weightDecay, defaults.weightDecay),
    warmupRatio: pick('warmupRatio', settings.warmupRatio, defaults.warmupRatio),
    maxGradNorm: pick('maxGradNorm', settings.maxGradNorm, defaults.maxGradNorm),
    classWeights,
    evalEvery: pick(
      'evalEvery',
      settings.evalEvery,
      isSetFit ? defaultEvalEvery(stepsPerEpoch * epochs) : defaults.evalEvery,
    ),
    patience: pick('patience', settings.patience, defaults.earlyStoppingPatience ?? 0),
    devFraction: pick('devFraction', settings.devFraction, DEFAULT_DEV_FRACTION),
    dropout: pick('dropout', settings.dropout, true),
  };
  const issues = [
    ...firstPass.issues,
    ...secondPass.issues.filter((i) => !firstPass.issues.some((j) => j.code === i.code && j.set === i.set)),
  ];
  const plan: FineTunePlan = {
    method: method.kind,
    prompt: prompt?.config ?? null,
    promptWarnings: prompt ? [...prompt.compiled.warnings, ...prompt.verbalizer.warnings] : [],
    setfit,
    labels,
    trainCount: train.length,
    devCount: dev.length,
    autoSplit,
    settings: resolved,
    auto,
    totalSteps: stepsPerEpoch * resolved.epochs,
    stepsPerEpoch,
    epochs: resolved.epochs,
    batchSize: resolved.batchSize,
    gradAccumSteps: resolved.gradAccumSteps,
    learningRate: resolved.learningRate,
    maxLength,
    seed: resolved.seed,
    truncated: { train: truncatedOf(trainRows), dev: truncatedOf(devRows) },
    issues,
    splitNotes,
    memory,
    devExamples: devRows,
    trainExamples: trainRows,
    crossValidation: crossValidationAdvice(
      firstPass.train.map((r) => r.label as string),
      devRows.length,
      !autoSplit,
    ),
  };
  const weights =
    classWeights === 'balanced'
      ? balancedClassWeights(
          train.map((e) => e.label),
          labels.length,
        )
      : null;
  return { plan, train, dev, prompt, classWeights: weights, encode };
}

/** The plan of a run without starting it (the Train panel shows it before Start). */
export function planFineTune(
  model: FewShotModel,
  data: FineTuneData,
  method: MethodSpec,
  settings: FineTuneSettings = {},
  limits: MemoryLimits | null = null,
): FineTunePlan {
  return prepare(model, data, method, settings, limits).plan;
}

/** How SetFit's head is fitted, as setfit_head.json records it (methods/logistic-regression.ts). */
export const SETFIT_HEAD_SOLVER =
  'lbfgs (multinomial, L2, tolerance 1e-8 on the max gradient, at most 1000 iterations)';

/**
 * SetFit's scoring on `model` (docs/ARCHITECTURE.md, "SetFit"): embeddings through the model's own
 * pipeline (what `predict` uses), and every head fitted while scoring is installed on the model with
 * the training rows, so the playground answers as SetFit from the first evaluation on.
 */
function setfitScoring(
  model: FewShotModel,
  plan: FineTunePlan,
  part: SetFitPlanPart,
  fitted: (head: LogisticRegressionFit) => void,
): SetFitScoring {
  const labelIndex = (r: Example) => plan.labels.indexOf(r.label as string);
  const trainInputs = asInputs(plan.trainExamples);
  return {
    embed: (inputs) => model.embed(inputs),
    train: { inputs: trainInputs, labels: plan.trainExamples.map(labelIndex) },
    dev: { inputs: asInputs(plan.devExamples), labels: plan.devExamples.map(labelIndex) },
    labels: plan.labels,
    C: part.C,
    onHead: (head, embeddings) => {
      fitted(head);
      model.setSetFitHead(
        {
          labels: [...plan.labels],
          coef: head.coef,
          intercept: head.intercept,
          C: part.C,
          solver: SETFIT_HEAD_SOLVER,
          pooling: part.pooling,
          normalize: part.normalize,
        },
        { inputs: trainInputs, labels: plan.trainExamples.map((r) => r.label as string), embeddings },
      );
    },
  };
}

export interface FineTuneRun {
  readonly plan: FineTunePlan;
  /** The one training loop: runStep / run / pause / resume / stop / captureState / restoreState. */
  readonly loop: TrainingLoop<unknown, Metrics>;
  /** Metrics of the current weights on labeled rows, tokenized as in training (labels must be known). */
  evaluate(rows: readonly Example[]): Promise<Metrics>;
  /** Ends training (restoring the best weights) and makes the model keep what was trained. */
  finish(reason?: 'completed' | 'stopped'): Promise<TrainingSummary<Metrics>>;
  /** SetFit: the head fitted last (after `finish`, the one the model keeps); null for the other methods or before any. */
  setfitHead(): LogisticRegressionFit | null;
  /** Ends a run whose step failed, keeping the best (or last) weights. */
  fail(message: string): TrainingSummary<Metrics>;
  dispose(): void;
}

/**
 * Prepares and starts a fine-tuning run on `model`. The model's classifier head follows the
 * labels (a fresh seeded head when they change) and `predict` follows the method at once, so the
 * playground answers with the weights of each step.
 */
export function startFineTune(
  model: FewShotModel,
  data: FineTuneData,
  method: MethodSpec,
  settings: FineTuneSettings = {},
  options: { limits?: MemoryLimits | null; callbacks?: LoopCallbacks<Metrics> } = {},
): FineTuneRun {
  const prepared = prepare(model, data, method, settings, options.limits ?? null);
  const { plan } = prepared;
  const s = plan.settings;
  const loopSettings: ClassifierSettings & PromptSettings = {
    epochs: s.epochs,
    batchSize: s.batchSize,
    gradAccumSteps: s.gradAccumSteps,
    learningRate: s.learningRate,
    maxLength: plan.maxLength,
    seed: s.seed,
    weightDecay: s.weightDecay,
    warmupRatio: s.warmupRatio,
    maxGradNorm: s.maxGradNorm,
    evalEvery: s.evalEvery,
    patience: s.patience,
    dropout: s.dropout,
  };
  // config.json's id2label follows the labels for both methods, so an exported folder always loads;
  // the prompt method leaves this (fresh, seeded) head untrained.
  model.setLabels(plan.labels, s.seed);
  model.setPrompt(prepared.prompt?.config ?? null);
  const callbacks = options.callbacks ?? {};
  let lastHead: LogisticRegressionFit | null = null;
  const scoring = plan.setfit ? setfitScoring(model, plan, plan.setfit, (fit) => (lastHead = fit)) : null;
  const loop = scoring
    ? setfitTraining(
        model.params,
        model.config,
        prepared.train,
        {
          ...loopSettings,
          iterations: plan.setfit!.iterations,
          pooling: plan.setfit!.pooling,
          classNames: plan.labels,
        },
        callbacks,
        scoring,
      )
    : prepared.prompt
      ? promptTraining(
          model.params,
          model.config,
          prepared.prompt.verbalizer,
          prepared.train as PromptExample[],
          prepared.dev as PromptExample[],
          loopSettings,
          callbacks,
        )
      : classifierTraining(
          model.params,
          model.config,
          plan.labels,
          prepared.train,
          prepared.dev,
          { ...loopSettings, classWeights: prepared.classWeights },
          callbacks,
        );
  const objective = loop.objective as { evaluateOn(examples: readonly EncodedExample[]): Promise<Metrics> };
  /** What the model keeps: the head method's classifier; SetFit's head, fitted on the final (or best) weights. */
  /** SetFit: the head the model keeps, fitted on the final weights by `finish` (scoring then reuses it). */
  let keptHead: LogisticRegressionFit | null = null;
  const commit = async () => {
    if (scoring) keptHead = (await fitSetFitHead(scoring)).head;
    else if (!prepared.prompt) model.markClassifierTrained();
  };
  return {
    plan,
    loop: loop as unknown as TrainingLoop<unknown, Metrics>,
    async evaluate(rows) {
      const unknown = rows.filter((r) => r.label === null || !plan.labels.includes(r.label));
      if (unknown.length > 0) {
        throw new EngineError(
          'EVAL_UNKNOWN_LABEL',
          `${counted(unknown.length, 'row')} ${agree(unknown.length, 'has', 'have')} no label or one the run never saw (${[...new Set(unknown.map((r) => r.label ?? '(none)'))].slice(0, 5).join(', ')}); score only rows with the labels ${plan.labels.join(', ')}.`,
        );
      }
      // After finish the weights no longer move: score with the kept head instead of fitting it again.
      if (keptHead)
        return computeMetrics(
          rows.map((r) => plan.labels.indexOf(r.label!)),
          logisticRegressionProbabilities(keptHead, await model.embed(asInputs(rows))),
          plan.labels,
        );
      if (scoring)
        return (loop.objective as SetFitObjective).evaluateInputs(
          asInputs(rows),
          rows.map((r) => plan.labels.indexOf(r.label!)),
        );
      return objective.evaluateOn(
        prepared.encode(
          asInputs(rows),
          rows.map((r) => plan.labels.indexOf(r.label!)),
        ),
      );
    },
    async finish(reason = 'completed') {
      const summary = await loop.finish(reason);
      if (summary.reason !== 'diverged') await commit();
      // A diverged SetFit body has no trustworthy embeddings to fit a head on.
      else if (scoring) model.setSetFitHead(null);
      return summary;
    },
    setfitHead: () => lastHead,
    fail(message) {
      return loop.fail(message);
    },
    dispose() {
      loop.dispose();
    },
  };
}
