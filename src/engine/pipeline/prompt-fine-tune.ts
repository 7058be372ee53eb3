/**
 * Prompt-based fine-tuning (LM-BFF) on top of a `PreparedFineTune`: the same rows, split and
 * hyperparameters as the classifier-head method, rendered through a cloze template and trained
 * through the MLM head. Shared by `fewshot train --method prompt` and the worker session.
 */
import { buildVerbalizer, type VerbalizerSpec } from '../prompt/verbalizer';
import { compileTemplate } from '../prompt/template';
import { encodePromptExamples, type PromptExample } from '../prompt/zero-shot';
import { PromptTrainer } from '../prompt/trainer';
import type { PromptConfig } from '../prompt/config';
import type { Example } from '../data/dataset';
import type { TrainerCallbacks } from '../train/trainer';
import type { FewShotModel, TextInput } from './fewshot-model';
import type { PreparedFineTune } from './fine-tune';

export interface PromptFineTune {
  /** What the model will store in config.json and `predict` will use. */
  config: PromptConfig;
  /** Token budget: the head method's text budget plus the template's own tokens, a multiple of 8. */
  maxLength: number;
  train: PromptExample[];
  dev: PromptExample[];
  /** Template / verbalizer warnings (unknown words, label words split into several pieces). */
  warnings: string[];
  /** Renders and tokenizes more rows (e.g. a test file) the same way. */
  encode: (rows: readonly TextInput[], labelIndices: readonly number[] | null) => PromptExample[];
  createTrainer: (callbacks?: TrainerCallbacks) => PromptTrainer;
}

export function preparePromptFineTune(
  model: FewShotModel,
  prepared: PreparedFineTune,
  prompt: { template: string; verbalizer: VerbalizerSpec },
): PromptFineTune {
  const compiled = compileTemplate(prompt.template, model.tokenizer);
  const verbalizer = buildVerbalizer(prompt.verbalizer, prepared.labels, model.tokenizer);
  const config: PromptConfig = {
    template: prompt.template,
    verbalizer: Object.fromEntries(verbalizer.labels.map((l, i) => [l, [...verbalizer.words[i]]])),
  };
  const maxLength = Math.min(model.maxLength, Math.ceil((prepared.options.maxLength + compiled.fixedLength) / 8) * 8);
  const encode = (rows: readonly TextInput[], labelIndices: readonly number[] | null) =>
    encodePromptExamples(
      compiled,
      model.tokenizer,
      rows.map((r) => ({ text: r.text, textPair: r.textPair ?? null })),
      labelIndices,
      maxLength,
    ).examples;
  const indicesOf = (rows: readonly Example[]) => rows.map((r) => prepared.labels.indexOf(r.label!));
  const train = encode(prepared.trainExamples, indicesOf(prepared.trainExamples));
  const dev = encode(prepared.devExamples, indicesOf(prepared.devExamples));
  const { classWeights: _unused, ...options } = prepared.options;
  return {
    config,
    maxLength,
    train,
    dev,
    warnings: [...compiled.warnings, ...verbalizer.warnings],
    encode,
    createTrainer: (callbacks: TrainerCallbacks = {}) => {
      // config.json's id2label follows the prompt's labels, so the (unused) classifier must match
      // them for the exported folder to load: a fresh seeded head, as the head method starts with.
      model.setLabels(prepared.labels, prepared.options.seed);
      // Few-shot batches are small: accumulation folds back into one batch of the same effective size.
      const batchSize = options.batchSize * (options.gradAccumSteps ?? 1);
      return new PromptTrainer(
        model.params,
        model.config,
        verbalizer,
        train,
        dev,
        { ...options, gradAccumSteps: 1, batchSize, maxLength },
        callbacks,
      );
    },
  };
}
