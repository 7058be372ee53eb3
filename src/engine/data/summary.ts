/**
 * The dataset summary the Data panel renders: label counts, unlabeled and empty rows, duplicates
 * and conflicting labels, text and token lengths, and the issues training will report. It is
 * computed in the worker from the same `validateTrainingData` that training runs, so the panel and
 * training never disagree about which rows count (docs/ARCHITECTURE.md, "Data").
 */
import { lengthStats, type LengthStats } from '../util/stats';
import type { DatasetSummary, DuplicateGroup, MappedExample } from './types';
import { validateTrainingData } from './validate';

/** Row numbers kept in `unlabeledRows` (the count is `unlabeled`). */
export const MAX_SUMMARY_ROWS = 1000;

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

export interface SummaryOptions {
  /** Token count of each example (special tokens included), when a tokenizer is loaded. */
  tokenLengths?: readonly number[] | null;
}

export function summarizeDataset(examples: readonly MappedExample[], options: SummaryOptions = {}): DatasetSummary {
  const labelCounts = new Map<string, number>(); // insertion order = first-seen order
  const unlabeledRows: number[] = [];
  let unlabeled = 0;
  const emptyTexts: number[] = [];
  const emptyTextPairs: number[] = [];
  const textLengths: number[] = [];
  const pairLengths: number[] = [];
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
  }

  // Duplicates and conflicts exactly as training sees them (same key, same rules).
  const validation = validateTrainingData(examples);
  const group = (indices: number[]): DuplicateGroup => {
    const first = examples[indices[0]];
    const g: DuplicateGroup = {
      text: first.text,
      rows: indices.map((i) => examples[i].row),
      labels: [...new Set(indices.map((i) => examples[i].label))],
    };
    if (first.textPair !== undefined) g.textPair = first.textPair;
    return g;
  };
  const tokenLengths = options.tokenLengths ?? null;
  const tokens: LengthStats | null = tokenLengths && tokenLengths.length > 0 ? lengthStats(tokenLengths) : null;

  return {
    total: examples.length,
    labeled: examples.length - unlabeled,
    unlabeled,
    unlabeledRows,
    labels: [...labelCounts].map(([label, count]) => ({ label, count })),
    emptyTexts,
    emptyTextPairs,
    duplicates: validation.duplicateGroups.map(group),
    conflicts: validation.conflictGroups.map(group),
    usable: validation.trainRows.length,
    issues: validation.issues,
    textLength: lengthStats(textLengths),
    textPairLength: anyPair ? lengthStats(pairLengths) : null,
    tokens,
  };
}
