/**
 * Prompts through the door: zero-shot classification with a cloze template and label words, and
 * prompt suggestion (label words and library prompts ranked on every labeled row).
 * The studio and `fewshot zero-shot` both call these, so the same data gives the same suggestions
 * (docs/PROMPT_LEARNING.md).
 */
import type { Example } from '../data/dataset';
import { buildLabelVocab, stratifiedSplit } from '../data/dataset';
import { requireTrainingData } from '../data/validate';
import {
  PROMPT_LIBRARY,
  findRecipe,
  labelNameVerbalizer,
  rankPrompts,
  recipeCandidates,
  suggestLabelWords,
  type PromptCandidate,
} from '../prompt/search';
import { defaultLabelWords, type DefaultLabelWords } from '../prompt/label-words';
import { compileTemplate } from '../prompt/template';
import type { BertTokenizer } from '../tokenizer';
import { buildVerbalizer } from '../prompt/verbalizer';
import { evaluatePrompt, zeroShotProbabilities, type LabeledInput } from '../prompt/zero-shot';
import { toPredictions, type Prediction } from '../prompt/config';
import { DEFAULT_DEV_FRACTION, DEFAULT_SEED } from '../train/defaults';
import type { Metrics } from '../train/metrics';
import type { FewShotModel, TextInput } from './fewshot-model';

/** A cloze prompt asked without training: `{text} It was [MASK].` plus label words per class. */
export interface ZeroShotParams {
  template: string;
  /** Label → one or more label words, in label order. */
  verbalizer: Record<string, string[]>;
  /** Divide by the label-word prior measured on a content-free input ("calibrate before use"). */
  calibrate: boolean;
  /** Texts to score. */
  inputs: TextInput[];
  /** Labeled rows: the prompt is also scored on the dev split training would use. */
  labeled: Example[] | null;
  /** Seed of the dev split (the training seed, so both score the same rows). Default DEFAULT_SEED. */
  seed?: number;
  /** Longest rendered prompt in tokens. Default 128. */
  maxLength?: number;
}

export interface ZeroShotResult {
  labels: string[];
  predictions: Prediction[];
  /** Template / verbalizer warnings (unknown words, label words split into pieces). */
  warnings: string[];
  /** Accuracy of the prompt on the dev split, or null without labeled data. */
  evaluation: { accuracy: number; macroF1: number; n: number; autoSplit: boolean } | null;
  /** Why there is no evaluation although labeled rows were given. */
  evaluationNote: string | null;
}

/** The train/dev split training would make of these rows (same validation, seed and fraction). */
export function trainingSplit(
  labeled: readonly Example[],
  seed: number = DEFAULT_SEED,
): { labels: string[]; train: LabeledInput[]; dev: LabeledInput[] } {
  const validation = requireTrainingData(labeled);
  const split = stratifiedSplit(validation.train, { devFraction: DEFAULT_DEV_FRACTION, seed });
  const asInput = (e: Example): LabeledInput => ({ text: e.text, textPair: e.textPair ?? null, label: e.label! });
  // Labels in the order training gives them (first seen in the training split).
  return { labels: buildLabelVocab(split.train), train: split.train.map(asInput), dev: split.dev.map(asInput) };
}

/**
 * Default label words for a dataset's labels with this tokenizer: the built-in library's words for
 * a label set it knows (when they are whole vocabulary words), else words from the label names
 * (`defaultLabelWords`, docs/PROMPT_LEARNING.md, "Label words").
 */
export function defaultLabelWordsFor(labels: readonly string[], tokenizer: BertTokenizer): DefaultLabelWords {
  return defaultLabelWords(labels, tokenizer, findRecipe(null, labels)?.verbalizers ?? []);
}

/** Zero-shot class probabilities through a prompt, with the weights as they are now. */
export async function zeroShot(model: FewShotModel, params: ZeroShotParams): Promise<ZeroShotResult> {
  const labels = Object.keys(params.verbalizer);
  const template = compileTemplate(params.template, model.tokenizer);
  const verbalizer = buildVerbalizer(params.verbalizer, labels, model.tokenizer);
  const options = { calibrate: params.calibrate, maxLength: params.maxLength };
  const rows =
    params.inputs.length > 0 ? await zeroShotProbabilities(model, template, verbalizer, params.inputs, options) : [];
  let evaluation: ZeroShotResult['evaluation'] = null;
  let evaluationNote: string | null = null;
  if (params.labeled && params.labeled.length > 0) {
    const split = trainingSplit(params.labeled, params.seed);
    const missing = split.labels.filter((l) => !labels.includes(l));
    if (missing.length > 0)
      evaluationNote = `No label words for ${missing.map((l) => `"${l}"`).join(', ')}: give every label of the data at least one word to score the prompt on the dev split.`;
    else if (split.dev.length === 0) evaluationNote = 'The dev split is empty (too few labeled rows).';
    else {
      const metrics = await evaluatePrompt(model, template, verbalizer, split.dev, options);
      evaluation = { accuracy: metrics.accuracy, macroF1: metrics.macroF1, n: metrics.n, autoSplit: true };
    }
  }
  return {
    labels,
    predictions: toPredictions(labels, rows),
    warnings: [...template.warnings, ...verbalizer.warnings],
    evaluation,
    evaluationNote,
  };
}

