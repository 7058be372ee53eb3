/**
 * The classifier-head method: a linear layer on the pooled [CLS] vector, trained with the encoder
 * by (optionally class-weighted) softmax cross-entropy; evaluated by dev macro-F1; exported as
 * BertForSequenceClassification with `id2label`. Everything else is the one loop's
 * (docs/ARCHITECTURE.md, "The training loop and its methods").
 */
import * as tf from '@tensorflow/tfjs';
import { bertForSequenceClassification, type BertInputs } from '../bert/model';
import { namedParams, type BertParams, type NamedVariable } from '../bert/params';
import type { BertConfig } from '../bert/config';
import { EngineError } from '../errors';
import { makeBatches, type Batch, type EncodedExample } from '../train/batches';
import { fineTuneLoopOptions, type FineTuneLoopSettings } from '../train/defaults';
import { EpochBatches } from '../train/epochs';
import { TrainingLoop, type LoopCallbacks } from '../train/loop';
import { computeMetrics, type Metrics } from '../train/metrics';
import type { Evaluation, Fingerprint, ForwardContext, TrainingObjective } from '../train/objective';
import { hashString } from '../util/rng';
import { fusedRowCrossEntropy } from '../kernels/cross-entropy-webgpu';
import { fusedKernelsActive } from '../kernels/program';
import { meanOfAll } from '../kernels/no-upload-webgpu';

export interface ClassifierSettings extends FineTuneLoopSettings {
  /** Per-class loss weights (length = number of labels), e.g. from `balancedClassWeights`. Default none. */
  classWeights?: number[] | null;
}

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

/** −log softmax(logits)[label] per row with stock ops: logits [B, L], labels [B] → [B]. */
function stockNll(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  const logProbs = tf.logSoftmax(logits, -1); // [B, L]
  const oneHot = tf.oneHot(labels, logits.shape[1]).toFloat(); // [B, L]
  return tf.neg(tf.sum(tf.mul(oneHot, logProbs), -1)) as tf.Tensor1D; // [B]
}

/**
 * Mean (optionally class-weighted) softmax cross-entropy: logits [B, L], labels [B]. The per-row
 * loss is our kernel on webgpu (docs/ARCHITECTURE.md, "Own kernels"), the stock ops elsewhere.
 */
export function classificationLoss(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  classWeights: tf.Tensor1D | null,
): tf.Scalar {
  return tf.tidy(() => {
    const nll = fusedKernelsActive() ? fusedRowCrossEntropy(logits, labels) : stockNll(logits, labels); // [B]
    if (!classWeights) return meanOfAll(nll);
    // PyTorch CrossEntropyLoss(weight=w): sum(w[y]·nll) / sum(w[y]).
    const w = tf.gather(classWeights, labels); // [B]
    return tf.div(tf.sum(tf.mul(w, nll)), tf.maximum(tf.sum(w), 1e-12)) as tf.Scalar;
  });
}

/** Class probabilities [N·L] (row-major, input order) for encoded examples, no dropout. */
export async function predictClassProbabilities(
  params: BertParams,
  config: BertConfig,
  examples: readonly EncodedExample[],
  batchSize: number,
  maxLength: number,
): Promise<Float32Array> {
  const L = Object.keys(config.id2label ?? {}).length || params.classifier.b.shape[0];
  const out = new Float32Array(examples.length * L);
  for (const batch of makeBatches(examples, { batchSize, maxLength, shuffle: false })) {
    const probs = tf.tidy(() => {
      const { logits } = bertForSequenceClassification(params, config, batchToTensors(batch), { training: false });
      return tf.softmax(logits, -1); // [B, L]
    });
    const values = await probs.data();
    probs.dispose();
    batch.indices.forEach((index, row) => out.set(values.subarray(row * L, (row + 1) * L), index * L));
  }
  return out;
}

