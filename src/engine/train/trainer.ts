/**
 * Sequence-classification fine-tuning, one optimizer step at a time so the worker session can
 * interleave playground requests, pause, resume and stop between steps.
 *
 * Per optimizer step: `gradAccumSteps` micro-batches → forward with dropout → (weighted) softmax
 * cross-entropy → gradients summed → AdamW (global-norm clipping inside) at the scheduled learning
 * rate. No blocking readback: the loss stays on the device as a kept scalar and is read with
 * `data()` every `lossReadEvery` steps. Dev evaluation at every epoch end (and every `evalEvery`
 * steps when set); the best weights by dev macro-F1 are kept on the device and restored at the end
 * (early stopping after `patience` evaluations without improvement).
 */
import * as tf from '@tensorflow/tfjs';
import { bertForSequenceClassification, type BertInputs } from '../bert/model';
import { namedParams, type BertParams, type NamedVariable } from '../bert/params';
import type { BertConfig } from '../bert/config';
import { EngineError } from '../errors';
import { makeBatches, type Batch, type EncodedExample } from './batches';
import { computeMetrics, type Metrics } from './metrics';
import { AdamW } from './optim';
import { makeLrSchedule } from './schedule';

export interface TrainerOptions {
  /** Passes over the training set. */
  epochs: number;
  /** Examples per micro-batch. */
  batchSize: number;
  /** Peak learning rate (after warmup). */
  learningRate: number;
  /** Longest sequence, special tokens included; examples must already be truncated to it. */
  maxLength: number;
  /** Seed for batch order and dropout masks; same seed + backend → same losses. */
  seed: number;
  /** Decoupled weight decay. Default 0.01 (BERT recipes). */
  weightDecay?: number;
  /** Fraction of optimizer steps spent warming up linearly from 0. Default 0.1. */
  warmupRatio?: number;
  /** Global gradient-norm clip. Default 1.0 (HF Trainer); 0 disables. */
  maxGradNorm?: number;
  /** Micro-batches summed per optimizer step. Default 1. */
  gradAccumSteps?: number;
  /** Per-class loss weights (length = number of labels), e.g. from `balancedClassWeights`. Default none. */
  classWeights?: number[] | null;
  /** Dropout on during training. Default true; golden parity tests switch it off. */
  dropout?: boolean;
  /** Evaluate on dev every N optimizer steps as well as at epoch ends. Default 0 (epoch ends only). */
  evalEvery?: number;
  /** Stop after this many evaluations without a better dev macro-F1. Default 0 (never stop early). */
  patience?: number;
  /** Read the loss back every N steps (asynchronously). Default 4: few syncs, timely charts. */
  lossReadEvery?: number;
  /** Learning-rate schedule. Default 'linear' (warmup then linear decay to 0). */
  schedule?: 'linear' | 'constant';
}

/** Optional inputs beyond the options (not part of a user's settings). */
export interface TrainerExtras {
  /** Use exactly these batches, one micro-batch each, in order (golden parity tests). */
  batchPlan?: Batch[];
}

export interface ProgressInfo {
  /** Optimizer steps done. */
  step: number;
  totalSteps: number;
  /** 1-based epoch the last step belonged to. */
  epoch: number;
  epochs: number;
  /** Mean training loss of the steps read back since the last report (null until the first read). */
  loss: number | null;
  /** Loss of each step read back in this report, oldest first, with step numbers. */
  losses: { step: number; loss: number }[];
  learningRate: number;
  examplesPerSecond: number;
  /** Seconds left at the current pace. */
  etaSeconds: number;
}

export interface EvaluationInfo {
  step: number;
  epoch: number;
  metrics: Metrics;
  /** True when this evaluation is the best so far (its weights are kept). */
  isBest: boolean;
}

export type FinishReason = 'completed' | 'early-stopped' | 'stopped' | 'diverged';

export interface TrainerCallbacks {
  onProgress?: (info: ProgressInfo) => void;
  onEvaluated?: (info: EvaluationInfo) => void;
  onLog?: (level: 'info' | 'warn', message: string) => void;
}

