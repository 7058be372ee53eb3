/**
 * Finding a prompt: a small built-in library of LM-BFF-style templates and verbalizers per task,
 * label-word suggestions from the MLM distribution at the mask, and ranking of (template,
 * verbalizer) candidates by zero-shot dev accuracy.
 */
import * as tf from '@tensorflow/tfjs';
import { EngineError } from '../errors';
import { makeBatches } from '../train/batches';
import type { Metrics } from '../train/metrics';
import { bertEncoder, gatherPositions, mlmLogitsRows } from '../bert';
import type { BertTokenizer } from '../tokenizer';
import { compileTemplate } from './template';
import { buildVerbalizer, type VerbalizerSpec } from './verbalizer';
import {
  batchMaskPositions,
  encodePromptExamples,
  evaluatePrompt,
  type LabeledInput,
  type PromptModel,
} from './zero-shot';

export interface PromptRecipe {
  task: 'sentiment' | 'sentiment-5' | 'topic' | 'question-type' | 'intent' | 'spam' | 'subjectivity';
  /** Dataset folder names this recipe is the default for. */
  datasets: string[];
  /** Label set the verbalizers are written for (null: any labels, words from label names). */
  labels: string[] | null;
  /** First template = default. */
  templates: string[];
  /** First verbalizer = default. */
  verbalizers: VerbalizerSpec[];
}

export const PROMPT_LIBRARY: readonly PromptRecipe[] = [
  {
    task: 'sentiment',
    datasets: ['sst2', 'mr', 'cr'],
    labels: ['negative', 'positive'],
    templates: [
      '{text} It was [MASK].',
      '{text} A [MASK] one.',
      '{text} All in all, it was [MASK].',
      'It was [MASK]! {text}',
    ],
    verbalizers: [
      { positive: ['great'], negative: ['terrible'] },
      { positive: ['good'], negative: ['bad'] },
      { positive: ['great', 'good'], negative: ['terrible', 'bad'] },
    ],
  },
  {
    task: 'sentiment-5',
    datasets: ['sst5'],
    labels: ['very negative', 'negative', 'neutral', 'positive', 'very positive'],
    templates: ['{text} It was [MASK].', '{text} A [MASK] one.'],
    verbalizers: [
      {
        'very positive': ['great'],
        positive: ['good'],
        neutral: ['okay'],
        negative: ['bad'],
        'very negative': ['terrible'],
      },
    ],
  },
  {
    task: 'subjectivity',
    datasets: ['subj'],
    labels: ['objective', 'subjective'],
    templates: ['{text} This is [MASK].', '{text} It is [MASK].'],
    verbalizers: [
      { subjective: ['subjective'], objective: ['objective'] },
      { subjective: ['personal'], objective: ['factual'] },
    ],
  },
  {
    task: 'question-type',
    datasets: ['trec'],
    labels: ['abbreviation', 'description', 'entity', 'human', 'location', 'number'],
    templates: ['[MASK] : {text}', '{text} The answer is a [MASK].', 'Q: {text} A: [MASK].'],
    verbalizers: [
      {
        abbreviation: ['expression'],
        entity: ['entity'],
        description: ['description'],
        human: ['human'],
        location: ['location'],
        number: ['number'],
      },
      {
        abbreviation: ['abbreviation'],
        entity: ['thing'],
        description: ['description'],
        human: ['person'],
        location: ['place'],
        number: ['number'],
      },
    ],
  },
  {
    task: 'topic',
    datasets: ['ag_news'],
    labels: ['business', 'sci/tech', 'sports', 'world'],
    templates: ['[MASK] news : {text}', '{text} This topic is about [MASK].', 'A [MASK] article : {text}'],
    verbalizers: [
      { world: ['world'], sports: ['sports'], business: ['business'], 'sci/tech': ['technology'] },
      { world: ['politics'], sports: ['sports'], business: ['business'], 'sci/tech': ['science'] },
    ],
  },
  {
    task: 'spam',
    datasets: ['sms_spam'],
    labels: ['ham', 'spam'],
    templates: ['{text} This message is [MASK].', 'This is a [MASK] message : {text}'],
    verbalizers: [
      { ham: ['normal'], spam: ['spam'] },
      { ham: ['personal'], spam: ['advertising'] },
    ],
  },
  {
    task: 'intent',
    datasets: ['banking77'],
    labels: null,
    templates: ['{text} This is about [MASK].', '{text} The question is about [MASK].'],
    verbalizers: [],
  },
];

