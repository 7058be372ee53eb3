/**
 * Training defaults a user never has to touch, as functions of the data and the model. Each one
 * says why it is what it is; `suggestTrainingConfig` puts them together (the UI shows the result as
 * editable "advanced" settings).
 */
import { EngineError } from '../errors';
import { percentileNearestRank } from '../util/stats';
import { roundUpToMultiple } from './batches';
import type { LoopOptions } from './objective';

/** Everything the trainer needs that has a sensible default. */
export interface TrainingDefaults {
  learningRate: number;
  batchSize: number;
  epochs: number;
  /** epochs · ceil(nTrain / batchSize). */
  totalSteps: number;
  stepsPerEpoch: number;
  maxLength: number;
  /** Evaluate on dev every this many optimizer steps (and at the end). */
  evalEvery: number;
  /** Stop after this many evaluations without a better dev macro-F1; null = no early stopping (no dev set). */
  earlyStoppingPatience: number | null;
  weightDecay: number;
  warmupRatio: number;
  maxGradNorm: number;
  devFraction: number;
  seed: number;
}

/**
 * Decoupled weight decay 0.01: the BERT fine-tuning recipe (and PyTorch's AdamW default); a mild
 * pull towards zero that barely matters for short runs but never hurts them.
 */
export const DEFAULT_WEIGHT_DECAY = 0.01;
/** 10% linear warmup: BERT/HF recipe; protects the randomly initialised head in the first steps. */
export const DEFAULT_WARMUP_RATIO = 0.1;
/** HF's `TrainingArguments.get_warmup_steps`: ceil(totalSteps · ratio). */
export function warmupStepsFor(totalSteps: number, warmupRatio: number): number {
  return Math.ceil(totalSteps * warmupRatio);
}

/** Clip the global gradient norm at 1.0: HF Trainer's default; stops rare spikes from wrecking a small run. */
export const DEFAULT_MAX_GRAD_NORM = 1.0;
/** Hold out 20% of each class for dev (see stratifiedSplit). */
export const DEFAULT_DEV_FRACTION = 0.2;
/** Any fixed seed makes runs reproducible; 42 is what HF uses, so results line up with scripts people know. */
export const DEFAULT_SEED = 42;

/**
 * Peak learning rate by encoder width. Base-size BERT (hidden 768) fine-tunes well at 2e-5…5e-5
 * (BERT paper grid); we take 5e-5 because few-shot runs are short. Narrow models (BERT-tiny/mini/
 * small, hidden 128–512, Turc et al. 2019) need larger steps: their grids reach 1e-4…3e-4. Large
 * models (hidden ≥ 1024) are known to diverge on small data at 5e-5, so they get 2e-5.
 */
export function defaultLearningRate(hiddenSize: number): number {
  positiveInt('hiddenSize', hiddenSize);
  if (hiddenSize <= 128) return 2e-4; // bert-tiny (2 layers × 128)
  if (hiddenSize <= 384) return 1e-4; // bert-mini (256), MiniLM-L6/L12-H384
  if (hiddenSize <= 768) return 5e-5; // bert-small (512), bert-base (768)
  return 2e-5; // bert-large (1024) and wider
}

/**
 * Most tokens per batch (B·T) we plan for by default: 4096 = 8×512 = 32×128. BERT-base activations
 * for that fit in ~2–3 GB of float32 GPU memory with stock ops, which typical laptop GPUs have.
 */
export const MAX_TOKENS_PER_BATCH = 4096;

/**
 * Batch size by dataset size. Few examples → small batches, so there are enough optimizer steps
 * per epoch to learn anything (few-shot papers such as LM-BFF use 2–8); larger sets → up to 32
 * (BERT paper grid 16/32) for throughput. Halved until B·maxLength ≤ MAX_TOKENS_PER_BATCH, never
 * larger than the dataset.
 */
export function defaultBatchSize(nTrain: number, maxLength?: number): number {
  positiveInt('nTrain', nTrain);
  let bs = nTrain <= 32 ? 4 : nTrain <= 500 ? 8 : nTrain <= 5000 ? 16 : 32;
  if (maxLength !== undefined) {
    positiveInt('maxLength', maxLength);
    while (bs > 1 && bs * maxLength > MAX_TOKENS_PER_BATCH) bs /= 2;
  }
  return Math.max(1, Math.min(bs, nTrain));
}

