/**
 * The SetFit method (Tunstall et al. 2022), stage one: contrastive fine-tuning of the encoder on
 * sentence pairs made from the few labeled examples. A pair of the same label has target 1, a pair
 * of different labels target 0, and the loss is CosineSimilarityLoss: the mean squared difference
 * between the cosine of the two pooled sentence embeddings and the target. The pooling is the
 * model's sentence-transformers pooling (masked mean by default; docs/ARCHITECTURE.md,
 * "Sentence-transformers folders"). AdamW, schedule, clipping and the rest are the one loop's
 * (docs/ARCHITECTURE.md, "The training loop and its methods"). Stage two, the logistic-regression
 * head on the embeddings, is plain JavaScript in ./logistic-regression.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { bertEncoder, sentencePool, type SentencePoolingMode } from '../bert/model';
import { namedParams, type BertParams, type NamedVariable } from '../bert/params';
import type { BertConfig } from '../bert/config';
import { EngineError } from '../errors';
import { packBatch, type Batch, type EncodedExample } from '../train/batches';
import { fineTuneLoopOptions, type FineTuneLoopSettings } from '../train/defaults';
import { TrainingLoop, type LoopCallbacks } from '../train/loop';
import type {
  BatchSource,
  Evaluation,
  Fingerprint,
  ForwardContext,
  JsonValue,
  TrainingObjective,
} from '../train/objective';
import { computeMetrics, type Metrics } from '../train/metrics';
import { hashString, Rng } from '../util/rng';
import { examplesFingerprint } from './classifier';
import {
  fitLogisticRegression,
  logisticRegressionProbabilities,
  type LogisticRegressionFit,
} from './logistic-regression';

// ---------------------------------------------------------------------------------------------
// Pairs
// ---------------------------------------------------------------------------------------------

/** Two training examples (indices) and the pair's target cosine: 1 same label, 0 different labels. */
export interface SetFitPair {
  a: number;
  b: number;
  target: 0 | 1;
}

export interface SetFitPairs {
  pairs: SetFitPair[];
  /** One sentence per class with a single example (it gets negative pairs only). */
  warnings: string[];
}

/**
 * SetFit's pair generation, as the paper describes it: for each of `iterations` rounds, for every
 * example in input order, one positive pair (the example and another example of its label, drawn
 * uniformly) and one negative pair (the example and an example of another label, drawn uniformly).
 * The partner of a positive pair is never the example itself (that pair's cosine is always 1 and
 * teaches nothing), so an example alone in its class gets negative pairs only, with a warning. Fewer
 * than two classes is refused: there would be no negative pair. Seeded; the same labels and seed give
 * the same pairs. `labels` are class indices (≥ 0); `classNames` only name classes in messages.
 */
export function generateSetFitPairs(
  labels: readonly number[],
  options: { iterations: number; seed: number; classNames?: readonly string[] },
): SetFitPairs {
  const { iterations, seed } = options;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new EngineError('SETFIT_BAD_SETTINGS', `SetFit needs at least 1 pair iteration, got ${iterations}.`);
  }
  if (labels.length === 0) {
    throw new EngineError(
      'TRAIN_NO_EXAMPLES',
      'There are no labeled training examples. Add labeled rows and try again.',
    );
  }
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    if (!Number.isInteger(label) || label < 0) {
      throw new EngineError('TRAIN_BAD_LABEL', `Training example ${i + 1} has no class (label index ${label}).`);
    }
    const members = byClass.get(label) ?? [];
    members.push(i);
    byClass.set(label, members);
  });
  const name = (label: number) =>
    options.classNames?.[label] !== undefined ? `"${options.classNames[label]}"` : `${label}`;
  if (byClass.size < 2) {
    throw new EngineError(
      'SETFIT_ONE_CLASS',
      `SetFit learns by contrasting classes, but every training example has the label ${name(labels[0])}. Add examples of at least one other label.`,
    );
  }
  const warnings = [...byClass.entries()]
    .filter(([, members]) => members.length === 1)
    .sort(([a], [b]) => a - b)
    .map(
      ([label]) =>
        `The label ${name(label)} has a single training example: it gets only negative pairs (nothing to pair it with as the same label). Add more examples of it for better results.`,
    );
  const rng = new Rng(seed).fork('setfit:pairs');
  const pairs: SetFitPair[] = [];
  for (let r = 0; r < iterations; r++) {
    for (let i = 0; i < labels.length; i++) {
      const same = byClass.get(labels[i])!;
      if (same.length > 1) {
        // Uniform over the other members: draw among length-1 and skip over i.
        const k = rng.nextInt(same.length - 1);
        const pos = same.indexOf(i);
        pairs.push({ a: i, b: same[k >= pos ? k + 1 : k], target: 1 });
      }
      // Uniform over all examples of other labels: draw among N - |same| by skipping the class.
      let k = rng.nextInt(labels.length - same.length);
      let j = 0;
      for (; j < labels.length; j++) {
        if (labels[j] === labels[i]) continue;
        if (k-- === 0) break;
      }
      pairs.push({ a: i, b: j, target: 0 });
    }
  }
  return { pairs, warnings };
}

