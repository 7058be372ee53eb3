/**
 * What a training method plugs into the one training loop (./loop.ts): its trainable parameters,
 * where its batches come from, its loss for one batch and its evaluation. Everything else —
 * schedule, accumulation, clipping, AdamW, loss readback, divergence guard, best snapshot, early
 * stopping, pause/stop, progress and the loop's state — belongs to the loop
 * (docs/ARCHITECTURE.md, "The training loop and its methods").
 */
import type * as tf from '@tensorflow/tfjs';
import type { NamedVariable } from '../bert/params';

/** Plain JSON, as stored in a loop state. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Values that must match for a saved loop state to continue a run exactly. */
export type Fingerprint = Record<string, string | number | boolean>;

/**
 * A deterministic stream of micro-batches. Its whole position is `getState()`: restoring it gives
 * the same batches from there on.
 */
export interface BatchSource<TBatch> {
  /** Micro-batches per epoch, or null for an endless stream (masked-LM pretraining). */
  readonly batchesPerEpoch: number | null;
  /** 1-based epoch of the last batch handed out (0 before the first). */
  readonly epoch: number;
  /** Epochs in the run, or null for a stream. */
  readonly epochs: number | null;
  /** True right after the last batch of an epoch was handed out. */
  readonly atEpochEnd: boolean;
  /** The next micro-batch, or null when the data is exhausted. */
  next(): Promise<TBatch | null>;
  getState(): JsonValue;
  setState(state: JsonValue): void;
  /** Frees what the source holds open (files, streams). */
  close?(): void;
}

/** How a loss is computed for one micro-batch. */
export interface ForwardContext {
  /** Dropout on (training) or off (golden parity runs). */
  training: boolean;
  /** Seed of this micro-batch's dropout masks; undefined when dropout is off. */
  dropoutSeed?: number;
}

/** One evaluation: the method's metrics and the number the loop ranks checkpoints by. */
export interface Evaluation<TMetrics> {
  metrics: TMetrics;
  /** Higher is better (macro-F1 for classification, minus the held-out loss for masked LM). */
  score: number;
  /**
   * Held-out rows a classification score was computed on. Below SMALL_DEV_ROWS (util/stats.ts)
   * the loop keeps the last weights instead of the best-scoring ones; absent for scores that do
   * not move in steps of 1/rows (masked-LM loss).
   */
  rows?: number;
}

export interface TrainingObjective<TBatch, TMetrics> {
  /** Method name, stored in loop states ('head', 'prompt', 'mlm', ...). */
  readonly kind: string;
  /** What `Evaluation.score` measures, for messages (e.g. 'dev macro-F1'). */
  readonly scoreName: string;
  /** The parameters this method trains, by Hugging Face name; the others stay frozen. */
  readonly parameters: readonly NamedVariable[];
  readonly data: BatchSource<TBatch>;
  /**
   * Uploads one micro-batch and returns the function whose value is its mean loss; the loop
   * differentiates that function (`tf.variableGrads`). Called inside the step's `tf.tidy`, so the
   * inputs made here live through the backward pass and are freed with the step.
   */
  lossFor(batch: TBatch, context: ForwardContext): () => tf.Scalar;
  /** Examples and real (non-padding) tokens in a batch, for throughput. */
  size(batch: TBatch): { examples: number; tokens: number };
  /** Evaluates on the method's held-out data; null when it has none. */
  evaluate(): Promise<Evaluation<TMetrics> | null>;
  /** What changes the trajectory besides the loop's own options (data, labels, lengths...). */
  fingerprint(): Fingerprint;
  /** Method state beyond the batch source (e.g. an auxiliary RNG), as JSON. */
  getState?(): JsonValue;
  setState?(state: JsonValue): void;
  /** Frees the method's own tensors (not the model's parameters). */
  dispose(): void;
}

/** Resolved loop settings (train/defaults.ts has the defaults and where they come from). */
export interface LoopOptions {
  /** Optimizer steps in the whole run; the schedule decays to 0 here. */
  totalSteps: number;
  /** Peak learning rate (after warmup). */
  learningRate: number;
  /** 'linear': warmup, then linear decay to 0; 'constant': warmup, then flat. */
  schedule: 'linear' | 'constant';
  warmupSteps: number;
  /** Decoupled weight decay (AdamW). */
  weightDecay: number;
  /** Global gradient-norm clip; 0 disables. */
  maxGradNorm: number;
  /** Micro-batches summed per optimizer step. */
  gradAccumSteps: number;
  /** Seed of the dropout masks (batch order and masking belong to the method's batch source). */
  seed: number;
  /** Dropout while training; golden parity runs switch it off. */
  dropout: boolean;
  /** Evaluate every N optimizer steps (0: only at epoch ends / the end, as below). */
  evalEvery: number;
  /** Also evaluate at the end of every epoch. */
  evalAtEpochEnd: boolean;
  /** Also evaluate after the last step. */
  evalAtEnd: boolean;
  /** Stop after this many evaluations without a better score (0: never stop early). */
  patience: number;
  /** Read losses back every N steps (one async readback for all of them). */
  lossReadEvery: number;
  /** Restore the best evaluated weights when the run ends. */
  keepBest: boolean;
  /** Keep the starting weights on the device until a best evaluation exists (a diverged run restores them). */
  keepInitial: boolean;
}
