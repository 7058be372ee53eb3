/**
 * The masked-language-model method, for pretraining from a corpus (`fewshot pretrain`) and for
 * "adapt to my texts" (continued pretraining on the user's texts). Batches are packed corpus
 * sequences with dynamic masking (pretrain/masking.ts); the loss is cross-entropy at the masked
 * positions only; evaluation is the held-out MLM loss and accuracy (fixed masks); the export is a
 * plain masked-LM folder. Everything else is the one loop's (docs/ARCHITECTURE.md, "The training
 * loop and its methods").
 */
import * as tf from '@tensorflow/tfjs';
import { bertEncoder, gatherPositions, namedParams, type BertConfig, type BertParams } from '../bert';
import type { NamedVariable } from '../bert/params';
import { EngineError } from '../errors';
import { CORPUS_START, SequenceStream, takeHeldOut, type CorpusPosition, type CorpusSource } from '../pretrain/corpus';
import { maskBatch, maskVocabFromTokenizer, type MaskedBatch, type MaskVocab } from '../pretrain/masking';
import { mlmRowsLogits, rowCrossEntropy } from '../pretrain/mlm-head';
import type { BertTokenizer } from '../tokenizer';
import { DEFAULT_MAX_GRAD_NORM, DEFAULT_WEIGHT_DECAY } from '../train/defaults';
import { TrainingLoop, type LoopCallbacks } from '../train/loop';
import type {
  BatchSource,
  Evaluation,
  Fingerprint,
  ForwardContext,
  JsonValue,
  TrainingObjective,
} from '../train/objective';
import { hashString, Rng, type RngState } from '../util/rng';
import { weightedMean } from '../kernels/no-upload-webgpu';

export interface PretrainOptions {
  /** Tokens per packed sequence including [CLS]/[SEP]. Default 128. */
  maxLength?: number;
  /** Sequences per step. Default 32. */
  batchSize?: number;
  /** Peak learning rate. Default 1e-3 (small BERTs from scratch; base-size models want ~1e-4). */
  learningRate?: number;
  /** Optimizer steps in the whole run (the schedule decays to 0 here). Required. */
  totalSteps: number;
  /** Linear warmup steps. Default 6% of totalSteps (RoBERTa-style). */
  warmupSteps?: number;
  /** AdamW decoupled weight decay. Default DEFAULT_WEIGHT_DECAY. */
  weightDecay?: number;
  /** Global gradient-norm clip. Default DEFAULT_MAX_GRAD_NORM. */
  maxGradNorm?: number;
  /** Share of non-special tokens to predict. Default 0.15 (BERT). */
  maskProb?: number;
  /** Whole-word masking (`##` continuations masked with their word). Default false. */
  wholeWord?: boolean;
  /** Seeds masking, dropout and the held-out masks. Default 42. */
  seed?: number;
  /** Dropout while training (config rates). Default true. */
  dropout?: boolean;
  /** Packed sequences held out for evaluation. Default 64. */
  heldOutSequences?: number;
  /** Hold out every k-th sequence (from the start) until heldOutSequences are taken; 1 = the first ones. Default 1. */
  heldOutEvery?: number;
  /** Evaluate the held-out slice every N steps (0 = only when asked). Default 0. */
  evalEvery?: number;
  /** Read the loss back every N steps (asynchronously). Default 10: pretraining steps are many. */
  lossReadEvery?: number;
  /**
   * Keep the starting weights on the device so a diverged run restores them. Default true (adapt
   * must never leave the studio's model ruined); long CLI runs rely on their checkpoint instead.
   */
  keepInitial?: boolean;
}

export type ResolvedPretrainOptions = Required<PretrainOptions>;