/** SetFit paper: R = 20 pair iterations and one epoch over the pairs, batch size 16. */
export const SETFIT_PAPER_ITERATIONS = 20;
/** Pairs in a run are capped near this (a body step costs two forward passes per pair). */
export const SETFIT_MAX_PAIRS = 4000;
/** Below this many pairs the run takes more epochs (so the body sees at least ~this many pairs). */
export const SETFIT_MIN_PAIRS_SEEN = 640;

/**
 * Pair iterations R and body epochs from the data. Why: the paper's R = 20 and one epoch over the
 * pairs work at 8–64 examples per class; with many examples, 20 rounds of 2 pairs per example would
 * make a run grow linearly in the data for little gain (the paper's curves flatten), so R shrinks to
 * keep about SETFIT_MAX_PAIRS pairs (at least 1 round). With very few examples (e.g. 2 classes × 4),
 * 20 rounds make only ~320 pairs, 20 steps of 16, so the epochs grow until the body has seen about
 * SETFIT_MIN_PAIRS_SEEN pairs (the number 16 examples at R = 20 give), at most 4 epochs.
 */
export function setfitDefaults(nExamples: number): { iterations: number; epochs: number } {
  const pairsPerRound = 2 * Math.max(1, nExamples);
  const iterations = Math.max(1, Math.min(SETFIT_PAPER_ITERATIONS, Math.floor(SETFIT_MAX_PAIRS / pairsPerRound)));
  const pairs = iterations * pairsPerRound;
  const epochs = Math.min(4, Math.max(1, Math.ceil(SETFIT_MIN_PAIRS_SEEN / pairs)));
  return { iterations, epochs };
}

// ---------------------------------------------------------------------------------------------
// Batches and loss
// ---------------------------------------------------------------------------------------------

/** B pairs as one padded batch of 2B rows: rows 0..B-1 are the a sides, rows B..2B-1 the b sides. */
export interface PairBatch {
  batch: Batch;
  /** [B] target cosines. */
  targets: Float32Array;
}

/** Packs pairs of encoded examples into one PairBatch (padded to a multiple of 8, capped at maxLength). */
export function packPairs(
  examples: readonly EncodedExample[],
  pairs: readonly SetFitPair[],
  maxLength: number,
): PairBatch {
  const rows = [...pairs.map((p) => p.a), ...pairs.map((p) => p.b)];
  return { batch: packBatch(examples, rows, 8, maxLength, 0), targets: Float32Array.from(pairs, (p) => p.target) };
}

/**
 * CosineSimilarityLoss: mean over pairs of (cos(u, v) - target)², u, v [B, H], target [B]. The cosine
 * is u·v / sqrt(max(|u|²·|v|², 1e-16)), PyTorch's `cosine_similarity` with eps 1e-8.
 */
export function cosineSimilarityLoss(u: tf.Tensor2D, v: tf.Tensor2D, target: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const dot = tf.sum(tf.mul(u, v), 1); // [B]
    const norms = tf.mul(tf.sum(tf.square(u), 1), tf.sum(tf.square(v), 1)); // [B]
    const cos = tf.div(dot, tf.sqrt(tf.maximum(norms, 1e-16))); // [B]
    return tf.mean(tf.square(tf.sub(cos, target))) as tf.Scalar;
  });
}

/** Epochs over the pairs; each epoch a seeded shuffle of all pairs cut into batches of `batchSize` pairs. */
export class PairBatches implements BatchSource<PairBatch> {
  readonly batchesPerEpoch: number;
  readonly epochs: number;
  private order: number[] = [];
  private cursor = 0;
  private epochNumber = 0;

  constructor(
    private readonly examples: readonly EncodedExample[],
    readonly pairs: readonly SetFitPair[],
    private readonly options: { batchSize: number; maxLength: number; seed: number; epochs: number },
  ) {
    this.batchesPerEpoch = Math.ceil(pairs.length / options.batchSize);
    this.epochs = options.epochs;
  }

