/**
 * Which columns hold the text, the optional second text and the label. Names decide first
 * (text/sentence/review…, label/class/category…); statistics decide otherwise: the text is the
 * column with the longest cells, the label a short, low-cardinality column. Every choice comes
 * with a reason in words for the column mapper in the UI.
 */
import type { DatasetRow, ParsedDataset } from './parse';

export interface ColumnMapping {
  text: string;
  textPair: string | null;
  label: string | null;
}

export interface DetectedColumns extends ColumnMapping {
  reasons: string[];
}

/** Names that usually hold the (first) text, most specific first. */
const TEXT_NAMES = ['text', 'sentence', 'sentence1', 'text_a', 'review', 'content', 'body', 'message', 'question', 'question1', 'utterance', 'document', 'premise', 'query', 'comment', 'tweet', 'description', 'title'];
/** Names that usually hold the second text of a pair. */
const PAIR_NAMES = ['text_pair', 'sentence2', 'text_b', 'hypothesis', 'question2', 'passage', 'context', 'answer'];
/** Names that usually hold the label. */
const LABEL_NAMES = ['label', 'labels', 'class', 'category', 'target', 'intent', 'sentiment', 'y', 'tag', 'topic', 'gold', 'annotation'];
/** A label column has at most this many distinct values per row (few classes, many rows)... */
const MAX_LABEL_CARDINALITY_RATIO = 0.5;
/** ...and short values. */
const MAX_LABEL_MEAN_LENGTH = 40;

const norm = (name: string) => name.trim().toLowerCase().replace(/[\s-]+/g, '_');

function stats(rows: readonly DatasetRow[], column: string) {
  let total = 0;
  let filled = 0;
  const distinct = new Set<string>();
  for (const r of rows) {
    const v = (r.values[column] ?? '').trim();
    if (!v) continue;
    filled++;
    total += v.length;
    distinct.add(v);
  }
  return { meanLength: filled ? total / filled : 0, distinct: distinct.size, filled };
}

export function detectColumns(columns: readonly string[], sampleRows: readonly DatasetRow[]): DetectedColumns {
  const reasons: string[] = [];
  const byName = (names: string[], exclude: (string | null)[]) => {
    for (const name of names) {
      const hit = columns.find((c) => norm(c) === name && !exclude.includes(c));
      if (hit) return hit;
    }
    return null;
  };
  const info = new Map(columns.map((c) => [c, stats(sampleRows, c)]));

  let label = byName(LABEL_NAMES, []);
  if (label) reasons.push(`label: column "${label}" by its name`);
  let text = byName(TEXT_NAMES, [label]);
  if (text) reasons.push(`text: column "${text}" by its name`);
  if (!text) {
    const candidates = columns.filter((c) => c !== label).sort((a, b) => info.get(b)!.meanLength - info.get(a)!.meanLength);
    text = candidates[0] ?? columns[0];
    reasons.push(`text: column "${text}" has the longest values (${info.get(text)!.meanLength.toFixed(0)} characters on average)`);
  }
  const textPair = byName(PAIR_NAMES, [label, text]);
  if (textPair) reasons.push(`second text: column "${textPair}" by its name`);
  if (!label) {
    const rows = Math.max(1, sampleRows.length);
    const candidates = columns
      .filter((c) => c !== text && c !== textPair)
      .map((c) => ({ c, s: info.get(c)! }))
      .filter(({ s }) => s.filled > 0 && s.distinct >= 1 && s.distinct / rows <= MAX_LABEL_CARDINALITY_RATIO && s.meanLength <= MAX_LABEL_MEAN_LENGTH)
      .sort((a, b) => a.s.distinct - b.s.distinct);
    if (candidates.length > 0) {
      label = candidates[0].c;
      reasons.push(`label: column "${label}" has few distinct short values (${candidates[0].s.distinct} in ${rows} rows)`);
    } else {
      reasons.push('label: no column looks like labels; rows are treated as unlabeled');
    }
  }
  return { text, textPair, label, reasons };
}

export interface MappedExample {
  text: string;
  textPair?: string;
  /** null when the label cell is empty (an unlabeled row, kept for prediction/adaptation). */
  label: string | null;
  row: number;
}

export function applyColumnMapping(parsed: Pick<ParsedDataset, 'rows'>, mapping: ColumnMapping): MappedExample[] {
  return parsed.rows.map((r) => {
    const label = mapping.label ? (r.values[mapping.label] ?? '').trim() : '';
    const example: MappedExample = { text: r.values[mapping.text] ?? '', label: label === '' ? null : label, row: r.row };
    if (mapping.textPair) example.textPair = r.values[mapping.textPair] ?? '';
    return example;
  });
}