export function resolvePretrainOptions(o: PretrainOptions): ResolvedPretrainOptions {
  if (!Number.isInteger(o.totalSteps) || o.totalSteps < 1)
    throw new EngineError('PRETRAIN_BAD_OPTIONS', `totalSteps must be a positive integer, got ${o.totalSteps}.`);
  return {
    maxLength: o.maxLength ?? 128,
    batchSize: o.batchSize ?? 32,
    learningRate: o.learningRate ?? 1e-3,
    totalSteps: o.totalSteps,
    warmupSteps: o.warmupSteps ?? Math.ceil(o.totalSteps * 0.06),
    weightDecay: o.weightDecay ?? DEFAULT_WEIGHT_DECAY,
    maxGradNorm: o.maxGradNorm ?? DEFAULT_MAX_GRAD_NORM,
    maskProb: o.maskProb ?? 0.15,
    wholeWord: o.wholeWord ?? false,
    seed: o.seed ?? 42,
    dropout: o.dropout ?? true,
    heldOutSequences: o.heldOutSequences ?? 64,
    heldOutEvery: o.heldOutEvery ?? 1,
    evalEvery: o.evalEvery ?? 0,
    lossReadEvery: o.lossReadEvery ?? 10,
    keepInitial: o.keepInitial ?? true,
  };
}

/** Held-out MLM loss and accuracy at fixed masks. */
export interface MlmEvaluation {
  step: number;
  loss: number;
  accuracy: number;
  /** Masked positions evaluated. */
  count: number;
  /** Accuracy of always predicting the most frequent masked label of the held-out slice. */
  unigramBaseline: number;
}

export type MaskedTensors = {
  inputIds: tf.Tensor2D;
  attentionMask: tf.Tensor2D;
  positions: tf.Tensor1D;
  labels: tf.Tensor1D;
  weights: tf.Tensor1D;
};

/** A masked batch as the tensors `maskedLmLoss` takes (the caller disposes them). */
export function maskedBatchTensors(m: MaskedBatch): MaskedTensors {
  return {
    inputIds: tf.tensor2d(m.inputIds, [m.batchSize, m.seqLength], 'int32'), // [B, T]
    attentionMask: tf.tensor2d(m.attentionMask, [m.batchSize, m.seqLength], 'int32'), // [B, T]
    positions: tf.tensor1d(m.positions, 'int32'), // [N]
    labels: tf.tensor1d(m.labels, 'int32'), // [N]
    weights: tf.tensor1d(m.weights, 'float32'), // [N]
  };
}

/**
 * MLM loss (and correct-prediction count) at masked positions only.
 * @returns loss = Σ w·CE / Σ w (scalar) and correct = Σ w·[argmax = label] (scalar).
 */
export function maskedLmLoss(
  params: BertParams,
  config: BertConfig,
  batch: MaskedTensors,
  opts: { training?: boolean; dropoutSeed?: number; withAccuracy?: boolean } = {},
): { loss: tf.Scalar; correct: tf.Scalar | null } {
  const [loss, correct] = tf.tidy((): tf.Scalar[] => {
    const hidden = bertEncoder(params, config, batch, opts); // [B, T, H]
    const rows = gatherPositions(hidden, batch.positions); // [N, H]
    const logits = mlmRowsLogits(params, config, rows); // [N, V]
    const ce = rowCrossEntropy(logits, batch.labels); // [N]
    const loss = weightedMean(ce, batch.weights);
    if (!opts.withAccuracy) return [loss];
    const hits = tf.cast(tf.equal(tf.argMax(logits, 1), batch.labels), 'float32'); // [N]
    return [loss, tf.sum(tf.mul(hits, batch.weights)) as tf.Scalar];
  });
  return { loss, correct: correct ?? null };
}

/** Packed corpus sequences with fresh masks every step; the position and masking RNG are the state. */
class CorpusBatches implements BatchSource<MaskedBatch> {
  readonly batchesPerEpoch = null;
  readonly epochs = null;
  readonly atEpochEnd = false;
  private stream: SequenceStream;
  private readonly rng: Rng;

  constructor(
    private readonly source: CorpusSource,
    private readonly tokenizer: BertTokenizer,
    private readonly vocab: MaskVocab,
    private readonly o: ResolvedPretrainOptions,
  ) {
    this.rng = new Rng(o.seed).fork('masking');
    this.stream = this.streamAt(CORPUS_START);
  }