export interface TrainingSummary {
  reason: FinishReason;
  steps: number;
  bestStep: number | null;
  bestMetrics: Metrics | null;
  /** Weights at the end: best dev checkpoint when one exists, else the last (or last good) ones. */
  restored: 'best' | 'last' | 'initial';
  message: string;
}

/** Weights kept on the device: one clone per variable, same order as `namedParams`. */
type Snapshot = tf.Tensor[];

/** Inverse-frequency class weights normalised to mean 1 (sklearn's 'balanced'). */
export function balancedClassWeights(labels: readonly number[], numLabels: number): number[] {
  const counts = new Array<number>(numLabels).fill(0);
  for (const label of labels) if (label >= 0) counts[label]++;
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (c === 0 ? 0 : total / (numLabels * c)));
}

/** Turns a batch of plain arrays into input tensors [B, T]. Caller disposes. */
export function batchToTensors(batch: Batch): BertInputs & { labels: tf.Tensor1D } {
  const shape: [number, number] = [batch.batchSize, batch.seqLen];
  return {
    inputIds: tf.tensor2d(batch.inputIds, shape, 'int32'), // [B, T]
    tokenTypeIds: tf.tensor2d(batch.tokenTypeIds, shape, 'int32'), // [B, T]
    attentionMask: tf.tensor2d(batch.attentionMask, shape, 'int32'), // [B, T]
    labels: tf.tensor1d(batch.labels, 'int32'), // [B]
  };
}

/** Mean (optionally class-weighted) softmax cross-entropy: logits [B, L], labels [B]. */
export function classificationLoss(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  classWeights: tf.Tensor1D | null,
): tf.Scalar {
  return tf.tidy(() => {
    const numLabels = logits.shape[1];
    const logProbs = tf.logSoftmax(logits, -1); // [B, L]
    const oneHot = tf.oneHot(labels, numLabels).toFloat(); // [B, L]
    const nll = tf.neg(tf.sum(tf.mul(oneHot, logProbs), -1)); // [B]
    if (!classWeights) return tf.mean(nll) as tf.Scalar;
    // PyTorch CrossEntropyLoss(weight=w): sum(w[y]·nll) / sum(w[y]).
    const w = tf.gather(classWeights, labels); // [B]
    return tf.div(tf.sum(tf.mul(w, nll)), tf.maximum(tf.sum(w), 1e-12)) as tf.Scalar;
  });
}

export class ClassifierTrainer {
  readonly totalSteps: number;
  readonly stepsPerEpoch: number;
  private readonly named: NamedVariable[];
  private readonly optimizer: AdamW;
  private readonly schedule: (step: number) => number;
  private readonly classWeights: tf.Tensor1D | null;
  private readonly options: Required<Omit<TrainerOptions, 'classWeights'>>;
  private readonly batchPlan: Batch[] | null;
  private epochBatches: Batch[] = [];
  private batchCursor = 0;
  private epoch = 0;
  private stepCount = 0;
  private pendingLosses: { step: number; loss: tf.Scalar }[] = [];
  private lastLossStep = 0;
  private best: { snapshot: Snapshot; step: number; metrics: Metrics } | null = null;
  private initial: Snapshot | null = null;
  private evalsWithoutImprovement = 0;
  private examplesSinceReport = 0;
  private reportStartedAt = performance.now();
  private readonly startedAt = performance.now();
  private examplesDone = 0;
  private finished: TrainingSummary | null = null;
  private disposed = false;

