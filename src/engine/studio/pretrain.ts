/**
 * Masked-LM pretraining through the door (`fewshot pretrain`): a model from a preset (random
 * weights, a given vocabulary) or a loaded one, the masked-LM method on the one loop, and
 * checkpoints of the loop's state to a store every N steps / M minutes so a run resumes exactly.
 */
import { BERT_PRESETS, bertPreset, type BertPresetName } from '../bert/config';
import { setSinusoidalPositions } from '../bert/params';
import { EngineError } from '../errors';
import {
  maskedLmTraining,
  type MlmEvaluation,
  type PretrainOptions,
  type ResolvedPretrainOptions,
} from '../methods/mlm';
import type { CorpusSource } from '../pretrain/corpus';
import type { BertTokenizer } from '../tokenizer';
import { LoopCheckpointer, type CheckpointSaved, type CheckpointStore } from '../train/checkpointer';
import type { LoopCallbacks, TrainingLoop } from '../train/loop';
import { FewShotModel } from './fewshot-model';

export { BERT_PRESETS, type BertPresetName, type MlmEvaluation, type PretrainOptions };

/** A model of a preset shape with random weights, for pretraining from scratch on `tokenizer`'s vocabulary. */
export function createModelFromPreset(
  preset: string,
  tokenizer: BertTokenizer,
  options: { maxLength: number; seed: number; positionInit?: 'keep' | 'sinusoidal' },
): FewShotModel {
  if (!(BERT_PRESETS as readonly string[]).includes(preset)) {
    throw new EngineError(
      'PRETRAIN_BAD_OPTIONS',
      `The preset must be one of ${BERT_PRESETS.join(', ')}, got "${preset}".`,
    );
  }
  const base = bertPreset(preset as BertPresetName);
  const config = bertPreset(preset as BertPresetName, {
    vocab_size: tokenizer.vocabSize,
    max_position_embeddings: Math.max(base.max_position_embeddings, options.maxLength),
  });
  const model = FewShotModel.fromConfig(config, tokenizer, { name: `${preset}-pretrained`, seed: options.seed });
  if (options.positionInit === 'sinusoidal') initSinusoidalPositions(model);
  return model;
}

/** Starts the position table from sin/cos rows (learns word order sooner; docs/PRETRAINING.md). */
export function initSinusoidalPositions(model: FewShotModel): void {
  setSinusoidalPositions(model.params);
}

export interface PretrainRunOptions extends PretrainOptions {
  /** Where checkpoints go and how often; null: no checkpoints. */
  checkpoint?: { store: CheckpointStore; everySteps: number; everyMinutes: number } | null;
  /** Continue from the store's checkpoint (the same options are required). */
  resume?: boolean;
}

export interface PretrainRun {
  readonly loop: TrainingLoop<unknown, MlmEvaluation>;
  readonly options: ResolvedPretrainOptions;
  /** True when the run continued from a checkpoint. */
  readonly resumed: boolean;
  /** Accuracy of always predicting the most frequent masked token of the held-out slice. */
  readonly unigramBaseline: number;
  /** One optimizer step, then a checkpoint when one is due; false when the run is over. */
  step(): Promise<boolean>;
  /** Saves a checkpoint now (an interrupted run); never overwrites a good one with a diverged run. */
  checkpoint(): Promise<void>;
  /** Held-out MLM loss and accuracy now. */
  evaluate(): Promise<MlmEvaluation>;
  dispose(): void;
}

export async function startPretraining(
  model: FewShotModel,
  source: CorpusSource,
  options: PretrainRunOptions,
  callbacks: LoopCallbacks<MlmEvaluation> & { onCheckpoint?: (info: CheckpointSaved) => void } = {},
): Promise<PretrainRun> {
  const { checkpoint, resume, ...pretrainOptions } = options;
  const loop = await maskedLmTraining(model.params, model.config, model.tokenizer, source, pretrainOptions, callbacks);
  const checkpointer = checkpoint
    ? new LoopCheckpointer(
        loop,
        checkpoint.store,
        { everySteps: checkpoint.everySteps, everyMinutes: checkpoint.everyMinutes },
        callbacks.onCheckpoint,
        (message) => callbacks.onLog?.('warn', message),
      )
    : null;
  let resumed = false;
  if (resume && checkpointer) {
    try {
      resumed = await checkpointer.resume();
    } catch (error) {
      loop.dispose();
      if (error instanceof EngineError && error.code === 'TRAIN_STATE_MISMATCH') {
        throw new EngineError(
          'PRETRAIN_CONFIG_MISMATCH',
          `Cannot resume from ${checkpoint!.store.description}: ${error.message.replace(/^Cannot continue from this state: /, '')} Use the same options, or a new --out folder to start a fresh run.`,
        );
      }
      throw error;
    }
  }
  return {
    loop: loop as unknown as TrainingLoop<unknown, MlmEvaluation>,
    options: loop.objective.options,
    resumed,
    unigramBaseline: loop.objective.unigramBaseline,
    async step() {
      const more = await loop.runStep();
      if (checkpointer && loop.summary?.reason !== 'diverged') await checkpointer.maybeSave();
      return more;
    },
    async checkpoint() {
      await checkpointer?.save();
    },
    async evaluate() {
      return (await loop.objective.evaluate()).metrics;
    },
    dispose() {
      loop.dispose();
    },
  };
}