/**
 * Aim for at least this many updates: fewer leaves the head and warmup/decay schedule no room (a
 * 16-example set at batch 4 is only 4 updates per epoch). LM-BFF-style few-shot recipes use ~1000;
 * 150 is enough for a small set in practice, and early stopping ends runs that converge sooner.
 */
export const MIN_TOTAL_STEPS = 150;
/** Never fewer epochs than this (BERT paper: 2–4 epochs for full datasets). */
export const MIN_EPOCHS = 3;
/** Never more than this: past it tiny sets are memorised; more steps should come from more data. */
export const MAX_EPOCHS = 40;
/** Upper bound on updates for the default run (big datasets): keeps a browser session to minutes. */
export const MAX_TOTAL_STEPS = 3000;

/**
 * Epochs from dataset size: enough epochs to reach MIN_TOTAL_STEPS, clamped to
 * [MIN_EPOCHS, MAX_EPOCHS], then reduced (to at least 1) so the run stays within MAX_TOTAL_STEPS.
 */
export function defaultEpochs(nTrain: number, batchSize: number): number {
  positiveInt('nTrain', nTrain);
  positiveInt('batchSize', batchSize);
  const stepsPerEpoch = Math.ceil(nTrain / batchSize);
  let epochs = Math.min(MAX_EPOCHS, Math.max(MIN_EPOCHS, Math.ceil(MIN_TOTAL_STEPS / stepsPerEpoch)));
  if (epochs * stepsPerEpoch > MAX_TOTAL_STEPS) epochs = Math.max(1, Math.floor(MAX_TOTAL_STEPS / stepsPerEpoch));
  return epochs;
}

/** Sequence-length granularity: the batcher pads to multiples of 8 (see makeBatches). */
export const LENGTH_MULTIPLE = 8;
/** Used when no token lengths are known yet (e.g. before the data is tokenized). */
export const FALLBACK_MAX_LENGTH = 128;

/**
 * Max sequence length: the 95th percentile (nearest rank) of the token lengths, including special
 * tokens, rounded up to a multiple of 8 — so 95% of texts are never truncated while one very long
 * outlier cannot make every batch pay for it (attention cost grows with T²). Capped at the model's
 * max_position_embeddings rounded down to a multiple of 8 (positions beyond it do not exist).
 */
export function defaultMaxLength(tokenLengths: readonly number[], maxPositionEmbeddings = 512): number {
  positiveInt('maxPositionEmbeddings', maxPositionEmbeddings);
  const cap = Math.max(1, Math.floor(maxPositionEmbeddings / LENGTH_MULTIPLE) * LENGTH_MULTIPLE);
  if (tokenLengths.length === 0) return Math.min(FALLBACK_MAX_LENGTH, cap);
  const p95 = percentileNearestRank(tokenLengths, 0.95);
  return Math.min(cap, Math.max(LENGTH_MULTIPLE, roundUpToMultiple(p95, LENGTH_MULTIPLE)));
}

/** Evaluate about this many times per run: enough points for a dev curve and for early stopping. */
export const EVALS_PER_RUN = 10;
/** ...but at least every this many steps, so long runs still report progress. */
export const MAX_EVAL_EVERY = 500;

/** Steps between dev evaluations: ceil(totalSteps / 10), within [1, 500]. */
export function defaultEvalEvery(totalSteps: number): number {
  positiveInt('totalSteps', totalSteps);
  return Math.min(MAX_EVAL_EVERY, Math.max(1, Math.ceil(totalSteps / EVALS_PER_RUN)));
}

/**
 * Early-stopping patience in evaluations: 3 (the usual HF EarlyStoppingCallback setting), i.e. the
 * run stops after ~30% of its length without a better dev macro-F1; the best checkpoint is kept.
 * null without a dev set (nothing to stop on).
 */
export function defaultEarlyStoppingPatience(nDev: number): number | null {
  return nDev > 0 ? 3 : null;
}

export interface DataStats {
  /** Usable training rows. */
  nTrain: number;
  /** Dev rows (0 = no dev set: no early stopping). */
  nDev: number;
  /** Token length (with specials) of each training example; may be empty before tokenizing. */
  tokenLengths: readonly number[];
}

export interface ModelStats {
  hiddenSize: number;
  maxPositionEmbeddings: number;
}

