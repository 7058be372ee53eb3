/**
 * MlmPretrainer: masked-language-model pretraining of a BERT encoder on a packed text stream.
 *
 * Per step: B packed sequences [B, T] → dynamic masking (seeded Rng) → encoder [B, T, H] →
 * gather the N masked rows [N, H] → MLM head [N, V] → cross-entropy at the masked positions only
 * (the vocabulary projection is never computed for unmasked positions) → AdamW (+ global-norm
 * clipping) with linear warmup / linear decay. The loss is read back asynchronously every
 * `lossReadEvery` steps (no dataSync in the step).
 *
 * Exact resume: a checkpoint holds the weights (HF names, F32), AdamW's m, v and step, the data
 * position, the masking Rng state and a config fingerprint. Dropout seeds and the learning rate
 * are functions of the step number, so a resumed run computes the same losses as an uninterrupted
 * one. A checkpoint from a different config is refused, naming the fields that differ.
 *
 * Checkpoint file: one safetensors file (model tensors under their HF names, optimizer moments as
 * `optimizer.m.<name>` / `optimizer.v.<name>`, the JSON state in `__metadata__.fewshot_pretrain`),
 * written by a `PretrainCheckpointStore` that must replace the previous file atomically
 * (node-store.ts: temp file + rename).
 */
import * as tf from '@tensorflow/tfjs';
import {
  bertEncoder,
  gatherPositions,
  namedParams,
  paramSpecs,
  paramsToTensorMap,
  type BertConfig,
  type BertParams,
  type NamedVariable,
} from '../bert';
import { parseSafetensors, writeSafetensors } from '../checkpoint/safetensors';
import { type RawTensor } from '../checkpoint/types';
import { EngineError } from '../errors';
import type { BertTokenizer } from '../tokenizer';
import { AdamW, type AdamWState } from '../train/optim';
import { makeLrSchedule } from '../train/schedule';
import { hashString, Rng, type RngState } from '../util/rng';
import { CORPUS_START, SequenceStream, takeHeldOut, type CorpusPosition, type CorpusSource } from './corpus';
import { mlmRowsLogits, rowCrossEntropy } from './mlm-head';
import { maskBatch, maskVocabFromTokenizer, type MaskedBatch, type MaskVocab } from './masking';

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
  /** AdamW decoupled weight decay. Default 0.01. */
  weightDecay?: number;
  /** Global gradient-norm clip. Default 1.0. */
  maxGradNorm?: number;
  /** Share of non-special tokens to predict. Default 0.15. */
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
  /** Read the loss back every N steps (asynchronously). Default 10. */
  lossReadEvery?: number;
  /** Save a checkpoint every N steps (0 = off). Default 0. */
  checkpointEverySteps?: number;
  /** Save a checkpoint every N minutes of wall time (0 = off). Default 0. */
  checkpointEveryMinutes?: number;
}

type Resolved = Required<PretrainOptions>;

/** Where checkpoints go. `save` must replace the previous checkpoint atomically or not at all. */
export interface PretrainCheckpointStore {
  save(bytes: Uint8Array): Promise<void>;
  load(): Promise<Uint8Array | null>;
  description: string;
}

export interface StepLoss {
  step: number;
  loss: number;
  lr: number;
  /** Real (non-pad) tokens in the step's batch. */
  tokens: number;
}

export interface EvalResult {
  step: number;
  loss: number;
  accuracy: number;
  /** Masked positions evaluated. */
  count: number;
  /** Accuracy of always predicting the most frequent masked label of the held-out slice. */
  unigramBaseline: number;
}

export interface PretrainEvents {
  onLosses?: (losses: StepLoss[]) => void;
  onEvaluated?: (result: EvalResult) => void;
  onCheckpoint?: (info: { step: number; bytes: number; seconds: number }) => void;
  onLog?: (level: 'info' | 'warning', message: string) => void;
}

/** The JSON state stored with each checkpoint. */
export interface PretrainState {
  version: 1;
  step: number;
  position: CorpusPosition;
  rng: RngState;
  fingerprint: Record<string, string | number | boolean>;
  tokensSeen: number;
}

const STATE_KEY = 'fewshot_pretrain';

/** Groups that pretraining updates (the pooler and classifier get no MLM gradient). */
function trainable(params: BertParams, config: BertConfig): NamedVariable[] {
  return namedParams(params, config).filter((p) => p.group === 'encoder' || p.group === 'mlm');
}

