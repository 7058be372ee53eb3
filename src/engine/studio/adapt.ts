/**
 * "Adapt to my texts" (task-adaptive pretraining, Gururangan et al. 2020): continued masked-LM
 * training of a loaded model on the user's own texts, with settings chosen from the texts so a user
 * only picks the number of steps. Every 10th packed sequence is held out to report the MLM loss on
 * those texts before and after. The studio and `fewshot adapt` both run it from here; a diverged
 * run restores the starting weights (the loop keeps them).
 */
import { counted } from '../util/words';
import type { BertConfig, BertParams } from '../bert';
import { EngineError } from '../errors';
import { maskedLmTraining, type MlmEvaluation } from '../methods/mlm';
import { arrayCorpusSource } from '../pretrain/corpus';
import type { BertTokenizer } from '../tokenizer';
import type { LoopCallbacks, TrainingLoop } from '../train/loop';
import { DEFAULT_SEED } from '../train/defaults';

/** What adaptation needs from a model (FewShotModel has it). */
export interface AdaptableModel {
  params: BertParams;
  config: BertConfig;
  tokenizer: BertTokenizer;
  /** Longest sequence the model takes. */
  maxLength: number;
}

export interface AdaptOptions {
  steps: number;
  /** Peak learning rate. Default 1e-4: continued pretraining of an already pretrained encoder. */
  learningRate?: number;
  /** Masking, dropout and held-out seed. Default DEFAULT_SEED. */
  seed?: number;
}

export interface AdaptationPlan {
  steps: number;
  batchSize: number;
  maxLength: number;
  /** Packed training sequences (estimated from token counts) and held-out sequences. */
  sequences: number;
  heldOut: number;
  learningRate: number;
}

export interface AdaptResult {
  plan: AdaptationPlan;
  stepsDone: number;
  reason: 'completed' | 'stopped' | 'diverged';
  /** What happened, in a sentence (the divergence advice when the loss blew up). */
  message: string;
  /** Held-out MLM loss / accuracy on the user's own texts before and after adaptation. */
  before: { loss: number; accuracy: number };
  after: { loss: number; accuracy: number };
}

export interface AdaptRun {
  readonly plan: AdaptationPlan;
  readonly loop: TrainingLoop<unknown, MlmEvaluation>;
  /** Ends the run and scores the held-out texts again. */
  finish(reason?: 'completed' | 'stopped'): Promise<AdaptResult>;
  dispose(): void;
}

/** Largest batch: a few dozen texts pack into a handful of sequences anyway. */
const MAX_ADAPT_BATCH = 16;
/** Fewest packed sequences worth adapting on (one held out, the rest for training). */
const MIN_ADAPT_SEQUENCES = 4;
/** Continued pretraining of a pretrained encoder: 1e-4 (a tenth of the from-scratch rate). */
const ADAPT_LEARNING_RATE = 1e-4;

/** Plans and starts adaptation; throws a clear EngineError for unusable input. Scores the texts first. */
export async function startAdaptation(
  model: AdaptableModel,
  rawTexts: readonly string[],
  options: AdaptOptions,
  callbacks: LoopCallbacks<MlmEvaluation> = {},
): Promise<AdaptRun> {
  const texts = rawTexts.map((t) => t.trim()).filter(Boolean);
  if (texts.length === 0)
    throw new EngineError(
      'ADAPT_NO_TEXTS',
      'There are no texts to adapt to. Load a data file first (unlabeled rows count too).',
    );
  if (!Number.isInteger(options.steps) || options.steps < 1 || options.steps > 100_000) {
    throw new EngineError('ADAPT_BAD_STEPS', `Steps must be a whole number from 1 to 100000, got ${options.steps}.`);
  }
  // Short texts pack well into 64 tokens; longer ones keep 128 (the studio's usual max length).
  const tokens = texts.reduce((n, t) => n + model.tokenizer.encode(t, null, {}).ids.length - 2, 0);
  const maxLength = Math.min(model.maxLength, tokens / texts.length > 48 ? 128 : 64);
  const sequences = Math.max(1, Math.ceil(tokens / (maxLength - 2)));
  if (sequences < MIN_ADAPT_SEQUENCES) {
    throw new EngineError(
      'ADAPT_TOO_FEW_TEXTS',
      `The texts pack into only ${counted(sequences, 'sequence')} of ${maxLength} tokens; adaptation needs more text (a few hundred words at least).`,
    );
  }
  // Every 10th sequence is held out (at least one) to measure the MLM loss on the user's texts.
  const heldOut = Math.max(1, Math.floor(sequences / 10));
  const batchSize = Math.max(1, Math.min(MAX_ADAPT_BATCH, sequences - heldOut));
  const learningRate = options.learningRate ?? ADAPT_LEARNING_RATE;
  const plan: AdaptationPlan = {
    steps: options.steps,
    batchSize,
    maxLength,
    sequences: sequences - heldOut,
    heldOut,
    learningRate,
  };
  const source = arrayCorpusSource(texts, `${texts.length} texts`);
  const loop = await maskedLmTraining(
    model.params,
    model.config,
    model.tokenizer,
    source,
    {
      totalSteps: options.steps,
      maxLength,
      batchSize,
      learningRate,
      seed: options.seed ?? DEFAULT_SEED,
      heldOutSequences: heldOut,
      heldOutEvery: sequences >= 10 * heldOut ? 10 : 1,
      wholeWord: true,
      lossReadEvery: 1,
      keepInitial: true,
    },
    callbacks,
  );
  const score = async () => {
    const { metrics } = await loop.objective.evaluate();
    return { loss: metrics.loss, accuracy: metrics.accuracy };
  };
  const before = await score();
  return {
    plan,
    loop: loop as unknown as TrainingLoop<unknown, MlmEvaluation>,
    async finish(reason = 'completed') {
      const summary = await loop.finish(reason);
      return {
        plan,
        stepsDone: summary.steps,
        reason: summary.reason === 'diverged' ? 'diverged' : reason,
        message: summary.message,
        before,
        after: await score(),
      };
    },
    dispose() {
      loop.dispose();
    },
  };
}
