/** Pure helpers of the studio store (no DOM, no React): unit-tested in Node. */
import type { DatasetExample } from '../../worker/protocol';

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

export interface TokenStats {
  min: number;
  max: number;
  mean: number;
  p95: number;
}

export interface ValidationSummary {
  total: number;
  labelCounts: { label: string; count: number }[];
  unlabeled: number;
  /** 1-based file row numbers. */
  emptyTexts: number[];
  /** Groups of rows with the same text (and pair) and the same label. */
  duplicates: number[][];
  /** Groups of rows with the same text but different labels. */
  conflicts: number[][];
  tokens: TokenStats | null;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export function summarizeDataset(
  examples: readonly DatasetExample[],
  tokenLengths: readonly number[] | null,
): ValidationSummary {
  const counts = new Map<string, number>();
  let unlabeled = 0;
  const emptyTexts: number[] = [];
  const byText = new Map<string, DatasetExample[]>();
  for (const e of examples) {
    if (e.label === null) unlabeled++;
    else counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
    if (!e.text.trim()) {
      emptyTexts.push(e.row);
      continue;
    }
    const key = `${e.text.trim()}\u0000${(e.textPair ?? '').trim()}`;
    const group = byText.get(key);
    if (group) group.push(e);
    else byText.set(key, [e]);
  }
  const duplicates: number[][] = [];
  const conflicts: number[][] = [];
  for (const group of byText.values()) {
    if (group.length < 2) continue;
    const labels = new Set(group.map((e) => e.label).filter((l) => l !== null));
    (labels.size > 1 ? conflicts : duplicates).push(group.map((e) => e.row));
  }
  const labelCounts = [...counts.entries()]
    .map(([label, count]) => ({ label, count }))
    .sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
  let tokens: TokenStats | null = null;
  if (tokenLengths && tokenLengths.length > 0) {
    const sorted = [...tokenLengths].sort((a, b) => a - b);
    tokens = {
      min: sorted[0],
      max: sorted[sorted.length - 1],
      mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
      p95: percentile(sorted, 95),
    };
  }
  return { total: examples.length, labelCounts, unlabeled, emptyTexts, duplicates, conflicts, tokens };
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

/** Default label-word lines: the dataset's labels as their own words, else a sentiment example. */
export function defaultLabelWords(labels: readonly string[]): string {
  if (labels.length === 0) return 'positive: great, good\nnegative: terrible, bad';
  return labels.map((l) => `${l}: ${l.toLowerCase().replace(/[_-]+/g, ' ')}`).join('\n');
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