  get epoch(): number {
    return this.epochNumber;
  }

  get atEpochEnd(): boolean {
    return this.epochNumber > 0 && this.cursor >= this.batchesPerEpoch;
  }

  private orderOf(epoch: number): number[] {
    const order = Array.from({ length: this.pairs.length }, (_, i) => i);
    return new Rng(this.options.seed).fork(`setfit:epoch:${epoch}`).shuffle(order);
  }

  async next(): Promise<PairBatch | null> {
    if (this.epochNumber === 0 || this.cursor >= this.batchesPerEpoch) {
      if (this.epochNumber >= this.epochs) return null;
      this.epochNumber += 1;
      this.cursor = 0;
      this.order = this.orderOf(this.epochNumber);
    }
    const { batchSize, maxLength } = this.options;
    const chosen = this.order.slice(this.cursor * batchSize, (this.cursor + 1) * batchSize).map((k) => this.pairs[k]);
    this.cursor += 1;
    return packPairs(this.examples, chosen, maxLength);
  }

  getState(): JsonValue {
    return { epoch: this.epochNumber, cursor: this.cursor };
  }

  setState(state: JsonValue): void {
    const s = state as { epoch?: unknown; cursor?: unknown } | null;
    const epoch = s?.epoch as number;
    const cursor = s?.cursor as number;
    if (
      !Number.isInteger(epoch) ||
      !Number.isInteger(cursor) ||
      epoch < 0 ||
      epoch > this.epochs ||
      cursor < 0 ||
      cursor > this.batchesPerEpoch
    ) {
      throw new EngineError(
        'TRAIN_BAD_STATE',
        `The saved pair position ${JSON.stringify(state)} does not fit this run (${this.epochs} epochs of ${this.batchesPerEpoch} batches).`,
      );
    }
    this.epochNumber = epoch;
    this.cursor = cursor;
    this.order = epoch > 0 ? this.orderOf(epoch) : [];
  }
}

// ---------------------------------------------------------------------------------------------
// The objective
// ---------------------------------------------------------------------------------------------

export interface SetFitSettings extends FineTuneLoopSettings {
  /** Pair iterations R (see setfitDefaults). */
  iterations: number;
  /** Sentence pooling of the embeddings (the model's sentence-transformers pooling; default 'mean'). */
  pooling?: SentencePoolingMode;
  /** Label names, for messages only. */
  classNames?: readonly string[];
}

/** A text as the model takes it (a sentence, or a sentence pair). */
export interface SetFitText {
  text: string;
  textPair?: string | null;
}

/**
 * What scoring a SetFit model needs (docs/ARCHITECTURE.md, "SetFit"): SetFit's prediction is a
 * logistic-regression head on the embeddings, so a held-out score at step t fits that head on the
 * training rows' embeddings at step t and scores the dev rows with it — exactly what the model would
 * predict if training stopped there. `embed` must be the model's own pipeline (the one `predict` uses).
 */
export interface SetFitScoring {
  /** Pooled (and, where the pipeline says so, normalized) embeddings [N][H] with the current weights. */
  embed(inputs: readonly SetFitText[]): Promise<number[][]>;
  train: { inputs: readonly SetFitText[]; labels: readonly number[] };
  dev: { inputs: readonly SetFitText[]; labels: readonly number[] };
  /** Label names in class-index order. */
  labels: readonly string[];
  /** The head's inverse regularisation strength (scikit-learn's C). */
  C: number;
  /** Called with every head fitted while scoring, and the training embeddings it was fitted on. */
  onHead?(head: LogisticRegressionFit, trainEmbeddings: number[][]): void;
}

/** Fits SetFit's head on the training rows' current embeddings. */
export async function fitSetFitHead(
  scoring: SetFitScoring,
): Promise<{ head: LogisticRegressionFit; embeddings: number[][] }> {
  const embeddings = await scoring.embed(scoring.train.inputs); // [N][H]
  const head = fitLogisticRegression(embeddings, scoring.train.labels, scoring.labels.length, { C: scoring.C });
  scoring.onHead?.(head, embeddings);
  return { head, embeddings };
}

export class SetFitObjective implements TrainingObjective<PairBatch, Metrics> {
  readonly kind = 'setfit';
  readonly scoreName = 'dev macro-F1 (head fitted on the training embeddings at that step)';
  readonly parameters: NamedVariable[];
  readonly data: PairBatches;
  readonly warnings: string[];
  private readonly pooling: SentencePoolingMode;