  private streamAt(position: CorpusPosition): SequenceStream {
    const heldOut = { count: this.o.heldOutSequences, every: this.o.heldOutEvery };
    return new SequenceStream(this.source, this.tokenizer, this.o.maxLength, heldOut, position, this.o.batchSize);
  }

  /** 1-based pass over the corpus. */
  get epoch(): number {
    return this.stream.position.epoch + 1;
  }

  /** Where the next training sequence starts. */
  get position(): CorpusPosition {
    return { ...this.stream.position };
  }

  async next(): Promise<MaskedBatch> {
    const { sequences } = await this.stream.take(this.o.batchSize);
    const masking = { maskProb: this.o.maskProb, wholeWord: this.o.wholeWord };
    return maskBatch(
      sequences.map((s) => s.ids),
      this.o.maxLength,
      this.vocab,
      this.rng,
      masking,
    );
  }

  getState(): JsonValue {
    return { position: { ...this.stream.position }, rng: { ...this.rng.getState() } };
  }

  setState(state: JsonValue): void {
    const s = state as { position?: CorpusPosition; rng?: RngState } | null;
    if (!s?.position || !s.rng) throw new EngineError('TRAIN_BAD_STATE', 'The saved corpus position is malformed.');
    this.rng.setState(s.rng);
    void this.stream.close();
    this.stream = this.streamAt(s.position);
  }

  close(): void {
    void this.stream.close();
  }
}

export class MaskedLmObjective implements TrainingObjective<MaskedBatch, MlmEvaluation> {
  readonly kind = 'mlm';
  readonly scoreName = 'minus held-out MLM loss';
  readonly parameters: NamedVariable[];
  readonly data: CorpusBatches;
  /** Accuracy of always predicting the most frequent masked token of the held-out slice. */
  readonly unigramBaseline: number;
  /** Optimizer steps of the loop that owns this objective (set by the loop's creator, for evaluations). */
  stepOf: () => number = () => 0;

  private constructor(
    private readonly params: BertParams,
    private readonly config: BertConfig,
    private readonly tokenizer: BertTokenizer,
    private readonly source: CorpusSource,
    readonly options: ResolvedPretrainOptions,
    private readonly heldOut: MaskedBatch[],
    vocab: MaskVocab,
  ) {
    // The pooler and classifier get no MLM gradient; encoder and MLM head train.
    this.parameters = namedParams(params, config).filter((p) => p.group === 'encoder' || p.group === 'mlm');
    this.data = new CorpusBatches(source, tokenizer, vocab, options);
    const freq = new Map<number, number>();
    let total = 0;
    for (const b of heldOut) {
      for (let i = 0; i < b.count; i++) freq.set(b.labels[i], (freq.get(b.labels[i]) ?? 0) + 1);
      total += b.count;
    }
    this.unigramBaseline = total > 0 ? Math.max(...freq.values()) / total : 0;
  }

  /** Validates the options, reads the held-out slice (fixed masks from the seed). */
  static async create(
    params: BertParams,
    config: BertConfig,
    tokenizer: BertTokenizer,
    source: CorpusSource,
    options: PretrainOptions,
  ): Promise<MaskedLmObjective> {
    const o = resolvePretrainOptions(options);
    if (o.maxLength > config.max_position_embeddings) {
      throw new EngineError(
        'PRETRAIN_BAD_OPTIONS',
        `maxLength ${o.maxLength} exceeds the model's max_position_embeddings ${config.max_position_embeddings}.`,
      );
    }
    if (tokenizer.vocabSize > config.vocab_size) {
      throw new EngineError(
        'MODEL_VOCAB_MISMATCH',
        `The tokenizer has ${tokenizer.vocabSize} tokens but the model has vocab_size ${config.vocab_size}.`,
      );
    }
    const vocab = maskVocabFromTokenizer(tokenizer);
    const spec = { count: o.heldOutSequences, every: o.heldOutEvery };
    const sequences = await takeHeldOut(source, tokenizer, o.maxLength, spec);
    const evalRng = new Rng(o.seed).fork('held-out');
    const heldOut: MaskedBatch[] = [];
    const masking = { maskProb: o.maskProb, wholeWord: o.wholeWord };
    for (let i = 0; i < sequences.length; i += o.batchSize) {
      heldOut.push(maskBatch(sequences.slice(i, i + o.batchSize), o.maxLength, vocab, evalRng, masking));
    }
    return new MaskedLmObjective(params, config, tokenizer, source, o, heldOut, vocab);
  }