export function resolvePretrainOptions(o: PretrainOptions): Resolved {
  if (!Number.isInteger(o.totalSteps) || o.totalSteps < 1)
    throw new EngineError('PRETRAIN_BAD_OPTIONS', `totalSteps must be a positive integer, got ${o.totalSteps}.`);
  return {
    maxLength: o.maxLength ?? 128,
    batchSize: o.batchSize ?? 32,
    learningRate: o.learningRate ?? 1e-3,
    totalSteps: o.totalSteps,
    warmupSteps: o.warmupSteps ?? Math.ceil(o.totalSteps * 0.06),
    weightDecay: o.weightDecay ?? 0.01,
    maxGradNorm: o.maxGradNorm ?? 1.0,
    maskProb: o.maskProb ?? 0.15,
    wholeWord: o.wholeWord ?? false,
    seed: o.seed ?? 42,
    dropout: o.dropout ?? true,
    heldOutSequences: o.heldOutSequences ?? 64,
    heldOutEvery: o.heldOutEvery ?? 1,
    evalEvery: o.evalEvery ?? 0,
    lossReadEvery: o.lossReadEvery ?? 10,
    checkpointEverySteps: o.checkpointEverySteps ?? 0,
    checkpointEveryMinutes: o.checkpointEveryMinutes ?? 0,
  };
}

/**
 * Everything that changes the loss trajectory. Resuming requires equality on every field
 * (checkpoint cadence, eval cadence and loss readback do not count).
 */
export function pretrainFingerprint(
  config: BertConfig,
  tokenizer: BertTokenizer,
  source: CorpusSource,
  o: Resolved,
): Record<string, string | number | boolean> {
  return {
    vocab_size: config.vocab_size,
    hidden_size: config.hidden_size,
    num_hidden_layers: config.num_hidden_layers,
    num_attention_heads: config.num_attention_heads,
    intermediate_size: config.intermediate_size,
    hidden_act: config.hidden_act,
    max_position_embeddings: config.max_position_embeddings,
    hidden_dropout_prob: config.hidden_dropout_prob,
    attention_probs_dropout_prob: config.attention_probs_dropout_prob,
    vocab: hashString(tokenizer.toVocabTxt()).toString(16),
    corpus: source.identity,
    maxLength: o.maxLength,
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    totalSteps: o.totalSteps,
    warmupSteps: o.warmupSteps,
    weightDecay: o.weightDecay,
    maxGradNorm: o.maxGradNorm,
    maskProb: o.maskProb,
    wholeWord: o.wholeWord,
    seed: o.seed,
    dropout: o.dropout,
    heldOutSequences: o.heldOutSequences,
    heldOutEvery: o.heldOutEvery,
  };
}

/** Fields whose values differ, as "name: checkpoint X, now Y" strings. */
export function fingerprintDiff(saved: Record<string, unknown>, current: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(current)])];
  return keys
    .filter((k) => saved[k] !== current[k])
    .map((k) => `${k}: checkpoint ${JSON.stringify(saved[k])}, now ${JSON.stringify(current[k])}`);
}

/**
 * MLM loss (and correct-prediction count) at masked positions only.
 * @returns loss = Σ w·CE / Σ w (scalar) and correct = Σ w·[argmax = label] (scalar).
 */
export function maskedLmLoss(
  params: BertParams,
  config: BertConfig,
  batch: {
    inputIds: tf.Tensor2D;
    attentionMask: tf.Tensor2D;
    positions: tf.Tensor1D;
    labels: tf.Tensor1D;
    weights: tf.Tensor1D;
  },
  opts: { training?: boolean; dropoutSeed?: number; withAccuracy?: boolean } = {},
): { loss: tf.Scalar; correct: tf.Scalar | null } {
  const [loss, correct] = tf.tidy((): tf.Scalar[] => {
    const hidden = bertEncoder(params, config, { inputIds: batch.inputIds, attentionMask: batch.attentionMask }, opts); // [B, T, H]
    const rows = gatherPositions(hidden, batch.positions); // [N, H]
    const logits = mlmRowsLogits(params, config, rows); // [N, V] (= mlmLogitsRows, faster layout)
    const ce = rowCrossEntropy(logits, batch.labels); // [N]
    const total = tf.maximum(tf.sum(batch.weights), 1); // scalar
    const loss = tf.div(tf.sum(tf.mul(ce, batch.weights)), total) as tf.Scalar;
    if (!opts.withAccuracy) return [loss];
    return [
      loss,
      tf.sum(tf.mul(tf.cast(tf.equal(tf.argMax(logits, 1), batch.labels), 'float32'), batch.weights)) as tf.Scalar,
    ];
  });
  return { loss, correct: correct ?? null };
}