/**
 * One word per label from the label's own name: the first word of the name (split on `_`, `-`,
 * `/`, spaces) that is a whole vocabulary token and not taken by another label.
 */
export function labelNameVerbalizer(labels: readonly string[], tokenizer: BertTokenizer): VerbalizerSpec {
  const used = new Set<string>();
  const spec: VerbalizerSpec = {};
  for (const label of labels) {
    const words = label
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length > 1);
    const word = words.find((w) => tokenizer.tokenToId(w) !== undefined && !used.has(w));
    if (!word)
      throw new EngineError(
        'VERBALIZER_NO_WORD',
        `No word of the label name "${label}" is a free vocabulary token; give a verbalizer explicitly, e.g. --verbalizer '{"${label}": ["word"]}'.`,
      );
    used.add(word);
    spec[label] = [word];
  }
  return spec;
}

/** The recipe for a dataset (by folder name, then by an exact label-set match); null if none. */
export function findRecipe(dataset: string | null, labels: readonly string[]): PromptRecipe | null {
  const name = (dataset ?? '').toLowerCase();
  const byName = PROMPT_LIBRARY.find((r) => r.datasets.includes(name));
  if (byName) return byName;
  const sorted = [...labels].sort().join('\u0000');
  return PROMPT_LIBRARY.find((r) => r.labels && [...r.labels].sort().join('\u0000') === sorted) ?? null;
}

/** Default (template, verbalizer) for a dataset: library recipe, else the intent template with label-name words. */
export function defaultPrompt(
  dataset: string | null,
  labels: readonly string[],
  tokenizer: BertTokenizer,
): { template: string; verbalizer: VerbalizerSpec; task: string } {
  const recipe = findRecipe(dataset, labels);
  if (recipe && recipe.verbalizers.length > 0)
    return { template: recipe.templates[0], verbalizer: recipe.verbalizers[0], task: recipe.task };
  const intent = PROMPT_LIBRARY.find((r) => r.task === 'intent')!;
  return {
    template: (recipe ?? intent).templates[0],
    verbalizer: labelNameVerbalizer(labels, tokenizer),
    task: recipe?.task ?? 'intent',
  };
}

export interface WordSuggestion {
  word: string;
  id: number;
  /** Mean log-prob for this class minus the mean over the other classes' means. */
  score: number;
}

/** True for tokens that can be label words: whole words of letters, not special, not ##pieces. */
export function isCandidateWord(tokenizer: BertTokenizer, id: number): boolean {
  const tok = tokenizer.idToToken(id);
  if (!tok || tokenizer.specialTokenIds.has(id) || tok.startsWith('##') || /^\[.*\]$/.test(tok)) return false;
  return /^\p{L}{2,}$/u.test(tok);
}

/**
 * Label-word suggestions per class: for every vocabulary token, the mean MLM log-prob at the mask
 * over the class's examples minus the mean of that over the other classes; top `topK` per class.
 */
