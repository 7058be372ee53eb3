/**
 * The prompt method (LM-BFF prompt-based fine-tuning): every example is rendered through a cloze
 * template and the loss is softmax cross-entropy over the verbalizer scores at the [MASK] (per
 * label, log mean label-word probability; prompt/zero-shot.ts), so training starts from the
 * zero-shot classifier instead of a fresh head. Trains the encoder and the MLM head; exported with
 * its template and label words in config.json. Optional PET auxiliary MLM loss on unlabeled texts.
 * The loop is the one loop (docs/ARCHITECTURE.md, "The training loop and its methods").
 */
import * as tf from '@tensorflow/tfjs';
import { bertEncoder, gatherPositions, mlmLogitsRows, type BertConfig, type BertParams } from '../bert';
import type { NamedVariable } from '../bert/params';
import { namedParams } from '../bert/params';
import { EngineError } from '../errors';
import type { Verbalizer } from '../prompt/verbalizer';
import {
  batchMaskPositions,
  labelAverager,
  promptLabelScores,
  promptProbabilities,
  type PromptExample,
} from '../prompt/zero-shot';
import { makeBatches, type Batch, type EncodedExample } from '../train/batches';
import { fineTuneLoopOptions, type FineTuneLoopSettings } from '../train/defaults';
import { EpochBatches } from '../train/epochs';
import { TrainingLoop, type LoopCallbacks } from '../train/loop';
import { computeMetrics, type Metrics } from '../train/metrics';
import type {
  BatchSource,
  Evaluation,
  Fingerprint,
  ForwardContext,
  JsonValue,
  TrainingObjective,
} from '../train/objective';
import { Rng, type RngState } from '../util/rng';
import { examplesFingerprint } from './classifier';
import { softLabelCrossEntropy } from '../kernels/no-upload-webgpu';

export interface AuxMlmOptions {
  /** Tokenized unlabeled texts ([CLS] … [SEP], ≤ maxLength); labels ignored. */
  examples: readonly EncodedExample[];
  /** Weight of the MLM loss added to the prompt loss. Default 0.1 (PET). */
  weight?: number;
  /** Fraction of non-special tokens masked. Default 0.15 (BERT). */
  maskProb?: number;
  maskTokenId: number;
  /** Ids never masked ([CLS], [SEP], [PAD]). */
  specialIds: readonly number[];
}

export interface PromptSettings extends FineTuneLoopSettings {
  auxMlm?: AuxMlmOptions | null;
}

/** A masked batch of unlabeled texts: flat masked positions and their true ids. */
interface AuxBatch {
  batch: Batch;
  positions: Int32Array;
  targets: Int32Array;
}

export interface PromptBatch {
  batch: Batch;
  aux: AuxBatch | null;
}

/** Epoch batches of prompt examples, each with a masked batch of unlabeled texts when aux MLM is on. */
class PromptBatches implements BatchSource<PromptBatch> {
  private readonly epochs_: EpochBatches;
  private rng: Rng;
  private order: number[] = [];
  private cursor = 0;

  constructor(
    train: readonly PromptExample[],
    private readonly settings: PromptSettings,
  ) {
    this.epochs_ = new EpochBatches(train, settings);
    this.rng = new Rng(settings.seed).fork('aux-mlm');
  }

  get batchesPerEpoch() {
    return this.epochs_.batchesPerEpoch;
  }
  get epoch() {
    return this.epochs_.epoch;
  }
  get epochs() {
    return this.epochs_.epochs;
  }
  get atEpochEnd() {
    return this.epochs_.atEpochEnd;
  }

  async next(): Promise<PromptBatch | null> {
    const batch = await this.epochs_.next();
    if (!batch) return null;
    const aux = this.settings.auxMlm;
    return { batch, aux: aux && aux.examples.length > 0 ? this.auxBatch(aux) : null };
  }