function batchTensors(m: MaskedBatch) {
  return {
    inputIds: tf.tensor2d(m.inputIds, [m.batchSize, m.seqLength], 'int32'),
    attentionMask: tf.tensor2d(m.attentionMask, [m.batchSize, m.seqLength], 'int32'),
    positions: tf.tensor1d(m.positions, 'int32'),
    labels: tf.tensor1d(m.labels, 'int32'),
    weights: tf.tensor1d(m.weights, 'float32'),
  };
}

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

export class MlmPretrainer {
  readonly options: Resolved;
  readonly fingerprint: Record<string, string | number | boolean>;
  /** Optimizer steps done. */
  stepCount = 0;
  /** Real tokens consumed by training steps so far (across resumes). */
  tokensSeen = 0;
  private readonly named: NamedVariable[];
  private readonly optimizer: AdamW;
  private readonly schedule: (step: number) => number;
  private readonly vocab: MaskVocab;
  private rng: Rng;
  private stream: SequenceStream | null = null;
  private heldOut: MaskedBatch[] = [];
  private unigramBaseline = 0;
  private pending: { step: number; loss: tf.Scalar; lr: number; tokens: number }[] = [];
  private lastCheckpointAt = Date.now();
  private lastCheckpointStep = -1;
  private disposed = false;

  constructor(
    readonly params: BertParams,
    readonly config: BertConfig,
    readonly tokenizer: BertTokenizer,
    readonly source: CorpusSource,
    options: PretrainOptions,
    private readonly events: PretrainEvents = {},
    private readonly store: PretrainCheckpointStore | null = null,
  ) {
    this.options = resolvePretrainOptions(options);
    const o = this.options;
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
    this.vocab = maskVocabFromTokenizer(tokenizer);
    this.fingerprint = pretrainFingerprint(config, tokenizer, source, o);
    this.named = trainable(params, config);
    this.optimizer = new AdamW(this.named, { weightDecay: o.weightDecay, maxGradNorm: o.maxGradNorm });
    this.schedule = makeLrSchedule({ peakLr: o.learningRate, totalSteps: o.totalSteps, warmupSteps: o.warmupSteps });
    this.rng = new Rng(o.seed).fork('masking');
  }

  /** Masking options in MaskingOptions form. */
  private get masking() {
    return { maskProb: this.options.maskProb, wholeWord: this.options.wholeWord };
  }

  /**
   * Reads the held-out slice (fixed masks from the seed), positions the stream after it, and
   * resumes from the store's checkpoint when `resume` is true and one exists. Returns whether it resumed.
   */
  async init(resume = false): Promise<boolean> {
    const o = this.options;
    const heldOut = { count: o.heldOutSequences, every: o.heldOutEvery };
    const sequences = await takeHeldOut(this.source, this.tokenizer, o.maxLength, heldOut);
    const evalRng = new Rng(o.seed).fork('held-out');
    this.heldOut = [];
    for (let i = 0; i < sequences.length; i += o.batchSize) {
      this.heldOut.push(maskBatch(sequences.slice(i, i + o.batchSize), o.maxLength, this.vocab, evalRng, this.masking));
    }
    const freq = new Map<number, number>();
    let total = 0;
    for (const b of this.heldOut) {
      for (let i = 0; i < b.count; i++) freq.set(b.labels[i], (freq.get(b.labels[i]) ?? 0) + 1);
      total += b.count;
    }
    this.unigramBaseline = total > 0 ? Math.max(...freq.values()) / total : 0;
    let resumed = false;
    let position: CorpusPosition = CORPUS_START;
    if (resume && this.store) {
      const bytes = await this.store.load();
      if (bytes) {
        position = await this.restore(bytes, this.store.description);
        resumed = true;
      }
    }
    this.stream = new SequenceStream(this.source, this.tokenizer, o.maxLength, heldOut, position, o.batchSize);
    this.lastCheckpointAt = Date.now();
    this.lastCheckpointStep = this.stepCount;
    return resumed;
  }

