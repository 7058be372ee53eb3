/**
 * PromptTrainer: LM-BFF prompt-based fine-tuning. Each example is rendered through the template;
 * the loss is softmax cross-entropy over the verbalizer scores at the [MASK] (per-label log mean
 * label-word probability, zero-shot.ts), so training starts from the zero-shot classifier instead of
 * a fresh head. The whole encoder and the MLM head are trained (the tied decoder is the word
 * embedding); pooler and classifier are not in the graph and stay untouched.
 *
 * Same loop features as train/trainer.ts ClassifierTrainer (composed, not subclassed): AdamW with
 * decoupled decay and global-norm clipping, warmup + linear decay, async loss readback every few
 * steps, dev evaluation each epoch (and every `evalEvery` steps) with best-weights restore, early
 * stopping, seeded batch order and dropout, divergence guard.
 *
 * Optional PET auxiliary MLM loss (`auxMlm`): each step also masks ~15 % of the tokens of a batch of
 * unlabeled texts (always with [MASK], at least one per row; a simple version of BERT's 80/10/10)
 * and adds `weight × MLM cross-entropy` to the loss.
 */
import * as tf from '@tensorflow/tfjs';
import {
  bertEncoder,
  gatherPositions,
  mlmLogitsRows,
  namedParams,
  type BertConfig,
  type BertParams,
  type NamedVariable,
} from '../bert';
import { EngineError } from '../errors';
import { makeBatches, type Batch, type EncodedExample } from '../train/batches';
import { computeMetrics, type Metrics } from '../train/metrics';
import { AdamW } from '../train/optim';
import { makeLrSchedule } from '../train/schedule';
import type {
  EvaluationInfo,
  FinishReason,
  ProgressInfo,
  TrainerCallbacks,
  TrainerOptions,
  TrainingSummary,
} from '../train/trainer';
import { Rng } from '../util/rng';
import type { Verbalizer } from './verbalizer';
import {
  batchMaskPositions,
  labelAverager,
  promptLabelScores,
  promptProbabilities,
  type PromptExample,
} from './zero-shot';

export type { EvaluationInfo, FinishReason, ProgressInfo, TrainerCallbacks, TrainingSummary };

export interface AuxMlmOptions {
  /** Tokenized unlabeled texts ([CLS] … [SEP], ≤ maxLength); labels ignored. */
  examples: readonly EncodedExample[];
  /** Weight of the MLM loss added to the prompt loss. Default 0.1. */
  weight?: number;
  /** Fraction of non-special tokens masked. Default 0.15. */
  maskProb?: number;
  maskTokenId: number;
  /** Ids never masked ([CLS], [SEP], [PAD]). */
  specialIds: readonly number[];
}

export interface PromptTrainerOptions extends Omit<TrainerOptions, 'classWeights'> {
  auxMlm?: AuxMlmOptions | null;
}

type Snapshot = tf.Tensor[];

export class PromptTrainer {
  readonly totalSteps: number;
  readonly stepsPerEpoch: number;
  private readonly named: NamedVariable[];
  private readonly optimizer: AdamW;
  private readonly schedule: (step: number) => number;
  private readonly options: Required<Omit<PromptTrainerOptions, 'auxMlm'>>;
  private readonly wordIds: tf.Tensor1D;
  private readonly averager: tf.Tensor2D;
  private readonly aux: (AuxMlmOptions & { rng: Rng; cursor: number; order: number[] }) | null;
  private epochBatches: Batch[] = [];
  private batchCursor = 0;
  private epoch = 0;
  private stepCount = 0;
  private pendingLosses: { step: number; loss: tf.Scalar }[] = [];
  private lastLossStep = 0;
  private best: { snapshot: Snapshot; step: number; metrics: Metrics } | null = null;
  private initial: Snapshot | null = null;
  private evalsWithoutImprovement = 0;
  private readonly startedAt = performance.now();
  private reportStartedAt = performance.now();
  private examplesSinceReport = 0;
  private finished: TrainingSummary | null = null;
  private disposed = false;