  private auxBatch(aux: AuxMlmOptions): AuxBatch {
    const rows: EncodedExample[] = [];
    for (let i = 0; i < this.settings.batchSize; i++) {
      if (this.cursor >= this.order.length) {
        this.order = this.rng.shuffle(Array.from({ length: aux.examples.length }, (_, k) => k));
        this.cursor = 0;
      }
      rows.push(aux.examples[this.order[this.cursor++]]);
    }
    const [batch] = makeBatches(rows, { batchSize: rows.length, maxLength: this.settings.maxLength, shuffle: false });
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
      // At least one masked token per row (a simple version of BERT's 80/10/10: always [MASK]).
      let chosen = candidates.filter(() => this.rng.nextFloat() < p);
      if (chosen.length === 0 && candidates.length > 0) chosen = [candidates[this.rng.nextInt(candidates.length)]];
      for (const at of chosen) {
        positions.push(at);
        targets.push(batch.inputIds[at]);
        batch.inputIds[at] = aux.maskTokenId;
      }
    }
    return { batch, positions: Int32Array.from(positions), targets: Int32Array.from(targets) };
  }

  getState(): JsonValue {
    return {
      epochs: this.epochs_.getState(),
      aux: { rng: { ...this.rng.getState() }, order: this.order, cursor: this.cursor },
    };
  }

  setState(state: JsonValue): void {
    const s = state as unknown as { epochs: JsonValue; aux: { rng: RngState; order: number[]; cursor: number } };
    if (!s || typeof s !== 'object' || !s.aux || !Array.isArray(s.aux.order)) {
      throw new EngineError('TRAIN_BAD_STATE', 'The saved prompt-method data position is malformed.');
    }
    this.epochs_.setState(s.epochs);
    this.rng.setState(s.aux.rng);
    this.order = s.aux.order.slice();
    this.cursor = s.aux.cursor;
  }
}

export class PromptObjective implements TrainingObjective<PromptBatch, Metrics> {
  readonly kind = 'prompt';
  readonly scoreName = 'dev macro-F1';
  readonly parameters: NamedVariable[];
  readonly data: PromptBatches;
  private readonly wordIds: tf.Tensor1D;
  private readonly averager: tf.Tensor2D;

  constructor(
    private readonly params: BertParams,
    private readonly config: BertConfig,
    readonly verbalizer: Verbalizer,
    private readonly train: readonly PromptExample[],
    private readonly dev: readonly PromptExample[],
    private readonly settings: PromptSettings,
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
    // Pooler and classifier are not in the graph and stay untouched; the tied decoder is the word embedding.
    this.parameters = namedParams(params, config).filter((p) => p.group === 'encoder' || p.group === 'mlm');
    this.data = new PromptBatches(train, settings);
    this.wordIds = tf.keep(tf.tensor1d(verbalizer.wordIds, 'int32'));
    this.averager = tf.keep(labelAverager(verbalizer));
  }

