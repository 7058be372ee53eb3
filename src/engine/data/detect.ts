/**
 * Which columns hold the text, the optional second text and the label, with reasons in words
 * for the column mapper in the UI; and the mapping of parsed rows onto training examples.
 *
 * Names decide first (see names.ts); statistics decide otherwise: the text is the column with
 * the longest cells, the label a column with few distinct, short values. The second text of a
 * pair is only ever chosen by name (guessing it from statistics would silently turn a
 * single-text task into a pair task).
 */
import { counted } from '../util/words';
import { EngineError } from '../errors';
import { ID_NAMES, LABEL_NAMES, PAIR_NAMES, TEXT_NAMES, nameMatch, normalizeName } from './names';
import type { ColumnMapping, Confidence, DetectedColumns, MappedExample, ParsedDataset, ParsedRow } from './types';

/** A label column has at most this many distinct values per filled row (few classes, many rows). */
const MAX_LABEL_DISTINCT_RATIO = 0.5;
/** ...and values this short on average (characters); class names are short. */
const MAX_LABEL_MEAN_LENGTH = 30;
/** Statistical label choice is "medium" (not "low") with at most this distinct ratio... */
const CONFIDENT_LABEL_RATIO = 0.2;
/** ...over at least this many filled rows. */
const CONFIDENT_LABEL_ROWS = 10;
/** Statistical text choice is "medium" when its cells are this many times longer than the runner-up... */
const TEXT_LENGTH_MARGIN = 2;
/** ...and at least this long on average (characters). */
const MIN_CONFIDENT_TEXT_LENGTH = 15;
/** Distinct label values quoted in a reason. */
const QUOTED_VALUES = 4;

