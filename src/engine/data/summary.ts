/**
 * Counts behind the UI's validation report: classes, unlabeled rows, empty texts, duplicates
 * (and duplicates whose labels disagree), character lengths. Token lengths are checked
 * elsewhere (they need the tokenizer).
 */
import type { DatasetSummary, DuplicateGroup, LengthStats, MappedExample } from './types';

/** Row numbers kept in `unlabeledRows` (the count is `unlabeled`). */
export const MAX_SUMMARY_ROWS = 1000;

/** Duplicate key: trimmed, runs of whitespace as one space (case kept: cased models see case). */
function key(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

/** Length in Unicode code points (an emoji counts 1, not 2 UTF-16 units). */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const p = s.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) n--;
    }
  }
  return n;
}

/** Nearest-rank percentile of ascending `sorted`. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export function lengthStats(lengths: readonly number[]): LengthStats {
  if (lengths.length === 0) return { min: 0, max: 0, mean: 0, median: 0, p95: 0 };
  const sorted = Float64Array.from(lengths).sort();
  const arr = Array.from(sorted);
  const mean = arr.reduce((a, b) => a + b, 0) / arr.length;
  const mid = arr.length >> 1;
  const median = arr.length % 2 ? arr[mid] : (arr[mid - 1] + arr[mid]) / 2;
  return { min: arr[0], max: arr[arr.length - 1], mean, median, p95: percentile(arr, 0.95) };
}

export function summarizeDataset(examples: readonly MappedExample[]): DatasetSummary {
  const labelCounts = new Map<string, number>(); // insertion order = first-seen order
  const unlabeledRows: number[] = [];
  let unlabeled = 0;
  const emptyTexts: number[] = [];
  const emptyTextPairs: number[] = [];
  const textLengths: number[] = [];
  const pairLengths: number[] = [];
  const groups = new Map<string, DuplicateGroup>();
  let anyPair = false;

  for (const e of examples) {
    if (e.label === null) {
      unlabeled++;
      if (unlabeledRows.length < MAX_SUMMARY_ROWS) unlabeledRows.push(e.row);
    } else {
      labelCounts.set(e.label, (labelCounts.get(e.label) ?? 0) + 1);
    }
    if (e.text.trim() === '') emptyTexts.push(e.row);
    textLengths.push(codePoints(e.text));
    if (e.textPair !== undefined) {
      anyPair = true;
      if (e.textPair.trim() === '') emptyTextPairs.push(e.row);
      pairLengths.push(codePoints(e.textPair));
    }
    // Empty texts are reported as such, not as duplicates of each other.
    if (e.text.trim() === '' && (e.textPair ?? '').trim() === '') continue;
    const k = e.textPair === undefined ? key(e.text) : `${key(e.text)}\u0000${key(e.textPair)}`;
    const g = groups.get(k);
    if (g) {
      g.rows.push(e.row);
      if (!g.labels.includes(e.label)) g.labels.push(e.label);
    } else {
      const group: DuplicateGroup = { text: e.text, rows: [e.row], labels: [e.label] };
      if (e.textPair !== undefined) group.textPair = e.textPair;
      groups.set(k, group);
    }
  }

  const duplicates = [...groups.values()].filter((g) => g.rows.length > 1);
  for (const g of duplicates) g.rows.sort((a, b) => a - b);
  duplicates.sort((a, b) => a.rows[0] - b.rows[0]);
  const conflicts = duplicates.filter((g) => g.labels.filter((l) => l !== null).length > 1);

  return {
    total: examples.length,
    labeled: examples.length - unlabeled,
    unlabeled,
    unlabeledRows,
    labels: [...labelCounts].map(([label, count]) => ({ label, count })),
    emptyTexts,
    emptyTextPairs,
    duplicates,
    conflicts,
    textLength: lengthStats(textLengths),
    textPairLength: anyPair ? lengthStats(pairLengths) : null,
  };
}