  constructor(
    private readonly params: BertParams,
    private readonly config: BertConfig,
    private readonly labels: readonly string[],
    private readonly train: readonly EncodedExample[],
    private readonly dev: readonly EncodedExample[],
    options: TrainerOptions,
    private readonly callbacks: TrainerCallbacks = {},
    extras: TrainerExtras = {},
  ) {
    if (train.length === 0)
      throw new EngineError(
        'TRAIN_NO_EXAMPLES',
        'There are no labeled training examples. Add labeled rows and try again.',
      );
    for (const [i, example] of train.entries()) {
      if (example.label < 0 || example.label >= labels.length) {
        throw new EngineError(
          'TRAIN_BAD_LABEL',
          `Training example ${i + 1} has label index ${example.label}, but the model has ${labels.length} labels.`,
        );
      }
    }
    if (config.id2label && Object.keys(config.id2label).length !== labels.length) {
      throw new EngineError(
        'TRAIN_LABEL_MISMATCH',
        `The classifier head has ${Object.keys(config.id2label).length} outputs but the data has ${labels.length} labels.`,
      );
    }
    this.options = {
      weightDecay: 0.01,
      warmupRatio: 0.1,
      maxGradNorm: 1.0,
      gradAccumSteps: 1,
      dropout: true,
      evalEvery: 0,
      patience: 0,
      lossReadEvery: 4,
      schedule: 'linear',
      ...options,
    };
    this.batchPlan = extras.batchPlan ?? null;
    const microBatches = this.batchPlan ? this.batchPlan.length : Math.ceil(train.length / this.options.batchSize);
    this.stepsPerEpoch = Math.max(1, Math.ceil(microBatches / this.options.gradAccumSteps));
    this.totalSteps = this.stepsPerEpoch * this.options.epochs;
    // The MLM head is not in the classification loss: like PyTorch parameters without gradients it
    // is neither updated nor decayed (the tied decoder is the word embedding, which is trained).
    this.named = namedParams(params, config).filter((p) => p.group !== 'mlm');
    this.optimizer = new AdamW(
      this.named.map((p) => ({ name: p.name, variable: p.variable })),
      { weightDecay: this.options.weightDecay, maxGradNorm: this.options.maxGradNorm },
    );
    this.schedule = makeLrSchedule({
      kind: this.options.schedule,
      peakLr: this.options.learningRate,
      totalSteps: this.totalSteps,
      warmupRatio: this.options.schedule === 'linear' ? this.options.warmupRatio : 0,
    });
    this.classWeights = options.classWeights ? tf.keep(tf.tensor1d(options.classWeights)) : null;
    this.initial = this.snapshot();
  }

  get step(): number {
    return this.stepCount;
  }

  get isFinished(): boolean {
    return this.finished !== null;
  }

  get summary(): TrainingSummary | null {
    return this.finished;
  }

  private snapshot(): Snapshot {
    return this.named.map((p) => tf.keep(p.variable.clone()));
  }

  private restore(snapshot: Snapshot): void {
    this.named.forEach((p, i) => p.variable.assign(snapshot[i]));
  }

  private nextBatch(): Batch | null {
    if (this.batchCursor >= this.epochBatches.length) {
      if (this.epoch >= this.options.epochs) return null;
      this.epoch += 1;
      this.batchCursor = 0;
      this.epochBatches =
        this.batchPlan ??
        makeBatches(this.train, {
          batchSize: this.options.batchSize,
          maxLength: this.options.maxLength,
          seed: this.options.seed,
          epoch: this.epoch,
        });
    }
    return this.epochBatches[this.batchCursor++] ?? null;
  }