/** Metrics of a prompt on labeled rows (no split): the few-shot benchmark's zero-shot method. */
export async function evaluatePromptOn(
  model: FewShotModel,
  prompt: { template: string; verbalizer: Record<string, string[]>; calibrate?: boolean },
  rows: readonly LabeledInput[],
  labels: readonly string[],
  options: { maxLength?: number } = {},
): Promise<Metrics> {
  const verbalizer = buildVerbalizer(prompt.verbalizer, labels, model.tokenizer);
  return evaluatePrompt(model, prompt.template, verbalizer, rows, { calibrate: prompt.calibrate, ...options });
}

/** Prompt suggestions for labeled data (LM-BFF-style automatic search, simplified). */
export interface SuggestPromptsParams {
  /** Template the label words are searched for. */
  template: string;
  labeled: Example[];
  /** Seed of the train/dev split (the training seed), which orders the rows. Default DEFAULT_SEED. */
  seed?: number;
  /** Words per label. Default 8. */
  topK?: number;
}

export interface SuggestPromptsResult {
  labels: string[];
  /**
   * Per label: frequent whole words the model finds likely at the [MASK] for that label's rows and
   * less likely for the others (`score`: the margin in mean log-probability).
   */
  words: Record<string, { word: string; score: number }[]>;
  /** Library prompts for these labels (plus label-name words), ranked by zero-shot accuracy on all labeled rows. */
  ranked: {
    template: string;
    verbalizer: Record<string, string[]>;
    accuracy: number;
    macroF1: number;
    error: string | null;
  }[];
  /** Labeled rows the words and the ranking were measured on (training and dev rows together). */
  rowCount: number;
}

/**
 * Label-word suggestions and library prompts for these labels ranked by zero-shot accuracy, both on
 * every labeled row training would use (its training and dev split together: nothing is trained
 * here, and with K = 8–16 rows per class the dev split alone is a handful of rows whose accuracy
 * moves in steps of 10–20 points). LM-BFF searches its label words on the training rows of each
 * class the same way (docs/PROMPT_LEARNING.md, "Finding a prompt").
 */
export async function suggestPrompts(model: FewShotModel, params: SuggestPromptsParams): Promise<SuggestPromptsResult> {
  const split = trainingSplit(params.labeled, params.seed);
  const labels = split.labels;
  const rows = [...split.train, ...split.dev];
  const suggestions = await suggestLabelWords(model, params.template, rows, labels, { topK: params.topK ?? 8 });
  const words = Object.fromEntries(
    Object.entries(suggestions).map(([label, list]) => [label, list.map((w) => ({ word: w.word, score: w.score }))]),
  );
  const recipe = findRecipe(null, labels);
  const candidates: PromptCandidate[] = recipe ? recipeCandidates(recipe, labels, model.tokenizer) : [];
  // Label names as words under every library template not already covered.
  try {
    const byName = labelNameVerbalizer(labels, model.tokenizer);
    const templates = recipe ? recipe.templates : [...new Set(PROMPT_LIBRARY.flatMap((r) => r.templates.slice(0, 1)))];
    for (const template of templates) candidates.push({ template, verbalizer: byName });
  } catch {
    /* some label has no usable word: the library verbalizers (if any) still rank */
  }
  const top = Object.fromEntries(labels.map((l) => [l, words[l]?.[0] ? [words[l][0].word] : []]));
  if (labels.every((l) => top[l].length > 0)) candidates.push({ template: params.template, verbalizer: top });
  const ranked = rows.length > 0 ? await rankPrompts(model, candidates, rows, labels) : [];
  const normalize = (v: PromptCandidate['verbalizer']) =>
    Object.fromEntries(Object.entries(v).map(([l, w]) => [l, typeof w === 'string' ? [w] : [...w]]));
  return {
    labels,
    words,
    ranked: ranked.map((r) => ({
      template: r.template,
      verbalizer: normalize(r.verbalizer),
      accuracy: r.accuracy,
      macroF1: r.macroF1,
      error: r.error,
    })),
    rowCount: rows.length,
  };
}
