/** Pure helpers of the studio store (no DOM, no React): unit-tested in Node. */
import type { EmbeddingMapMethod } from '../../engine/studio';

/** Exponential moving average, bias-corrected like TensorBoard's smoothing (alpha = weight of history). */
export function emaSmooth(values: readonly number[], alpha = 0.8): number[] {
  const out: number[] = [];
  let acc = 0;
  let weight = 0;
  for (const v of values) {
    acc = alpha * acc + (1 - alpha) * v;
    weight = alpha * weight + (1 - alpha);
    out.push(acc / weight);
  }
  return out;
}

/** Histogram bins of token lengths for the data panel. */
export function histogram(values: readonly number[], binCount = 16): { start: number; end: number; count: number }[] {
  if (values.length === 0) return [];
  const max = Math.max(...values);
  const width = Math.max(1, Math.ceil((max + 1) / binCount));
  const bins = Array.from({ length: Math.ceil((max + 1) / width) }, (_, i) => ({
    start: i * width,
    end: (i + 1) * width - 1,
    count: 0,
  }));
  for (const v of values) bins[Math.floor(v / width)].count++;
  return bins;
}

/** A run estimated longer than this gets advice to make it shorter (the engine's LONG_RUN_SECONDS). */
export const LONG_RUN_SECONDS = 600;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/**
 * Default label-word lines. With `engineWords` (chosen by the engine with the model's vocabulary:
 * docs/PROMPT_LEARNING.md, "Label words") those; without a model, each label's name split on
 * `_`, `-`, spaces and camelCase, lower-cased, and its longest word, the last of equally long
 * ones (one word per label, never "non irony" as one "word"); with no labels, a sentiment example.
 */
export function defaultLabelWords(
  labels: readonly string[],
  engineWords: Record<string, string[]> | null = null,
): string {
  if (labels.length === 0) return 'positive: great, good\nnegative: terrible, bad';
  const nameWord = (label: string) =>
    label
      .replace(/(\p{Ll}|\p{N})(\p{Lu})/gu, '$1 $2')
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter(Boolean)
      .reduce((best, w) => (w.length >= best.length ? w : best), '') || label;
  return labels.map((l) => `${l}: ${(engineWords?.[l] ?? [nameWord(l)]).join(', ')}`).join('\n');
}

/**
 * Parses label-word lines (`label: word, word`) into a verbalizer. Returns an error sentence naming
 * the line for anything malformed.
 */
export function parseLabelWords(text: string): { verbalizer: Record<string, string[]> } | { error: string } {
  const verbalizer: Record<string, string[]> = {};
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return { error: `Line ${i + 1} ("${line}") needs the form "label: word, word".` };
    const label = line.slice(0, colon).trim();
    const words = line
      .slice(colon + 1)
      .split(',')
      .map((w) => w.trim())
      .filter(Boolean);
    if (words.length === 0) return { error: `Line ${i + 1}: give at least one word for "${label}".` };
    if (verbalizer[label]) return { error: `Line ${i + 1}: "${label}" appears twice; put all its words on one line.` };
    verbalizer[label] = words;
  }
  if (Object.keys(verbalizer).length < 2) return { error: 'Give label words for at least two labels, one line each.' };
  return { verbalizer };
}

/** "1 row", "3 rows": a count with its noun, singular only for exactly one. */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? singular : pluralForm}`;
}

/**
 * The mask token as the tokenizer knows it: `[mask]` or `[Mask]` typed by hand becomes `[MASK]`
 * (special tokens match case-sensitively, so the lower-case form would be split into word pieces).
 */
export function normalizeMaskTokens(text: string): string {
  return text.replace(/\[mask\]/gi, '[MASK]');
}

/**
 * Dev sets below this many rows get a warning in the Evaluate panel, and the engine keeps the last
 * weights instead of the best-scoring step on them. The same number as the engine's SMALL_DEV_ROWS
 * (src/engine/util/stats.ts, where the reason is): the UI may not run engine code, so it is
 * repeated here, and tests/ui-engine-constants.test.ts checks that the two agree.
 */
export const SMALL_DEV_ROWS = 20;

/**
 * The ± of an accuracy, in percentage points (half the 95 % interval's width, like the engine's
 * `formatAccuracyWithInterval`), and the interval itself in words for a tooltip; null when the
 * metrics carry no interval (saved before it was added).
 */
export function accuracyPlusMinus(interval: { low: number; high: number } | undefined): {
  plusMinus: string;
  range: string;
} | null {
  if (!interval) return null;
  const { low, high } = interval;
  return {
    plusMinus: `± ${Math.round((100 * (high - low)) / 2)}`,
    range: `95 % interval: ${Math.round(100 * low)}–${Math.round(100 * high)} %`,
  };
}

/** A size in binary units, e.g. "1.0 GiB", "45 MiB", "12 KiB" (buffer limits, storage used). */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

/** Most rows the Data panel's map draws: the engine's MAX_MAP_ROWS (tests/ui-engine-constants.test.ts). */
export const MAX_MAP_ROWS = 20_000;
/** Most rows a UMAP map lays out: the engine's UMAP_MAX_ROWS (tests/ui-engine-constants.test.ts). */
export const UMAP_MAX_ROWS = 10_000;

/**
 * The layout a map of `rows` rows is drawn with: the user's choice, except PCA where UMAP would refuse
 * that many rows. The choice itself is kept, so a smaller file afterwards is drawn with UMAP again.
 */
export function mapLayoutFor(chosen: EmbeddingMapMethod, rows: number): EmbeddingMapMethod {
  return chosen === 'umap' && rows > UMAP_MAX_ROWS ? 'pca' : chosen;
}