  /** Runs one optimizer step; returns false when training is over (then call `finish`). */
  async runStep(): Promise<boolean> {
    if (this.finished || this.disposed) return false;
    if (this.stepCount >= this.totalSteps) return false;
    const micro: Batch[] = [];
    for (let i = 0; i < this.options.gradAccumSteps; i++) {
      // Accumulation never crosses an epoch boundary, so epoch-end evaluation sees whole epochs.
      if (i > 0 && this.batchCursor >= this.epochBatches.length) break;
      const batch = this.nextBatch();
      if (!batch) break;
      micro.push(batch);
    }
    if (micro.length === 0) return false;

    const lr = this.schedule(this.stepCount);
    const variables = this.named.map((p) => p.variable);
    const dropoutSeed = this.options.dropout ? this.options.seed * 100_003 + this.stepCount * 31 + 1 : undefined;
    const [loss, gradNorm] = tf.tidy((): tf.Tensor[] => {
      let lossSum: tf.Tensor | null = null;
      let gradSums: tf.Tensor[] | null = null;
      for (const [m, batch] of micro.entries()) {
        const inputs = batchToTensors(batch);
        const { value, grads } = tf.variableGrads(() => {
          const out = bertForSequenceClassification(this.params, this.config, inputs, {
            training: this.options.dropout,
            dropoutSeed: dropoutSeed === undefined ? undefined : dropoutSeed + m,
          });
          return classificationLoss(out.logits, inputs.labels, this.classWeights);
        }, variables);
        const scaled = micro.length > 1 ? tf.div(value, micro.length) : value;
        lossSum = lossSum ? tf.add(lossSum, scaled) : scaled;
        const list = variables.map((v) => grads[v.name]);
        gradSums = gradSums
          ? gradSums.map((g, i) => tf.add(g, micro.length > 1 ? tf.div(list[i], micro.length) : list[i]))
          : list.map((g) => (micro.length > 1 ? tf.div(g, micro.length) : g));
      }
      const named: tf.NamedTensorMap = {};
      this.named.forEach((p, i) => (named[p.name] = gradSums![i]));
      const result = this.optimizer.step(named, lr);
      return result.gradNorm ? [lossSum!, result.gradNorm] : [lossSum!];
    });
    gradNorm?.dispose();
    this.stepCount += 1;
    this.pendingLosses.push({ step: this.stepCount, loss: loss as tf.Scalar });
    const examples = micro.reduce((n, b) => n + b.batchSize, 0);
    this.examplesSinceReport += examples;
    this.examplesDone += examples;

    const epochEnded = this.batchCursor >= this.epochBatches.length || this.stepCount >= this.totalSteps;
    const dueEval = (this.options.evalEvery > 0 && this.stepCount % this.options.evalEvery === 0) || epochEnded;
    const dueLoss =
      this.stepCount - this.lastLossStep >= this.options.lossReadEvery || dueEval || this.stepCount >= this.totalSteps;
    if (dueLoss) {
      const ok = await this.reportLosses(lr, this.epoch);
      if (!ok) return false;
    }
    if (dueEval && this.dev.length > 0) {
      await this.evaluateAndTrack();
      if (this.finished) return false;
    }
    return this.stepCount < this.totalSteps;
  }

  /** Reads pending losses (one async readback), reports progress; false when training diverged. */
  private async reportLosses(lr: number, epoch: number): Promise<boolean> {
    const pending = this.pendingLosses;
    this.pendingLosses = [];
    this.lastLossStep = this.stepCount;
    if (pending.length === 0) return true;
    const stacked = tf.stack(pending.map((p) => p.loss)); // [n]
    const values = await stacked.data();
    stacked.dispose();
    pending.forEach((p) => p.loss.dispose());
    const losses = pending.map((p, i) => ({ step: p.step, loss: values[i] }));
    const bad = losses.find((l) => !Number.isFinite(l.loss));
    if (bad) {
      this.diverge(bad.step, bad.loss);
      return false;
    }
    const now = performance.now();
    const seconds = Math.max(1e-3, (now - this.reportStartedAt) / 1000);
    const examplesPerSecond = this.examplesSinceReport / seconds;
    const overallRate = this.stepCount / Math.max(1e-3, (now - this.startedAt) / 1000);
    this.examplesSinceReport = 0;
    this.reportStartedAt = now;
    this.callbacks.onProgress?.({
      step: this.stepCount,
      totalSteps: this.totalSteps,
      epoch,
      epochs: this.options.epochs,
      loss: losses.reduce((s, l) => s + l.loss, 0) / losses.length,
      losses,
      learningRate: lr,
      examplesPerSecond,
      etaSeconds: (this.totalSteps - this.stepCount) / Math.max(1e-9, overallRate),
    });
    return true;
  }

  private diverge(step: number, loss: number): void {
    const source = this.best ? 'best' : 'initial';
    this.restore(this.best ? this.best.snapshot : this.initial!);
    const lower = (this.options.learningRate / 10).toExponential(0);
    this.finished = {
      reason: 'diverged',
      steps: this.stepCount,
      bestStep: this.best?.step ?? null,
      bestMetrics: this.best?.metrics ?? null,
      restored: source,
      message:
        `Training stopped at step ${step}: the loss became ${Number.isNaN(loss) ? 'NaN' : loss > 0 ? 'infinite' : '-infinite'}. ` +
        `The ${source === 'best' ? `best weights (step ${this.best!.step})` : 'weights from before training'} were restored. ` +
        `Try a lower learning rate (e.g. ${lower}) or turn gradient clipping on.`,
    };
    this.callbacks.onLog?.('warn', this.finished.message);
  }