  /** Data position of the next training sequence. */
  get position(): CorpusPosition {
    if (!this.stream) throw new EngineError('PRETRAIN_NOT_READY', 'call init() first');
    return { ...this.stream.position };
  }

  get done(): boolean {
    return this.stepCount >= this.options.totalSteps;
  }

  get heldOutBaseline(): number {
    return this.unigramBaseline;
  }

  /** One optimizer step. Returns false when the run is complete. */
  async step(): Promise<boolean> {
    if (this.disposed) throw new EngineError('PRETRAIN_DISPOSED', 'the pretrainer was disposed');
    if (!this.stream) throw new EngineError('PRETRAIN_NOT_READY', 'call init() first');
    if (this.done) return false;
    const o = this.options;
    const { sequences } = await this.stream.take(o.batchSize);
    const masked = maskBatch(
      sequences.map((s) => s.ids),
      o.maxLength,
      this.vocab,
      this.rng,
      this.masking,
    );
    const lr = this.schedule(this.stepCount);
    const dropoutSeed = o.dropout ? (Math.imul(o.seed, 100_003) + this.stepCount * 31 + 1) >>> 0 : undefined;
    const variables = this.named.map((p) => p.variable);
    const loss = tf.tidy(() => {
      const t = batchTensors(masked);
      const { value, grads } = tf.variableGrads(
        () => maskedLmLoss(this.params, this.config, t, { training: o.dropout, dropoutSeed }).loss,
        variables,
      );
      const named: tf.NamedTensorMap = {};
      for (const p of this.named) named[p.name] = grads[p.variable.name];
      const { gradNorm } = this.optimizer.step(named, lr);
      gradNorm?.dispose();
      return value;
    });
    this.stepCount++;
    let tokens = 0;
    for (const s of sequences) tokens += s.ids.length;
    this.tokensSeen += tokens;
    this.pending.push({ step: this.stepCount, loss, lr, tokens });
    if (this.stepCount % o.lossReadEvery === 0 || this.done) await this.flushLosses();
    if (o.evalEvery > 0 && (this.stepCount % o.evalEvery === 0 || this.done))
      this.events.onEvaluated?.(await this.evaluate());
    await this.maybeCheckpoint();
    return !this.done;
  }

  /** Reads pending losses (async) and reports them. */
  async flushLosses(): Promise<StepLoss[]> {
    const pending = this.pending;
    this.pending = [];
    const out: StepLoss[] = [];
    for (const p of pending) {
      const [loss] = await p.loss.data();
      p.loss.dispose();
      out.push({ step: p.step, loss, lr: p.lr, tokens: p.tokens });
      if (!Number.isFinite(loss))
        this.events.onLog?.('warning', `step ${p.step}: loss is ${loss}; lower the learning rate.`);
    }
    if (out.length > 0) this.events.onLosses?.(out);
    return out;
  }

  /** Held-out MLM loss and accuracy (fixed masks, no dropout). */
  async evaluate(): Promise<EvalResult> {
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    for (const b of this.heldOut) {
      const out = tf.tidy(() => {
        const t = batchTensors(b);
        const r = maskedLmLoss(this.params, this.config, t, { withAccuracy: true });
        return tf.stack([tf.mul(r.loss, tf.sum(t.weights)), r.correct!]); // [2]: Σ CE, Σ correct
      });
      const [l, c] = await out.data();
      out.dispose();
      lossSum += l;
      correct += c;
      count += b.count;
    }
    return {
      step: this.stepCount,
      loss: count > 0 ? lossSum / count : NaN,
      accuracy: count > 0 ? correct / count : NaN,
      count,
      unigramBaseline: this.unigramBaseline,
    };
  }

  private async maybeCheckpoint(): Promise<void> {
    if (!this.store || this.stepCount === this.lastCheckpointStep) return;
    const o = this.options;
    const bySteps = o.checkpointEverySteps > 0 && this.stepCount % o.checkpointEverySteps === 0;
    const byTime =
      o.checkpointEveryMinutes > 0 && Date.now() - this.lastCheckpointAt >= o.checkpointEveryMinutes * 60_000;
    if (bySteps || byTime || this.done) await this.saveCheckpoint();
  }

  /** Writes a checkpoint to the store now (no-op without a store or when this step is already saved). */
  async saveCheckpoint(): Promise<void> {
    if (!this.store || this.lastCheckpointStep === this.stepCount) return;
    const started = Date.now();
    await this.flushLosses();
    const bytes = await this.serialize();
    await this.store.save(bytes);
    this.lastCheckpointAt = Date.now();
    this.lastCheckpointStep = this.stepCount;
    this.events.onCheckpoint?.({
      step: this.stepCount,
      bytes: bytes.byteLength,
      seconds: (Date.now() - started) / 1000,
    });
  }