interface ColumnStats {
  name: string;
  index: number;
  filled: number;
  meanLength: number;
  distinct: Set<string>;
  numericShare: number;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function statsOf(columns: readonly string[], rows: readonly ParsedRow[]): ColumnStats[] {
  return columns.map((name, index) => {
    let filled = 0;
    let total = 0;
    let numeric = 0;
    const distinct = new Set<string>();
    for (const r of rows) {
      const v = (r.values[name] ?? '').trim();
      if (!v) continue;
      filled++;
      total += v.length;
      distinct.add(v);
      if (NUMBER.test(v)) numeric++;
    }
    return {
      name,
      index,
      filled,
      meanLength: filled ? total / filled : 0,
      distinct,
      numericShare: filled ? numeric / filled : 0,
    };
  });
}

const rank: Record<Confidence, number> = { low: 0, medium: 1, high: 2 };
const lowest = (a: Confidence, b: Confidence): Confidence => (rank[a] <= rank[b] ? a : b);

function labelLike(s: ColumnStats): boolean {
  return (
    s.filled > 0 &&
    s.distinct.size < s.filled &&
    s.distinct.size <= MAX_LABEL_DISTINCT_RATIO * s.filled &&
    s.meanLength <= MAX_LABEL_MEAN_LENGTH
  );
}

function quoteValues(s: ColumnStats): string {
  const values = [...s.distinct].slice(0, QUOTED_VALUES).map((v) => `"${v}"`);
  return s.distinct.size > QUOTED_VALUES ? `${values.join(', ')}, …` : values.join(', ');
}

const avg = (s: ColumnStats) => `${Math.round(s.meanLength)} characters on average`;

type Role = 'pair' | 'label' | 'text' | 'id' | null;

/** The role a column's name suggests: an exact name in any list wins over a word of a name. */
function roleByName(name: string): { role: Role; exact: boolean } {
  const lists: [Role, readonly string[]][] = [
    ['pair', PAIR_NAMES],
    ['label', LABEL_NAMES],
    ['text', TEXT_NAMES],
    ['id', ID_NAMES],
  ];
  for (const [role, list] of lists) if (list.includes(normalizeName(name))) return { role, exact: true };
  for (const [role, list] of lists)
    if (role !== 'id' && nameMatch(name, list) === 'word') return { role, exact: false };
  return { role: null, exact: false };
}

/**
 * Guesses the mapping from the column names and a sample of rows (a few hundred to a few
 * thousand rows are plenty; all rows work too, in one pass per column).
 */
export function detectColumns(columns: readonly string[], sampleRows: readonly ParsedRow[]): DetectedColumns {
  if (columns.length === 0) throw new EngineError('DATA_NO_COLUMNS', 'The dataset has no columns to choose from.');
  const stats = statsOf(columns, sampleRows);
  const roles = new Map(columns.map((c) => [c, roleByName(c)]));
  const reasons: string[] = [];

  // --- text ---
  let text: ColumnStats;
  let textConfidence: Confidence;
  const named = stats.filter((s) => roles.get(s.name)!.role === 'text');
  const longest = (list: ColumnStats[]) => list.reduce((a, b) => (b.meanLength > a.meanLength ? b : a));
  const free = stats.filter((s) => roles.get(s.name)!.role === null && s.numericShare < 0.5);
  if (named.length > 0) {
    text = longest(named);
    const rival = free.find((s) => s.meanLength > text.meanLength * TEXT_LENGTH_MARGIN);
    textConfidence = roles.get(text.name)!.exact && !rival ? 'high' : 'medium';
    reasons.push(
      `Text: "${text.name}" — a usual name for the text column${named.length > 1 ? `, with the longest cells of ${named.map((s) => `"${s.name}"`).join(', ')}` : ''} (${avg(text)}).${rival ? ` Note: "${rival.name}" has much longer cells; choose it if it holds the text.` : ''}`,
    );
  } else if (free.length > 0) {
    text = longest(free);
    const others = free.filter((s) => s !== text);
    const runnerUp = others.length > 0 ? longest(others).meanLength : 0;
    textConfidence =
      text.meanLength >= MIN_CONFIDENT_TEXT_LENGTH && text.meanLength >= runnerUp * TEXT_LENGTH_MARGIN
        ? 'medium'
        : 'low';
    reasons.push(
      `Text: "${text.name}" — no column has a usual text name (text, sentence, review, …); this one has the longest cells (${avg(text)}).`,
    );
  } else {
    // Nothing looks like text: take the first column that is not label-named, else the first.
    text = stats.find((s) => roles.get(s.name)!.role !== 'label') ?? stats[0];
    textConfidence = 'low';
    reasons.push(`Text: "${text.name}" — no column looks like text; please choose the text column.`);
  }

  // --- second text of a pair (by name only) ---
  const pairCandidates = stats.filter((s) => s !== text && roles.get(s.name)!.role === 'pair');
  const pair = pairCandidates.find((s) => roles.get(s.name)!.exact) ?? pairCandidates[0] ?? null;
  if (pair)
    reasons.push(
      `Second text: "${pair.name}" — a usual name for the second sentence of a pair (${avg(pair)}); each example is the pair ("${text.name}", "${pair.name}").`,
    );

  // --- label ---
  let label: ColumnStats | null = null;
  let labelConfidence: Confidence;
  const rest = stats.filter((s) => s !== text && s !== pair);
  const labelNamed = rest
    .filter((s) => roles.get(s.name)!.role === 'label')
    .sort(
      (a, b) =>
        Number(roles.get(b.name)!.exact) - Number(roles.get(a.name)!.exact) ||
        LABEL_NAMES.indexOf(normalizeName(a.name)) - LABEL_NAMES.indexOf(normalizeName(b.name)),
    );
  if (labelNamed.length > 0) {
    label = labelNamed[0];
    // `label` as numbers next to `label_text` with the same classes as names: take the names.
    const readable = labelNamed.find(
      (s) => s !== label && s.numericShare === 0 && s.distinct.size === label!.distinct.size,
    );
    let why = 'a usual name for the label column';
    if (label.numericShare === 1 && readable) {
      why = `has the same ${readable.distinct.size} classes as "${label.name}" but as names instead of numbers`;
      label = readable;
    }
    const fits = labelLike(label) || sampleRows.length < CONFIDENT_LABEL_ROWS;
    labelConfidence = fits ? 'high' : 'medium';
    reasons.push(
      `Label: "${label.name}" — ${why}; ${counted(label.distinct.size, 'distinct value')} in the sample (${quoteValues(label)}).${fits ? '' : ` That is many for ${label.filled} rows: check it holds class names.`}`,
    );
  } else {
    const candidates = rest.filter((s) => roles.get(s.name)!.role !== 'id' && labelLike(s));
    if (candidates.length > 0) {
      // Fewest distinct values per row; on a tie the later column (labels usually come last).
      label = candidates.reduce((a, b) => (b.distinct.size / b.filled <= a.distinct.size / a.filled ? b : a));
      const ratio = label.distinct.size / label.filled;
      labelConfidence = ratio <= CONFIDENT_LABEL_RATIO && label.filled >= CONFIDENT_LABEL_ROWS ? 'medium' : 'low';
      reasons.push(
        `Label: "${label.name}" — no column has a usual label name; this one has few distinct short values (${label.distinct.size} in ${label.filled} rows: ${quoteValues(label)}).`,
      );
    } else {
      labelConfidence = rest.some((s) => roles.get(s.name)!.role !== 'id' && s.filled > 0) ? 'low' : 'medium';
      reasons.push(
        `Label: none — no column looks like class labels, so every row is unlabeled (usable for prediction, not for training). Choose the label column if the file has one.`,
      );
    }
  }

  return {
    text: text.name,
    textPair: pair?.name ?? null,
    label: label?.name ?? null,
    confidence: lowest(textConfidence, labelConfidence),
    reasons,
  };
}

/**
 * Rows → examples under a mapping. The text is kept as is; an empty label cell (after trimming)
 * gives `label: null` (unlabeled, kept); labels are trimmed. Throws `DATA_BAD_MAPPING` for a
 * column that does not exist or is used twice.
 */
export function applyColumnMapping(
  parsed: Pick<ParsedDataset, 'fileName' | 'columns' | 'rows'>,
  mapping: ColumnMapping,
): MappedExample[] {
  const { fileName, columns } = parsed;
  const used = [mapping.text, mapping.textPair, mapping.label].filter((c): c is string => c !== null);
  for (const c of used) {
    if (!columns.includes(c)) {
      throw new EngineError(
        'DATA_BAD_MAPPING',
        `${fileName} has no column "${c}". Its columns are: ${columns.map((x) => `"${x}"`).join(', ')}. Pick one of them.`,
      );
    }
  }
  if (new Set(used).size !== used.length) {
    throw new EngineError(
      'DATA_BAD_MAPPING',
      `The same column of ${fileName} is mapped twice (text "${mapping.text}", second text "${mapping.textPair ?? '—'}", label "${mapping.label ?? '—'}"). Choose a different column for each role.`,
    );
  }
  return parsed.rows.map((r) => {
    const example: MappedExample = { text: r.values[mapping.text] ?? '', label: null, row: r.row };
    if (mapping.textPair !== null) example.textPair = r.values[mapping.textPair] ?? '';
    if (mapping.label !== null) {
      const label = (r.values[mapping.label] ?? '').trim();
      if (MISSING_LABEL_MARKERS.has(label.toLowerCase())) example.missingLabel = label;
      else example.label = label === '' ? null : label;
    }
    return example;
  });
}

/**
 * Label cells that mean "no label" (what pandas, R, SQL and spreadsheets write for a missing
 * value): read as unlabeled, never as a class; validation says which rows had them.
 */
export const MISSING_LABEL_MARKERS: ReadonlySet<string> = new Set(['nan', 'null', 'none', 'n/a', 'na', '#n/a', 'nil']);