  constructor(
    private readonly params: BertParams,
    private readonly config: BertConfig,
    private readonly verbalizer: Verbalizer,
    private readonly train: readonly PromptExample[],
    private readonly dev: readonly PromptExample[],
    options: PromptTrainerOptions,
    private readonly callbacks: TrainerCallbacks = {},
  ) {
    const L = verbalizer.labels.length;
    if (train.length === 0)
      throw new EngineError(
        'TRAIN_NO_EXAMPLES',
        'There are no labeled training examples. Add labeled rows and try again.',
      );
    for (const [i, ex] of [...train, ...dev].entries()) {
      if (ex.label < 0 || ex.label >= L)
        throw new EngineError(
          'TRAIN_BAD_LABEL',
          `Example ${i + 1} has label index ${ex.label}, but the verbalizer has ${L} labels.`,
        );
      if (!(ex.maskPosition > 0 && ex.maskPosition < ex.inputIds.length))
        throw new EngineError(
          'PROMPT_BAD_EXAMPLE',
          `Example ${i + 1} has no [MASK] position inside its ${ex.inputIds.length} tokens; render it with encodePromptExamples.`,
        );
    }
    const { auxMlm, ...rest } = options;
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
      ...rest,
    };
    if (this.options.gradAccumSteps !== 1)
      throw new EngineError(
        'TRAIN_BAD_OPTIONS',
        'PromptTrainer does not support gradient accumulation yet; use gradAccumSteps 1 (few-shot batches are small).',
      );
    this.stepsPerEpoch = Math.max(1, Math.ceil(train.length / this.options.batchSize));
    this.totalSteps = this.stepsPerEpoch * this.options.epochs;
    this.named = namedParams(params, config).filter((p) => p.group === 'encoder' || p.group === 'mlm');
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
    this.wordIds = tf.keep(tf.tensor1d(verbalizer.wordIds, 'int32'));
    this.averager = tf.keep(labelAverager(verbalizer));
    this.aux =
      auxMlm && auxMlm.examples.length > 0
        ? { ...auxMlm, rng: new Rng(this.options.seed).fork('aux-mlm'), cursor: 0, order: [] }
        : null;
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
      this.epochBatches = makeBatches(this.train, {
        batchSize: this.options.batchSize,
        maxLength: this.options.maxLength,
        seed: this.options.seed,
        epoch: this.epoch,
      });
    }
    return this.epochBatches[this.batchCursor++] ?? null;
  }

  /** A masked batch of unlabeled texts: input tensors, flat masked positions and their true ids. */
  private auxBatch(): { batch: Batch; positions: Int32Array; targets: Int32Array } {
    const aux = this.aux!;
    const rows: EncodedExample[] = [];
    for (let i = 0; i < this.options.batchSize; i++) {
      if (aux.cursor >= aux.order.length) {
        aux.order = aux.rng.shuffle(Array.from({ length: aux.examples.length }, (_, k) => k));
        aux.cursor = 0;
      }
      rows.push(aux.examples[aux.order[aux.cursor++]]);
    }
    const [batch] = makeBatches(rows, { batchSize: rows.length, maxLength: this.options.maxLength, shuffle: false });
    const special = new Set(aux.specialIds);
    const positions: number[] = [];
    const targets: number[] = [];
    const p = aux.maskProb ?? 0.15;
    for (let b = 0; b < batch.batchSize; b++) {
      const candidates: number[] = [];
      for (let t = 0; t < batch.seqLen; t++) {
        const at = b * batch.seqLen + t;
        if (batch.attentionMask[at] === 1 && !special.has(batch.inputIds[at])) candidates.push(at);
      }
      let chosen = candidates.filter(() => aux.rng.nextFloat() < p);
      if (chosen.length === 0 && candidates.length > 0) chosen = [candidates[aux.rng.nextInt(candidates.length)]];
      for (const at of chosen) {
        positions.push(at);
        targets.push(batch.inputIds[at]);
        batch.inputIds[at] = aux.maskTokenId;
      }
    }
    return { batch, positions: Int32Array.from(positions), targets: Int32Array.from(targets) };
  }

  /** Runs one optimizer step; false when training is over (then call `finish`). */
  async runStep(): Promise<boolean> {
    if (this.finished || this.disposed || this.stepCount >= this.totalSteps) return false;
    const batch = this.nextBatch();
    if (!batch) return false;
    const aux = this.aux ? this.auxBatch() : null;
    const lr = this.schedule(this.stepCount);
    const variables = this.named.map((p) => p.variable);
    const dropoutSeed = this.options.dropout ? this.options.seed * 100_003 + this.stepCount * 31 + 1 : undefined;
    const [loss, gradNorm] = tf.tidy((): tf.Tensor[] => {
      const shape: [number, number] = [batch.batchSize, batch.seqLen];
      const inputs = {
        inputIds: tf.tensor2d(batch.inputIds, shape, 'int32'), // [B, T]
        tokenTypeIds: tf.tensor2d(batch.tokenTypeIds, shape, 'int32'), // [B, T]
        attentionMask: tf.tensor2d(batch.attentionMask, shape, 'int32'), // [B, T]
      };
      const flatMask = tf.tensor1d(batchMaskPositions(batch, this.train), 'int32'); // [B]
      const labels = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), this.verbalizer.labels.length).toFloat(); // [B, L]
      const auxInputs =
        aux && aux.positions.length > 0
          ? {
              inputIds: tf.tensor2d(aux.batch.inputIds, [aux.batch.batchSize, aux.batch.seqLen], 'int32'), // [Bu, Tu]
              attentionMask: tf.tensor2d(aux.batch.attentionMask, [aux.batch.batchSize, aux.batch.seqLen], 'int32'), // [Bu, Tu]
              positions: tf.tensor1d(aux.positions, 'int32'), // [M]
              targets: tf.oneHot(tf.tensor1d(aux.targets, 'int32'), this.config.vocab_size).toFloat(), // [M, V]
            }
          : null;
      const { value, grads } = tf.variableGrads(() => {
        const scores = promptLabelScores(this.params, this.config, inputs, flatMask, this.wordIds, this.averager, {
          training: this.options.dropout,
          dropoutSeed,
        }); // [B, L]
        let loss = tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(scores, -1)), -1))) as tf.Scalar;
        if (auxInputs) {
          const hidden = bertEncoder(this.params, this.config, auxInputs, {
            training: this.options.dropout,
            dropoutSeed: dropoutSeed === undefined ? undefined : dropoutSeed + 0.25,
          }); // [Bu, Tu, H]
          const logits = mlmLogitsRows(this.params, this.config, gatherPositions(hidden, auxInputs.positions)); // [M, V]
          const mlm = tf.neg(tf.mean(tf.sum(tf.mul(auxInputs.targets, tf.logSoftmax(logits, -1)), -1)));
          loss = tf.add(loss, tf.mul(mlm, this.aux!.weight ?? 0.1)) as tf.Scalar;
        }
        return loss;
      }, variables);
      const named: tf.NamedTensorMap = {};
      this.named.forEach((p) => (named[p.name] = grads[p.variable.name]));
      const result = this.optimizer.step(named, lr);
      return result.gradNorm ? [value, result.gradNorm] : [value];
    });
    gradNorm?.dispose();
    this.stepCount += 1;
    this.pendingLosses.push({ step: this.stepCount, loss: loss as tf.Scalar });
    this.examplesSinceReport += batch.batchSize;

    const epochEnded = this.batchCursor >= this.epochBatches.length || this.stepCount >= this.totalSteps;
    const dueEval = (this.options.evalEvery > 0 && this.stepCount % this.options.evalEvery === 0) || epochEnded;
    const dueLoss = this.stepCount - this.lastLossStep >= this.options.lossReadEvery || dueEval;
    if (dueLoss && !(await this.reportLosses(lr))) return false;
    if (dueEval && this.dev.length > 0) {
      await this.evaluateAndTrack();
      if (this.finished) return false;
    }
    return this.stepCount < this.totalSteps;
  }

  /** Runs every step, then `finish()`. */
  async run(): Promise<TrainingSummary> {
    while (await this.runStep()) {
      /* steps */
    }
    return this.finish();
  }

  private async reportLosses(lr: number): Promise<boolean> {
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
      const source = this.best ? 'best' : 'initial';
      this.restore(this.best ? this.best.snapshot : this.initial!);
      this.finished = {
        reason: 'diverged',
        steps: this.stepCount,
        bestStep: this.best?.step ?? null,
        bestMetrics: this.best?.metrics ?? null,
        restored: source,
        message: `Training stopped at step ${bad.step}: the loss became ${bad.loss}. The ${source} weights were restored. Try a lower learning rate (e.g. ${(this.options.learningRate / 10).toExponential(0)}).`,
      };
      this.callbacks.onLog?.('warn', this.finished.message);
      return false;
    }
    const now = performance.now();
    const rate = this.stepCount / Math.max(1e-3, (now - this.startedAt) / 1000);
    this.callbacks.onProgress?.({
      step: this.stepCount,
      totalSteps: this.totalSteps,
      epoch: this.epoch,
      epochs: this.options.epochs,
      loss: losses.reduce((s, l) => s + l.loss, 0) / losses.length,
      losses,
      learningRate: lr,
      examplesPerSecond: this.examplesSinceReport / Math.max(1e-3, (now - this.reportStartedAt) / 1000),
      etaSeconds: (this.totalSteps - this.stepCount) / Math.max(1e-9, rate),
    });
    this.examplesSinceReport = 0;
    this.reportStartedAt = now;
    return true;
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

  /** Label probabilities [N·L] for prompt examples (no dropout). */
  predictProbabilities(examples: readonly PromptExample[]): Promise<Float32Array> {
    return promptProbabilities(this.params, this.config, examples, this.verbalizer, {
      batchSize: this.options.batchSize * 2,
      maxLength: this.options.maxLength,
    });
  }

  async evaluate(examples: readonly PromptExample[]): Promise<Metrics> {
    const probs = await this.predictProbabilities(examples);
    return computeMetrics(
      examples.map((e) => e.label),
      probs,
      this.verbalizer.labels,
    );
  }

  private finishWith(reason: FinishReason, message: string): void {
    if (this.best) this.restore(this.best.snapshot);
    this.finished = {
      reason,
      steps: this.stepCount,
      bestStep: this.best?.step ?? null,
      bestMetrics: this.best?.metrics ?? null,
      restored: this.best ? 'best' : 'last',
      message: this.best
        ? `${message} Restored the best weights (step ${this.best.step}, dev macro-F1 ${this.best.metrics.macroF1.toFixed(3)}).`
        : message,
    };
  }

  /** Ends training and restores the best dev weights. Idempotent. */
  async finish(reason: 'completed' | 'stopped' = 'completed'): Promise<TrainingSummary> {
    if (!this.finished && this.pendingLosses.length > 0)
      await this.reportLosses(this.schedule(Math.max(0, this.stepCount - 1)));
    if (!this.finished)
      this.finishWith(
        reason,
        reason === 'stopped'
          ? `Stopped by the user after ${this.stepCount} steps.`
          : `Finished ${this.stepCount} steps.`,
      );
    return this.finished!;
  }

  /** Frees optimizer state, snapshots and constants (not the model's parameters). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.optimizer.dispose();
    this.pendingLosses.forEach((p) => p.loss.dispose());
    this.pendingLosses = [];
    if (this.best) tf.dispose(this.best.snapshot);
    if (this.initial) tf.dispose(this.initial);
    tf.dispose([this.wordIds, this.averager]);
    this.best = null;
    this.initial = null;
  }
}