  /** The checkpoint as safetensors bytes (weights + optimizer + state). */
  async serialize(): Promise<Uint8Array> {
    const tensors = await paramsToTensorMap(this.params, this.config);
    const opt = await this.optimizer.exportState();
    const list: RawTensor[] = [...tensors.values()];
    for (const s of opt.slots) {
      list.push({ name: `optimizer.m.${s.name}`, shape: s.shape, data: s.m });
      list.push({ name: `optimizer.v.${s.name}`, shape: s.shape, data: s.v });
    }
    const state: PretrainState & { optimizerStep: number } = {
      version: 1,
      step: this.stepCount,
      position: this.position,
      rng: this.rng.getState(),
      fingerprint: this.fingerprint,
      tokensSeen: this.tokensSeen,
      optimizerStep: opt.step,
    };
    return writeSafetensors(list, { dtype: 'F32', metadata: { format: 'pt', [STATE_KEY]: JSON.stringify(state) } });
  }

  /**
   * Restores weights, optimizer, RNG and step from checkpoint bytes; returns the data position.
   * Throws PRETRAIN_CONFIG_MISMATCH (listing the fields) before changing anything when the
   * checkpoint was made with a different config.
   */
  async restore(bytes: Uint8Array, fileName = 'checkpoint.safetensors'): Promise<CorpusPosition> {
    const { tensors, metadata } = parseSafetensors(bytes, fileName);
    const raw = metadata[STATE_KEY];
    if (!raw)
      throw new EngineError(
        'PRETRAIN_BAD_CHECKPOINT',
        `${fileName} is not a pretraining checkpoint (no ${STATE_KEY} metadata).`,
      );
    const state = JSON.parse(raw) as PretrainState & { optimizerStep: number };
    const diff = fingerprintDiff(state.fingerprint, this.fingerprint);
    if (diff.length > 0) {
      throw new EngineError(
        'PRETRAIN_CONFIG_MISMATCH',
        `Cannot resume from ${fileName}: it was written by a run with a different configuration (${diff.join('; ')}). Use the same options, or a new --out folder to start a fresh run.`,
      );
    }
    const specs = new Map(paramSpecs(this.config).map((s) => [s.name, s]));
    const slots: AdamWState['slots'] = [];
    for (const p of namedParams(this.params, this.config)) {
      const t = tensors.get(p.name);
      if (!t) throw new EngineError('PRETRAIN_BAD_CHECKPOINT', `${fileName} has no tensor ${p.name}.`);
      const spec = specs.get(p.name)!;
      const data = spec.transposed ? transpose2d(t.data, spec.hfShape[0], spec.hfShape[1]) : t.data;
      if (data.length !== p.variable.size)
        throw new EngineError(
          'PRETRAIN_BAD_CHECKPOINT',
          `${fileName}: ${p.name} has ${data.length} values, expected ${p.variable.size}.`,
        );
      tf.tidy(() => p.variable.assign(tf.tensor(data, p.variable.shape, 'float32')));
    }
    for (const p of this.named) {
      const m = tensors.get(`optimizer.m.${p.name}`);
      const v = tensors.get(`optimizer.v.${p.name}`);
      if (!m || !v)
        throw new EngineError('PRETRAIN_BAD_CHECKPOINT', `${fileName} has no optimizer state for ${p.name}.`);
      slots.push({ name: p.name, shape: p.variable.shape.slice(), m: m.data, v: v.data });
    }
    this.optimizer.importState({ step: state.optimizerStep, slots });
    this.rng.setState(state.rng);
    this.stepCount = state.step;
    this.tokensSeen = state.tokensSeen;
    return state.position;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.pending) p.loss.dispose();
    this.pending = [];
    this.optimizer.dispose();
    void this.stream?.close();
  }
}

/** Reads the state JSON of a checkpoint without loading tensors into a model (for `--resume` messages). */
export function readCheckpointState(bytes: Uint8Array, fileName = 'checkpoint.safetensors'): PretrainState | null {
  const raw = parseSafetensors(bytes, fileName).metadata[STATE_KEY];
  return raw ? (JSON.parse(raw) as PretrainState) : null;
}