  lossFor(batch: MaskedBatch, context: ForwardContext): () => tf.Scalar {
    const inputs = maskedBatchTensors(batch);
    return () => maskedLmLoss(this.params, this.config, inputs, context).loss;
  }

  size(batch: MaskedBatch) {
    return { examples: batch.batchSize, tokens: batch.attentionMask.reduce((n, m) => n + m, 0) };
  }

  /** Held-out MLM loss and accuracy (fixed masks, no dropout). */
  async evaluate(): Promise<Evaluation<MlmEvaluation>> {
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    for (const b of this.heldOut) {
      const out = tf.tidy(() => {
        const t = maskedBatchTensors(b);
        const r = maskedLmLoss(this.params, this.config, t, { withAccuracy: true });
        return tf.stack([tf.mul(r.loss, tf.sum(t.weights)), r.correct!]); // [2]: Σ CE, Σ correct
      });
      const [l, c] = await out.data();
      out.dispose();
      lossSum += l;
      correct += c;
      count += b.count;
    }
    const loss = count > 0 ? lossSum / count : NaN;
    const metrics = {
      step: this.stepOf(),
      loss,
      accuracy: count > 0 ? correct / count : NaN,
      count,
      unigramBaseline: this.unigramBaseline,
    };
    return { metrics, score: -loss };
  }

  fingerprint(): Fingerprint {
    const c = this.config;
    const o = this.options;
    return {
      vocab_size: c.vocab_size,
      hidden_size: c.hidden_size,
      num_hidden_layers: c.num_hidden_layers,
      num_attention_heads: c.num_attention_heads,
      intermediate_size: c.intermediate_size,
      hidden_act: c.hidden_act,
      max_position_embeddings: c.max_position_embeddings,
      hidden_dropout_prob: c.hidden_dropout_prob,
      attention_probs_dropout_prob: c.attention_probs_dropout_prob,
      vocab: hashString(this.tokenizer.toVocabTxt()).toString(16),
      corpus: this.source.identity,
      maxLength: o.maxLength,
      batchSize: o.batchSize,
      maskProb: o.maskProb,
      wholeWord: o.wholeWord,
      heldOutSequences: o.heldOutSequences,
      heldOutEvery: o.heldOutEvery,
    };
  }

  dispose(): void {
    /* the held-out batches are plain arrays */
  }
}

/** A masked-LM run on the one loop (reads the held-out slice first). */
export async function maskedLmTraining(
  params: BertParams,
  config: BertConfig,
  tokenizer: BertTokenizer,
  source: CorpusSource,
  options: PretrainOptions,
  callbacks: LoopCallbacks<MlmEvaluation> = {},
): Promise<TrainingLoop<MaskedBatch, MlmEvaluation, MaskedLmObjective>> {
  const objective = await MaskedLmObjective.create(params, config, tokenizer, source, options);
  const o = objective.options;
  const loop = new TrainingLoop<MaskedBatch, MlmEvaluation, MaskedLmObjective>(
    objective,
    {
      totalSteps: o.totalSteps,
      learningRate: o.learningRate,
      schedule: 'linear',
      warmupSteps: o.warmupSteps,
      weightDecay: o.weightDecay,
      maxGradNorm: o.maxGradNorm,
      gradAccumSteps: 1,
      seed: o.seed,
      dropout: o.dropout,
      evalEvery: o.evalEvery,
      evalAtEpochEnd: false,
      evalAtEnd: o.evalEvery > 0,
      patience: 0,
      lossReadEvery: o.lossReadEvery,
      // Pretraining keeps its last weights (checkpoints and held-out curves decide, not one eval).
      keepBest: false,
      keepInitial: o.keepInitial,
    },
    callbacks,
  );
  objective.stepOf = () => loop.step;
  return loop;
}
