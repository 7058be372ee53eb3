/**
 * Everything between "here are some labeled rows" and a ready ClassifierTrainer: validation,
 * label vocabulary, dev split, data-driven defaults with user overrides, tokenization with
 * truncation counts, and a GPU-memory check that lowers the batch size (keeping the effective
 * batch through gradient accumulation) when a step would not fit. Shared by the worker session
 * and the CLI so both train exactly the same way.
 */
import type { BertConfig } from '../bert';
import { EngineError } from '../errors';
import { buildLabelVocab, stratifiedSplit, type Example } from '../data/dataset';
import { validateTrainingData, type DataIssue } from '../data/validate';
import { type EncodedExample } from '../train/batches';
import { suggestTrainingConfig } from '../train/defaults';
import { ClassifierTrainer, balancedClassWeights, type TrainerCallbacks, type TrainerOptions } from '../train/trainer';
import type { FewShotModel } from './fewshot-model';

/** Settings a user may override; anything left undefined takes the data-driven default. */
export interface FineTuneOverrides {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  maxLength?: number;
  seed?: number;
  weightDecay?: number;
  warmupRatio?: number;
  maxGradNorm?: number;
  gradAccumSteps?: number;
  /** 'balanced' weights classes by inverse frequency. Default none. */
  classWeights?: 'balanced' | null;
  evalEvery?: number;
  /** Evaluations without improvement before stopping early; 0 = never. */
  patience?: number;
  /** Fraction of labeled rows held out when no dev set is given. */
  devFraction?: number;
  dropout?: boolean;
}

/** Device limits that bound one training step (from the capability report). */
export interface MemoryLimits {
  /** Largest single buffer the device allows (bytes). */
  maxBufferBytes: number;
  /** Budget for everything a step keeps alive (bytes). */
  totalBudgetBytes: number;
}

export interface MemoryPlan {
  /** Estimated bytes a training step keeps alive: weights, gradients, Adam moments, activations. */
  estimatedBytes: number;
  /** Largest single tensor of the step (bytes). */
  largestBufferBytes: number;
  requestedBatchSize: number;
  batchSize: number;
  gradAccumSteps: number;
  /** Set when the batch size was lowered: says why and what was done instead. */
  note: string | null;
}

export interface PreparedFineTune {
  labels: string[];
  trainExamples: Example[];
  devExamples: Example[];
  train: EncodedExample[];
  dev: EncodedExample[];
  options: TrainerOptions;
  issues: DataIssue[];
  splitNotes: string[];
  /** True when dev came from an automatic split of the training rows. */
  autoSplit: boolean;
  truncated: { train: number; dev: number };
  memory: MemoryPlan;
}

const BYTES = 4;

/**
 * Rough memory of one training step. Weights, gradients and two Adam moments: 4 × params. The
 * backward pass keeps per layer about 10 [B,T,H] tensors, 3 [B,T,I] and 3 [B,A,T,T] (scores,
 * probabilities, dropout mask), plus embeddings and the head.
 */
export function estimateTrainingMemory(
  config: BertConfig,
  batchSize: number,
  seqLen: number,
  parameters: number,
): { totalBytes: number; largestBufferBytes: number } {
  const { hidden_size: H, intermediate_size: I, num_attention_heads: A, num_hidden_layers: L, vocab_size: V } = config;
  const B = batchSize;
  const T = seqLen;
  const perLayer = B * T * (10 * H + 3 * I) + 3 * B * A * T * T;
  const activations = L * perLayer + 4 * B * T * H;
  const totalBytes = (4 * parameters + activations) * BYTES;
  const largestBufferBytes = Math.max(V * H, B * A * T * T, B * T * I) * BYTES;
  return { totalBytes, largestBufferBytes };
}

/** Halves the batch (and doubles accumulation) until the step fits `limits`. */
export function planMemory(
  config: BertConfig,
  parameters: number,
  batchSize: number,
  gradAccumSteps: number,
  seqLen: number,
  limits: MemoryLimits | null,
): MemoryPlan {
  let batch = batchSize;
  let accum = gradAccumSteps;
  let estimate = estimateTrainingMemory(config, batch, seqLen, parameters);
  const fits = () =>
    !limits || (estimate.totalBytes <= limits.totalBudgetBytes && estimate.largestBufferBytes <= limits.maxBufferBytes);
  const firstEstimate = estimate;
  while (!fits() && batch > 1) {
    batch = Math.max(1, Math.floor(batch / 2));
    accum *= 2;
    estimate = estimateTrainingMemory(config, batch, seqLen, parameters);
  }
  if (!fits()) {
    const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
    throw new EngineError(
      'TRAIN_OUT_OF_MEMORY',
      `Even one example of ${seqLen} tokens needs about ${gib(estimate.totalBytes)} (largest buffer ${gib(estimate.largestBufferBytes)}), ` +
        `more than this device allows (${gib(limits!.totalBudgetBytes)} budget, ${gib(limits!.maxBufferBytes)} per buffer). Lower the max length or pick a smaller model.`,
    );
  }
  const mib = (b: number) => `${Math.round(b / 2 ** 20)} MiB`;
  const note =
    batch === batchSize
      ? null
      : `Batch size ${batchSize} would need about ${mib(firstEstimate.totalBytes)} per step, more than this GPU allows; ` +
        `training with batch ${batch} × ${accum} accumulation steps instead (same effective batch).`;
  return {
    estimatedBytes: estimate.totalBytes,
    largestBufferBytes: estimate.largestBufferBytes,
    requestedBatchSize: batchSize,
    batchSize: batch,
    gradAccumSteps: accum,
    note,
  };
}