/** Hash of encoded examples: a restored run must train on the same data. */
export function examplesFingerprint(examples: readonly EncodedExample[]): string {
  const parts = examples.map((e) => `${Array.from(e.inputIds).join(' ')}|${e.label}`);
  return `${examples.length}:${hashString(parts.join('\n')).toString(16)}`;
}

export class ClassifierObjective implements TrainingObjective<Batch, Metrics> {
  readonly kind = 'head';
  readonly scoreName = 'dev macro-F1';
  readonly parameters: NamedVariable[];
  readonly data: EpochBatches;
  private readonly classWeights: tf.Tensor1D | null;

  constructor(
    private readonly params: BertParams,
    private readonly config: BertConfig,
    readonly labels: readonly string[],
    private readonly train: readonly EncodedExample[],
    private readonly dev: readonly EncodedExample[],
    private readonly settings: ClassifierSettings,
    plan: Batch[] | null = null,
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
    const headSize = Object.keys(config.id2label ?? {}).length;
    if (config.id2label && headSize !== labels.length) {
      throw new EngineError(
        'TRAIN_LABEL_MISMATCH',
        `The classifier head has ${headSize} outputs but the data has ${labels.length} labels.`,
      );
    }
    // The MLM head is not in this loss: like PyTorch parameters without gradients it is neither
    // updated nor decayed (the tied decoder is the word embedding, which is trained).
    this.parameters = namedParams(params, config).filter((p) => p.group !== 'mlm');
    this.data = new EpochBatches(train, { ...settings, plan });
    this.classWeights = settings.classWeights ? tf.keep(tf.tensor1d(settings.classWeights)) : null;
  }

  lossFor(batch: Batch, context: ForwardContext): () => tf.Scalar {
    const inputs = batchToTensors(batch);
    return () => {
      const { logits } = bertForSequenceClassification(this.params, this.config, inputs, context); // [B, L]
      return classificationLoss(logits, inputs.labels, this.classWeights);
    };
  }

  size(batch: Batch) {
    return { examples: batch.batchSize, tokens: batch.attentionMask.reduce((n, m) => n + m, 0) };
  }

  async evaluate(): Promise<Evaluation<Metrics> | null> {
    if (this.dev.length === 0) return null;
    const metrics = await this.evaluateOn(this.dev);
    return { metrics, score: metrics.macroF1, rows: this.dev.length };
  }

  /** Metrics of the current weights on any encoded examples. */
  async evaluateOn(examples: readonly EncodedExample[]): Promise<Metrics> {
    const L = this.labels.length;
    const probs = await predictClassProbabilities(
      this.params,
      this.config,
      examples,
      this.settings.batchSize * 2,
      this.settings.maxLength,
    );
    const rows = examples.map((_, i) => Array.from(probs.subarray(i * L, (i + 1) * L)));
    return computeMetrics(
      examples.map((e) => e.label),
      rows,
      [...this.labels],
    );
  }

  fingerprint(): Fingerprint {
    const s = this.settings;
    return {
      labels: this.labels.join('\u0000'),
      train: examplesFingerprint(this.train),
      dev: examplesFingerprint(this.dev),
      epochs: s.epochs,
      batchSize: s.batchSize,
      maxLength: s.maxLength,
      classWeights: s.classWeights ? s.classWeights.join(',') : 'none',
    };
  }

  dispose(): void {
    this.classWeights?.dispose();
  }
}

/** A classifier-head training run on the one loop. */
export function classifierTraining(
  params: BertParams,
  config: BertConfig,
  labels: readonly string[],
  train: readonly EncodedExample[],
  dev: readonly EncodedExample[],
  settings: ClassifierSettings,
  callbacks: LoopCallbacks<Metrics> = {},
  extras: { batchPlan?: Batch[] } = {},
): TrainingLoop<Batch, Metrics, ClassifierObjective> {
  const objective = new ClassifierObjective(params, config, labels, train, dev, settings, extras.batchPlan ?? null);
  const options = fineTuneLoopOptions(settings, objective.data.batchesPerEpoch);
  return new TrainingLoop(objective, options, callbacks);
}