  lossFor({ batch, aux }: PromptBatch, context: ForwardContext): () => tf.Scalar {
    const shape: [number, number] = [batch.batchSize, batch.seqLen];
    const inputs = {
      inputIds: tf.tensor2d(batch.inputIds, shape, 'int32'), // [B, T]
      tokenTypeIds: tf.tensor2d(batch.tokenTypeIds, shape, 'int32'), // [B, T]
      attentionMask: tf.tensor2d(batch.attentionMask, shape, 'int32'), // [B, T]
    };
    const flatMask = tf.tensor1d(batchMaskPositions(batch, this.train), 'int32'); // [B]
    const labels = tf
      .oneHot(tf.tensor1d(batch.labels, 'int32'), this.verbalizer.labels.length)
      .toFloat() as tf.Tensor2D; // [B, L]
    const auxInputs =
      aux && aux.positions.length > 0
        ? {
            inputIds: tf.tensor2d(aux.batch.inputIds, [aux.batch.batchSize, aux.batch.seqLen], 'int32'), // [Bu, Tu]
            attentionMask: tf.tensor2d(aux.batch.attentionMask, [aux.batch.batchSize, aux.batch.seqLen], 'int32'), // [Bu, Tu]
            positions: tf.tensor1d(aux.positions, 'int32'), // [M]
            targets: tf.oneHot(tf.tensor1d(aux.targets, 'int32'), this.config.vocab_size).toFloat(), // [M, V]
          }
        : null;
    return () => {
      const scores = promptLabelScores(
        this.params,
        this.config,
        inputs,
        flatMask,
        this.wordIds,
        this.averager,
        context,
      ); // [B, L]
      let loss = softLabelCrossEntropy(scores, labels);
      if (auxInputs) {
        // Its own dropout masks, distinct from the prompt batch's.
        const seed = context.dropoutSeed === undefined ? undefined : context.dropoutSeed + 0.25;
        const auxContext = { training: context.training, dropoutSeed: seed };
        const hidden = bertEncoder(this.params, this.config, auxInputs, auxContext); // [Bu, Tu, H]
        const logits = mlmLogitsRows(this.params, this.config, gatherPositions(hidden, auxInputs.positions)); // [M, V]
        const mlm = tf.neg(tf.mean(tf.sum(tf.mul(auxInputs.targets, tf.logSoftmax(logits, -1)), -1)));
        loss = tf.add(loss, tf.mul(mlm, this.settings.auxMlm!.weight ?? 0.1)) as tf.Scalar;
      }
      return loss;
    };
  }

  size({ batch }: PromptBatch) {
    return { examples: batch.batchSize, tokens: batch.attentionMask.reduce((n, m) => n + m, 0) };
  }

  async evaluate(): Promise<Evaluation<Metrics> | null> {
    if (this.dev.length === 0) return null;
    const metrics = await this.evaluateOn(this.dev);
    return { metrics, score: metrics.macroF1, rows: this.dev.length };
  }

  /** Label probabilities [N·L] for prompt examples (no dropout). */
  predictProbabilities(examples: readonly PromptExample[]): Promise<Float32Array> {
    return promptProbabilities(this.params, this.config, examples, this.verbalizer, {
      batchSize: this.settings.batchSize * 2,
      maxLength: this.settings.maxLength,
    });
  }

  async evaluateOn(examples: readonly PromptExample[]): Promise<Metrics> {
    const probs = await this.predictProbabilities(examples);
    const L = this.verbalizer.labels.length;
    const rows = examples.map((_, i) => Array.from(probs.subarray(i * L, (i + 1) * L)));
    return computeMetrics(
      examples.map((e) => e.label),
      rows,
      [...this.verbalizer.labels],
    );
  }

  fingerprint(): Fingerprint {
    const s = this.settings;
    const aux = s.auxMlm;
    return {
      labels: this.verbalizer.labels.join('\u0000'),
      wordIds: this.verbalizer.wordIds.join(','),
      train: examplesFingerprint(this.train),
      dev: examplesFingerprint(this.dev),
      epochs: s.epochs,
      batchSize: s.batchSize,
      maxLength: s.maxLength,
      auxMlm: aux ? `${examplesFingerprint(aux.examples)} w${aux.weight ?? 0.1} p${aux.maskProb ?? 0.15}` : 'none',
    };
  }

  dispose(): void {
    tf.dispose([this.wordIds, this.averager]);
  }
}

/** A prompt fine-tuning run on the one loop. */
export function promptTraining(
  params: BertParams,
  config: BertConfig,
  verbalizer: Verbalizer,
  train: readonly PromptExample[],
  dev: readonly PromptExample[],
  settings: PromptSettings,
  callbacks: LoopCallbacks<Metrics> = {},
): TrainingLoop<PromptBatch, Metrics, PromptObjective> {
  const objective = new PromptObjective(params, config, verbalizer, train, dev, settings);
  const options = fineTuneLoopOptions(settings, objective.data.batchesPerEpoch);
  return new TrainingLoop(objective, options, callbacks);
}