function rowsToInputs(rows: readonly Example[]) {
  return rows.map((r) => ({ text: r.text, textPair: r.textPair ?? null }));
}

/**
 * Validates and prepares a fine-tuning run. Throws EngineError `TRAIN_INVALID_DATA` (message
 * listing the blocking issues) when the data cannot be trained on; warnings come back in `issues`.
 */
export function prepareFineTune(
  model: FewShotModel,
  data: { train: readonly Example[]; dev?: readonly Example[] | null },
  overrides: FineTuneOverrides = {},
  limits: MemoryLimits | null = null,
): PreparedFineTune {
  const seed = overrides.seed ?? 42;
  const firstPass = validateTrainingData(data.train, data.dev ?? undefined);
  const blocking = firstPass.issues.filter((i) => i.severity === 'error');
  if (blocking.length > 0) throw new EngineError('TRAIN_INVALID_DATA', blocking.map((i) => i.message).join(' '));

  let trainRows = firstPass.train;
  let devRows = firstPass.dev;
  let splitNotes: string[] = [];
  const autoSplit = !data.dev || data.dev.length === 0;
  if (autoSplit) {
    const split = stratifiedSplit(trainRows, { devFraction: overrides.devFraction ?? 0.2, seed });
    trainRows = split.train;
    devRows = split.dev;
    splitNotes = split.notes;
  }
  const labels = buildLabelVocab(trainRows);
  const secondPass = validateTrainingData(trainRows, devRows);
  const afterSplit = secondPass.issues.filter((i) => i.severity === 'error');
  if (afterSplit.length > 0) throw new EngineError('TRAIN_INVALID_DATA', afterSplit.map((i) => i.message).join(' '));
  const unknownDevLabels = [
    ...new Set(devRows.map((r) => r.label).filter((l): l is string => l !== null && !labels.includes(l))),
  ];
  if (unknownDevLabels.length > 0) {
    throw new EngineError(
      'TRAIN_INVALID_DATA',
      `The dev set has labels that never occur in training: ${unknownDevLabels.join(', ')}. Add training rows for them or remove those dev rows.`,
    );
  }

  const tokenLengths = model.tokenLengths(rowsToInputs(trainRows));
  const defaults = suggestTrainingConfig(
    { nTrain: trainRows.length, nDev: devRows.length, tokenLengths },
    { hiddenSize: model.config.hidden_size, maxPositionEmbeddings: model.maxLength },
  );
  const maxLength = Math.min(overrides.maxLength ?? defaults.maxLength, model.maxLength);
  const labelIndex = (row: Example) => labels.indexOf(row.label as string);
  const encodedTrain = model.encode(rowsToInputs(trainRows), trainRows.map(labelIndex), maxLength);
  const encodedDev = model.encode(rowsToInputs(devRows), devRows.map(labelIndex), maxLength);

  const requestedBatch = overrides.batchSize ?? defaults.batchSize;
  const memory = planMemory(
    model.config,
    model.summary().parameters,
    requestedBatch,
    overrides.gradAccumSteps ?? 1,
    maxLength,
    limits,
  );
  const issues = [
    ...firstPass.issues,
    ...secondPass.issues.filter((i) => !firstPass.issues.some((j) => j.code === i.code && j.set === i.set)),
  ];
  const options: TrainerOptions = {
    epochs: overrides.epochs ?? defaults.epochs,
    batchSize: memory.batchSize,
    gradAccumSteps: memory.gradAccumSteps,
    learningRate: overrides.learningRate ?? defaults.learningRate,
    maxLength,
    seed,
    weightDecay: overrides.weightDecay ?? defaults.weightDecay,
    warmupRatio: overrides.warmupRatio ?? defaults.warmupRatio,
    maxGradNorm: overrides.maxGradNorm ?? defaults.maxGradNorm,
    classWeights:
      overrides.classWeights === 'balanced' ? balancedClassWeights(trainRows.map(labelIndex), labels.length) : null,
    evalEvery: overrides.evalEvery ?? 0,
    patience: overrides.patience ?? defaults.earlyStoppingPatience ?? 0,
    dropout: overrides.dropout ?? true,
  };
  return {
    labels,
    trainExamples: trainRows,
    devExamples: devRows,
    train: encodedTrain.examples,
    dev: encodedDev.examples,
    options,
    issues,
    splitNotes,
    autoSplit,
    truncated: { train: encodedTrain.truncated.length, dev: encodedDev.truncated.length },
    memory,
  };
}

/** Points the model's classifier at the prepared labels and builds the trainer. */
export function createTrainer(
  model: FewShotModel,
  prepared: PreparedFineTune,
  callbacks: TrainerCallbacks = {},
): ClassifierTrainer {
  model.setLabels(prepared.labels, prepared.options.seed);
  return new ClassifierTrainer(
    model.params,
    model.config,
    prepared.labels,
    prepared.train,
    prepared.dev,
    prepared.options,
    callbacks,
  );
}