  private async evaluateAndTrack(): Promise<void> {
    const metrics = await this.evaluate(this.dev);
    const isBest = !this.best || metrics.macroF1 > this.best.metrics.macroF1;
    if (isBest) {
      if (this.best) tf.dispose(this.best.snapshot);
      this.best = { snapshot: this.snapshot(), step: this.stepCount, metrics };
      this.evalsWithoutImprovement = 0;
    } else {
      this.evalsWithoutImprovement += 1;
    }
    this.callbacks.onEvaluated?.({ step: this.stepCount, epoch: this.epoch, metrics, isBest });
    if (
      this.options.patience > 0 &&
      this.evalsWithoutImprovement >= this.options.patience &&
      this.stepCount < this.totalSteps
    ) {
      this.finishWith('early-stopped', `No dev macro-F1 improvement in ${this.options.patience} evaluations.`);
    }
  }

  /** Class probabilities for examples [N, L] (no dropout), batched by length. */
  async predictProbabilities(examples: readonly EncodedExample[]): Promise<Float32Array> {
    return predictClassProbabilities(
      this.params,
      this.config,
      examples,
      this.options.batchSize * 2,
      this.options.maxLength,
    );
  }

  async evaluate(examples: readonly EncodedExample[]): Promise<Metrics> {
    const probs = await this.predictProbabilities(examples);
    const L = this.labels.length;
    const rows: number[][] = [];
    for (let i = 0; i < examples.length; i++) rows.push(Array.from(probs.subarray(i * L, (i + 1) * L)));
    return computeMetrics(
      examples.map((e) => e.label),
      rows,
      [...this.labels],
    );
  }

  private finishWith(reason: FinishReason, message: string): void {
    let restored: TrainingSummary['restored'] = 'last';
    if (this.best) {
      this.restore(this.best.snapshot);
      restored = 'best';
    }
    this.finished = {
      reason,
      steps: this.stepCount,
      bestStep: this.best?.step ?? null,
      bestMetrics: this.best?.metrics ?? null,
      restored,
      message:
        restored === 'best'
          ? `${message} Restored the best weights (step ${this.best!.step}, dev macro-F1 ${this.best!.metrics.macroF1.toFixed(3)}).`
          : message,
    };
  }

  /** Ends training (completed, or stopped by the user) and restores the best weights. Idempotent. */
  async finish(reason: 'completed' | 'stopped' = 'completed'): Promise<TrainingSummary> {
    if (!this.finished) {
      if (this.pendingLosses.length > 0)
        await this.reportLosses(this.schedule(Math.max(0, this.stepCount - 1)), this.epoch);
    }
    if (!this.finished) {
      this.finishWith(
        reason,
        reason === 'stopped'
          ? `Stopped by the user after ${this.stepCount} steps.`
          : `Finished ${this.stepCount} steps.`,
      );
    }
    return this.finished!;
  }

  /** Frees optimizer state and snapshots (not the model's parameters). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.optimizer.dispose();
    this.pendingLosses.forEach((p) => p.loss.dispose());
    this.pendingLosses = [];
    if (this.best) tf.dispose(this.best.snapshot);
    if (this.initial) tf.dispose(this.initial);
    this.classWeights?.dispose();
    this.best = null;
    this.initial = null;
  }
}

/** Class probabilities [N·L] (row-major) for encoded examples, batched by length, no dropout. */
export async function predictClassProbabilities(
  params: BertParams,
  config: BertConfig,
  examples: readonly EncodedExample[],
  batchSize: number,
  maxLength: number,
): Promise<Float32Array> {
  const L = Object.keys(config.id2label ?? {}).length || params.classifier.b.shape[0];
  const out = new Float32Array(examples.length * L);
  const batches = makeBatches(examples, { batchSize, maxLength, shuffle: false, seed: 0, epoch: 0 });
  for (const batch of batches) {
    const probs = tf.tidy(() => {
      const inputs = batchToTensors(batch);
      const { logits } = bertForSequenceClassification(params, config, inputs, { training: false }); // [B, L]
      return tf.softmax(logits, -1); // [B, L]
    });
    const values = await probs.data();
    probs.dispose();
    batch.indices.forEach((exampleIndex, row) => out.set(values.subarray(row * L, (row + 1) * L), exampleIndex * L));
  }
  return out;
}