/** All defaults for one run; any field can be overridden by the caller afterwards. */
export function suggestTrainingConfig(data: DataStats, model: ModelStats): TrainingDefaults {
  const maxLength = defaultMaxLength(data.tokenLengths, model.maxPositionEmbeddings);
  const batchSize = defaultBatchSize(data.nTrain, maxLength);
  const epochs = defaultEpochs(data.nTrain, batchSize);
  const stepsPerEpoch = Math.ceil(data.nTrain / batchSize);
  const totalSteps = epochs * stepsPerEpoch;
  return {
    learningRate: defaultLearningRate(model.hiddenSize),
    batchSize,
    epochs,
    totalSteps,
    stepsPerEpoch,
    maxLength,
    evalEvery: defaultEvalEvery(totalSteps),
    earlyStoppingPatience: defaultEarlyStoppingPatience(data.nDev),
    weightDecay: DEFAULT_WEIGHT_DECAY,
    warmupRatio: DEFAULT_WARMUP_RATIO,
    maxGradNorm: DEFAULT_MAX_GRAD_NORM,
    devFraction: DEFAULT_DEV_FRACTION,
    seed: DEFAULT_SEED,
  };
}

function positiveInt(name: string, x: number): void {
  if (!Number.isInteger(x) || x < 1) {
    throw new EngineError('DEFAULTS_BAD_INPUT', `${name} must be a positive integer, got ${x}.`);
  }
}

/**
 * Read the loss back every 4 steps: one async readback per 4 steps keeps GPU→CPU syncs rare while
 * the charts still move several times a second on a real GPU.
 */
export const DEFAULT_LOSS_READ_EVERY = 4;

/** Settings of a fine-tuning run (head or prompt method); anything left out takes its default. */
export interface FineTuneLoopSettings {
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
  /** Decoupled weight decay. Default DEFAULT_WEIGHT_DECAY. */
  weightDecay?: number;
  /** Fraction of optimizer steps spent warming up linearly from 0. Default DEFAULT_WARMUP_RATIO. */
  warmupRatio?: number;
  /** Global gradient-norm clip; 0 disables. Default DEFAULT_MAX_GRAD_NORM. */
  maxGradNorm?: number;
  /** Micro-batches summed per optimizer step. Default 1. */
  gradAccumSteps?: number;
  /** Dropout on during training. Default true; golden parity tests switch it off. */
  dropout?: boolean;
  /** Evaluate on dev every N optimizer steps as well as at epoch ends. Default 0 (epoch ends only). */
  evalEvery?: number;
  /** Stop after this many evaluations without a better dev score. Default 0 (never stop early). */
  patience?: number;
  /** Read the loss back every N steps (asynchronously). Default DEFAULT_LOSS_READ_EVERY. */
  lossReadEvery?: number;
  /** Learning-rate schedule. Default 'linear' (warmup then linear decay to 0). */
  schedule?: 'linear' | 'constant';
}

/** Loop options of a fine-tuning run with `batchesPerEpoch` micro-batches per epoch. */
export function fineTuneLoopOptions(settings: FineTuneLoopSettings, batchesPerEpoch: number): LoopOptions {
  const gradAccumSteps = settings.gradAccumSteps ?? 1;
  const stepsPerEpoch = Math.max(1, Math.ceil(batchesPerEpoch / gradAccumSteps));
  const totalSteps = stepsPerEpoch * settings.epochs;
  const schedule = settings.schedule ?? 'linear';
  // A constant schedule has no warmup unless asked: it is the golden-parity setting.
  const warmupRatio = schedule === 'linear' ? (settings.warmupRatio ?? DEFAULT_WARMUP_RATIO) : 0;
  return {
    totalSteps,
    learningRate: settings.learningRate,
    schedule,
    warmupSteps: warmupStepsFor(totalSteps, warmupRatio),
    weightDecay: settings.weightDecay ?? DEFAULT_WEIGHT_DECAY,
    maxGradNorm: settings.maxGradNorm ?? DEFAULT_MAX_GRAD_NORM,
    gradAccumSteps,
    seed: settings.seed,
    dropout: settings.dropout ?? true,
    evalEvery: settings.evalEvery ?? 0,
    evalAtEpochEnd: true,
    evalAtEnd: true,
    patience: settings.patience ?? 0,
    lossReadEvery: settings.lossReadEvery ?? DEFAULT_LOSS_READ_EVERY,
    keepBest: true,
    keepInitial: true,
  };
}
