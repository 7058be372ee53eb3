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
import { defaultLabelWords, rankLabelWords, suggestionCandidates } from './label-words';
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
 * One word per label from the label's own name (`defaultLabelWords`: a name's distinctive whole
 * vocabulary word, "normal" for a negated name, never one word for two labels).
 */
export function labelNameVerbalizer(labels: readonly string[], tokenizer: BertTokenizer): VerbalizerSpec {
  const { verbalizer } = defaultLabelWords(labels, tokenizer);
  for (const label of labels) {
    if (tokenizer.tokenToId(verbalizer[label][0]) === undefined)
      throw new EngineError(
        'VERBALIZER_NO_WORD',
        `No word of the label name "${label}" is a free vocabulary token; give a verbalizer explicitly, e.g. --verbalizer '{"${label}": ["word"]}'.`,
      );
  }
  return verbalizer;
}

/** The recipe for a dataset (by folder name, then by an exact label-set match); null if none. */
export function findRecipe(dataset: string | null, labels: readonly string[]): PromptRecipe | null {
  const name = (dataset ?? '').toLowerCase();
  const byName = PROMPT_LIBRARY.find((r) => r.datasets.includes(name));
  if (byName) return byName;
  const sorted = [...labels].sort().join('\u0000');
  return PROMPT_LIBRARY.find((r) => r.labels && [...r.labels].sort().join('\u0000') === sorted) ?? null;
}

/**
 * Default (template, verbalizer) for a dataset: library recipe, else the intent template with
 * label-name words. A `given` verbalizer is kept as is, so labels whose names have no free
 * vocabulary word (banking77's `top_up_limits`) still get the dataset's template.
 */
export function defaultPrompt(
  dataset: string | null,
  labels: readonly string[],
  tokenizer: BertTokenizer,
  given?: VerbalizerSpec,
): { template: string; verbalizer: VerbalizerSpec; task: string } {
  const recipe = findRecipe(dataset, labels);
  if (recipe && recipe.verbalizers.length > 0)
    return { template: recipe.templates[0], verbalizer: given ?? recipe.verbalizers[0], task: recipe.task };
  const intent = PROMPT_LIBRARY.find((r) => r.task === 'intent')!;
  return {
    template: (recipe ?? intent).templates[0],
    verbalizer: given ?? labelNameVerbalizer(labels, tokenizer),
    task: recipe?.task ?? 'intent',
  };
}

export interface WordSuggestion {
  word: string;
  id: number;
  /** Mean log-prob at the mask for this class minus the mean over the other classes' means. */
  score: number;
  /** Mean log-prob at the mask over this class's rows. */
  logProb: number;
}

/**
 * Label-word suggestions per class (LM-BFF's automatic label-word search, without its
 * fine-tuning re-rank): the mean MLM log-prob of every vocabulary token at the mask over each
 * class's rows, then `rankLabelWords` over the frequent whole words (`suggestionCandidates`):
 * the `pruneK` words most likely for the class, ranked by their margin over the other classes.
 * Give it every labeled row (training and dev): more rows, steadier means.
 */
export async function suggestLabelWords(
  model: PromptModel,
  template: string,
  examples: readonly LabeledInput[],
  labels: readonly string[],
  options: { topK?: number; pruneK?: number; maxLength?: number; vocabWords?: number } = {},
): Promise<Record<string, WordSuggestion[]>> {
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
    const values = await lp.data(); // [B * V]
    lp.dispose();
    batch.indices.forEach((ex, row) => {
      const l = idx[ex];
      counts[l]++;
      for (let v = 0; v < V; v++) sums[l][v] += values[row * V + v];
    });
  }
  const means = sums.map((s, l) => s.map((x) => x / Math.max(1, counts[l]))); // per class: [V]
  const candidates = suggestionCandidates(model.tokenizer, options.vocabWords).filter((id) => id < V);
  const ranked = rankLabelWords(means, counts, candidates, { topK: options.topK ?? 10, pruneK: options.pruneK });
  return Object.fromEntries(
    labels.map((label, l) => [
      label,
      ranked[l].map((w) => ({ word: model.tokenizer.idToToken(w.id)!, id: w.id, score: w.score, logProb: w.logProb })),
    ]),
  );
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