  constructor(
    private readonly params: BertParams,
    private readonly config: BertConfig,
    private readonly train: readonly EncodedExample[],
    private readonly settings: SetFitSettings,
    private readonly scoring: SetFitScoring | null = null,
  ) {
    const { pairs, warnings } = generateSetFitPairs(
      train.map((e) => e.label),
      { iterations: settings.iterations, seed: settings.seed, classNames: settings.classNames },
    );
    this.warnings = warnings;
    this.pooling = settings.pooling ?? 'mean';
    // Only the encoder is in the graph: the pooler, MLM head and classifier stay as they are.
    this.parameters = namedParams(params, config).filter((p) => p.group === 'encoder');
    this.data = new PairBatches(train, pairs, settings);
  }

  lossFor({ batch, targets }: PairBatch, context: ForwardContext): () => tf.Scalar {
    const shape: [number, number] = [batch.batchSize, batch.seqLen];
    const inputs = {
      inputIds: tf.tensor2d(batch.inputIds, shape, 'int32'), // [2B, T]
      tokenTypeIds: tf.tensor2d(batch.tokenTypeIds, shape, 'int32'), // [2B, T]
      attentionMask: tf.tensor2d(batch.attentionMask, shape, 'int32'), // [2B, T]
    };
    const target = tf.tensor1d(targets); // [B]
    const B = targets.length;
    return () => {
      const hidden = bertEncoder(this.params, this.config, inputs, context); // [2B, T, H]
      const pooled = sentencePool(hidden, inputs.attentionMask, this.pooling); // [2B, H]
      // A Normalize module would not change a cosine, so it is left out here.
      const H = pooled.shape[1];
      const u = tf.slice(pooled, [0, 0], [B, H]); // [B, H]
      const v = tf.slice(pooled, [B, 0], [B, H]); // [B, H]
      return cosineSimilarityLoss(u, v, target);
    };
  }

  size({ batch }: PairBatch) {
    return { examples: batch.batchSize, tokens: batch.attentionMask.reduce((n, m) => n + m, 0) };
  }

  /** Dev metrics of the SetFit model as it would be now: a head fitted at this step, scored on dev. */
  async evaluate(): Promise<Evaluation<Metrics> | null> {
    if (!this.scoring || this.scoring.dev.inputs.length === 0) return null;
    const metrics = await this.evaluateInputs(this.scoring.dev.inputs, this.scoring.dev.labels);
    return { metrics, score: metrics.macroF1, rows: this.scoring.dev.inputs.length };
  }

  /** Metrics on any labeled texts (class indices) with a head fitted on the current embeddings. */
  async evaluateInputs(inputs: readonly SetFitText[], labels: readonly number[]): Promise<Metrics> {
    if (!this.scoring)
      throw new EngineError('INTERNAL', 'internal: this SetFit run was built without a way to score it');
    const { head } = await fitSetFitHead(this.scoring);
    const probs = logisticRegressionProbabilities(head, await this.scoring.embed(inputs)); // [N][L]
    return computeMetrics(labels, probs, this.scoring.labels);
  }

  fingerprint(): Fingerprint {
    const s = this.settings;
    const pairs = this.data.pairs.map((p) => `${p.a},${p.b},${p.target}`).join(' ');
    return {
      train: examplesFingerprint(this.train),
      pairs: `${this.data.pairs.length}:${hashString(pairs).toString(16)}`,
      iterations: s.iterations,
      epochs: s.epochs,
      batchSize: s.batchSize,
      maxLength: s.maxLength,
      pooling: this.pooling,
    };
  }

  dispose(): void {}
}

/**
 * A SetFit body run (stage one) on the one loop. Warnings about single-example classes go to
 * `callbacks.onLog` before the loop is built; one class only throws SETFIT_ONE_CLASS first.
 */
export function setfitTraining(
  params: BertParams,
  config: BertConfig,
  train: readonly EncodedExample[],
  settings: SetFitSettings,
  callbacks: LoopCallbacks<Metrics> = {},
  scoring: SetFitScoring | null = null,
): TrainingLoop<PairBatch, Metrics, SetFitObjective> {
  const objective = new SetFitObjective(params, config, train, settings, scoring);
  for (const warning of objective.warnings) callbacks.onLog?.('warn', warning);
  const options = fineTuneLoopOptions(settings, objective.data.batchesPerEpoch);
  return new TrainingLoop(objective, options, callbacks);
}
