/**
 * SetFit through the door (docs/ARCHITECTURE.md, "The door"): validate the rows, choose the pair
 * iterations and body epochs from the data, run the contrastive body stage on the one loop
 * (methods/setfit.ts), then embed the training rows with the model's sentence pooling and fit the
 * multinomial logistic-regression head on them (methods/logistic-regression.ts), which it installs on
 * the model: `FewShotModel.predict` and `exportFiles` are then SetFit's.
 */
import { buildLabelVocab, type Example } from '../data/dataset';
import { requireTrainingData } from '../data/validate';
import { EngineError } from '../errors';
import {
  fitLogisticRegression,
  logisticRegressionProbabilities,
  type LogisticRegressionFit,
} from '../methods/logistic-regression';
import { setfitDefaults, setfitTraining, type PairBatch, type SetFitObjective } from '../methods/setfit';
import { DEFAULT_SEED, LENGTH_MULTIPLE } from '../train/defaults';
import type { LoopCallbacks, RunHooks, TrainingLoop, TrainingSummary } from '../train/loop';
import type { FewShotModel, TextInput } from './fewshot-model';

/** How the head is fitted, as setfit_head.json records it (methods/logistic-regression.ts). */
export const SETFIT_HEAD_SOLVER =
  'lbfgs (multinomial, L2, tolerance 1e-8 on the max gradient, at most 1000 iterations)';

export interface SetFitRunSettings {
  /** Pair iterations R; auto: setfitDefaults. */
  iterations?: number | null;
  /** Passes over the pairs; auto: setfitDefaults. */
  epochs?: number | null;
  /** Pairs per step; auto 16 (the SetFit paper's). */
  batchSize?: number | null;
  /** Body learning rate; auto: 2e-5 (the paper's) above 128 hidden units, 1e-4 for micro models. */
  learningRate?: number | null;
  /** Longest text in tokens; auto: the longest training text, rounded up to 8, capped by the model and its pipeline. */
  maxLength?: number | null;
  seed?: number | null;
  /** The head's inverse regularisation strength (scikit-learn's C); auto 1. */
  C?: number | null;
  /** Dropout in the body stage; default true. */
  dropout?: boolean | null;
}

export interface SetFitPlan {
  labels: string[];
  trainCount: number;
  pairs: number;
  iterations: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  maxLength: number;
  seed: number;
  C: number;
  pooling: 'cls' | 'mean' | 'max';
  totalSteps: number;
  /** Settings the engine chose. */
  auto: (keyof SetFitRunSettings)[];
  /** Single-example classes and the like. */
  warnings: string[];
}

export interface SetFitResult {
  body: TrainingSummary<null>;
  head: LogisticRegressionFit;
}

export interface SetFitRun {
  plan: SetFitPlan;
  /** The body stage's loop (step, pause, stop like any run). */
  loop: TrainingLoop<PairBatch, null, SetFitObjective>;
  /** Runs the body stage to its end, then fits the head. */
  run(hooks?: RunHooks): Promise<SetFitResult>;
  /** Label probabilities [N][labels] of the trained model (after `run`). */
  predictProbabilities(inputs: readonly TextInput[]): Promise<number[][]>;
}

/** Starts a SetFit run on `model` with labeled rows (validated like every other method's). */
export function startSetFit(
  model: FewShotModel,
  data: { train: readonly Example[] },
  settings: SetFitRunSettings = {},
  callbacks: LoopCallbacks<null> = {},
): SetFitRun {
  const checked = requireTrainingData(data.train);
  const rows = checked.train;
  const labels = buildLabelVocab(rows);
  const labelIndex = rows.map((r) => labels.indexOf(r.label as string));
  const auto: (keyof SetFitRunSettings)[] = [];
  const pick = <K extends keyof SetFitRunSettings>(key: K, fallback: NonNullable<SetFitRunSettings[K]>) => {
    const value = settings[key];
    if (value === null || value === undefined) {
      auto.push(key);
      return fallback;
    }
    return value as NonNullable<SetFitRunSettings[K]>;
  };
  const defaults = setfitDefaults(rows.length);
  const st = model.sentenceTransformers;
  const modelMax = Math.min(st?.maxSeqLength ?? model.maxLength, model.maxLength);
  const inputs = rows.map((r) => ({ text: r.text, textPair: r.textPair ?? null }));
  const longest = Math.max(...model.encode(inputs, null, modelMax).examples.map((e) => e.inputIds.length));
  const maxLength = pick('maxLength', Math.min(modelMax, Math.ceil(longest / LENGTH_MULTIPLE) * LENGTH_MULTIPLE));
  const seed = pick('seed', DEFAULT_SEED);
  const iterations = pick('iterations', defaults.iterations);
  const epochs = pick('epochs', defaults.epochs);
  const batchSize = pick('batchSize', 16);
  const learningRate = pick('learningRate', model.config.hidden_size <= 128 ? 1e-4 : 2e-5);
  const C = pick('C', 1);
  const dropout = pick('dropout', true);
  const pooling = st?.pooling ?? 'mean';
  const { examples } = model.encode(inputs, labelIndex, maxLength);
  const loop = setfitTraining(
    model.params,
    model.config,
    examples,
    { iterations, epochs, batchSize, learningRate, maxLength, seed, dropout, pooling, classNames: labels },
    callbacks,
  );
  const pairs = loop.objective.data.pairs.length;
  const plan: SetFitPlan = {
    labels,
    trainCount: rows.length,
    pairs,
    iterations,
    epochs,
    batchSize,
    learningRate,
    maxLength,
    seed,
    C,
    pooling,
    totalSteps: loop.totalSteps,
    auto,
    warnings: [...loop.objective.warnings],
  };
  let head: LogisticRegressionFit | null = null;
  return {
    plan,
    loop,
    async run(hooks) {
      const body = await loop.run(hooks);
      const embeddings = await model.embed(inputs, { maxLength });
      head = fitLogisticRegression(embeddings, labelIndex, labels.length, { C });
      // From here `model.predict` and the export are SetFit's (docs/ARCHITECTURE.md, "SetFit").
      model.setSetFitHead({
        labels,
        coef: head.coef,
        intercept: head.intercept,
        C,
        solver: SETFIT_HEAD_SOLVER,
        pooling,
        normalize: st?.normalize ?? false,
      });
      return { body, head };
    },
    async predictProbabilities(texts) {
      if (!head)
        throw new EngineError('SETFIT_NOT_TRAINED', 'The SetFit head is fitted at the end of run(); run it first.');
      return logisticRegressionProbabilities(head, await model.embed(texts, { maxLength }));
    },
  };
}
