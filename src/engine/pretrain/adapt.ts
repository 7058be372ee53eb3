/**
 * "Adapt to my texts" (task-adaptive pretraining, Gururangan et al. 2020): continued MLM
 * pretraining of a loaded model on the user's own texts, with settings chosen from the texts so a
 * user only picks the number of steps. Shared by the worker session and `fewshot adapt`.
 */
import { EngineError } from '../errors';
import type { FewShotModel } from '../pipeline/fewshot-model';
import { arrayCorpusSource } from './corpus';
import { MlmPretrainer, type PretrainEvents } from './trainer';

export interface AdaptOptions {
  steps: number;
  /** Peak learning rate. Default 1e-4: continued pretraining of an already pretrained encoder. */
  learningRate?: number;
  /** Masking, dropout and held-out seed. Default 42. */
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

/** Largest batch: a few dozen texts pack into a handful of sequences anyway. */
const MAX_ADAPT_BATCH = 16;
/** Fewest packed sequences worth adapting on (one held out, the rest for training). */
const MIN_ADAPT_SEQUENCES = 4;

/** Builds (but does not init) the pretrainer; throws a clear EngineError for unusable input. */
export function prepareAdaptation(
  model: FewShotModel,
  rawTexts: readonly string[],
  options: AdaptOptions,
  events: PretrainEvents = {},
): { pretrainer: MlmPretrainer; plan: AdaptationPlan } {
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
      `The texts pack into only ${sequences} sequence(s) of ${maxLength} tokens; adaptation needs more text (a few hundred words at least).`,
    );
  }
  // Every 10th sequence is held out (at least one) to measure the MLM loss on the user's texts.
  const heldOut = Math.max(1, Math.floor(sequences / 10));
  const batchSize = Math.max(1, Math.min(MAX_ADAPT_BATCH, sequences - heldOut));
  const learningRate = options.learningRate ?? 1e-4;
  const source = arrayCorpusSource(texts, `${texts.length} texts`);
  const pretrainer = new MlmPretrainer(
    model.params,
    model.config,
    model.tokenizer,
    source,
    {
      totalSteps: options.steps,
      maxLength,
      batchSize,
      learningRate,
      seed: options.seed ?? 42,
      heldOutSequences: heldOut,
      heldOutEvery: sequences >= 10 * heldOut ? 10 : 1,
      wholeWord: true,
      lossReadEvery: 1,
    },
    events,
  );
  return {
    pretrainer,
    plan: { steps: options.steps, batchSize, maxLength, sequences: sequences - heldOut, heldOut, learningRate },
  };
}