export async function suggestLabelWords(
  model: PromptModel,
  template: string,
  examples: readonly LabeledInput[],
  labels: readonly string[],
  options: { topK?: number; maxLength?: number } = {},
): Promise<Record<string, WordSuggestion[]>> {
  const topK = options.topK ?? 10;
  const maxLength = Math.min(options.maxLength ?? 128, model.maxLength);
  const V = model.config.vocab_size;
  const compiled = compileTemplate(template, model.tokenizer);
  const idx = examples.map((e) => labels.indexOf(e.label));
  if (idx.some((i) => i < 0))
    throw new EngineError('PROMPT_UNKNOWN_LABEL', `An example has a label outside ${labels.join(', ')}.`);
  const { examples: encoded } = encodePromptExamples(compiled, model.tokenizer, examples, idx, maxLength);
  const sums = labels.map(() => new Float64Array(V));
  const counts = new Array<number>(labels.length).fill(0);
  for (const batch of makeBatches(encoded, { batchSize: 16, maxLength, shuffle: false })) {
    const lp = tf.tidy(() => {
      const shape: [number, number] = [batch.batchSize, batch.seqLen];
      const hidden = bertEncoder(model.params, model.config, {
        inputIds: tf.tensor2d(batch.inputIds, shape, 'int32'),
        attentionMask: tf.tensor2d(batch.attentionMask, shape, 'int32'),
      }); // [B, T, H]
      const rows = gatherPositions(hidden, tf.tensor1d(batchMaskPositions(batch, encoded), 'int32')); // [B, H]
      return tf.logSoftmax(mlmLogitsRows(model.params, model.config, rows), -1); // [B, V]
    });
    const values = await lp.data();
    lp.dispose();
    batch.indices.forEach((ex, row) => {
      const l = idx[ex];
      counts[l]++;
      for (let v = 0; v < V; v++) sums[l][v] += values[row * V + v];
    });
  }
  const means = sums.map((s, l) => s.map((x) => x / Math.max(1, counts[l])));
  const out: Record<string, WordSuggestion[]> = {};
  labels.forEach((label, l) => {
    const others = labels.map((_, k) => k).filter((k) => k !== l && counts[k] > 0);
    const scored: WordSuggestion[] = [];
    if (counts[l] === 0) return void (out[label] = []);
    for (let v = 0; v < V && v < model.tokenizer.vocabSize; v++) {
      if (!isCandidateWord(model.tokenizer, v)) continue;
      const other = others.length ? others.reduce((s, k) => s + means[k][v], 0) / others.length : 0;
      scored.push({ word: model.tokenizer.idToToken(v)!, id: v, score: means[l][v] - other });
    }
    scored.sort((a, b) => b.score - a.score);
    out[label] = scored.slice(0, topK);
  });
  return out;
}

export interface PromptCandidate {
  template: string;
  verbalizer: VerbalizerSpec;
}

export interface RankedPrompt extends PromptCandidate {
  accuracy: number;
  macroF1: number;
  metrics: Metrics | null;
  /** Why the candidate could not be scored (bad template, word not in vocabulary, …). */
  error: string | null;
}

/** All template × verbalizer pairs of a recipe. */
export function recipeCandidates(
  recipe: PromptRecipe,
  labels: readonly string[],
  tokenizer: BertTokenizer,
): PromptCandidate[] {
  const verbalizers = recipe.verbalizers.length > 0 ? recipe.verbalizers : [labelNameVerbalizer(labels, tokenizer)];
  return recipe.templates.flatMap((template) => verbalizers.map((verbalizer) => ({ template, verbalizer })));
}

/** Scores candidates zero-shot on labeled dev examples; best first (accuracy, then macro-F1). */
export async function rankPrompts(
  model: PromptModel,
  candidates: readonly PromptCandidate[],
  dev: readonly LabeledInput[],
  labels: readonly string[],
  options: { calibrate?: boolean; maxLength?: number } = {},
): Promise<RankedPrompt[]> {
  const ranked: RankedPrompt[] = [];
  for (const c of candidates) {
    try {
      const v = buildVerbalizer(c.verbalizer, labels, model.tokenizer);
      const metrics = await evaluatePrompt(model, c.template, v, dev, options);
      ranked.push({ ...c, accuracy: metrics.accuracy, macroF1: metrics.macroF1, metrics, error: null });
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      ranked.push({ ...c, accuracy: -1, macroF1: -1, metrics: null, error: error.message });
    }
  }
  return ranked.sort((a, b) => b.accuracy - a.accuracy || b.macroF1 - a.macroF1);
}
