/**
 * Label words (docs/PROMPT_LEARNING.md, "Label words"): a sensible default word per label from the
 * label names, which vocabulary tokens may be suggested as label words, and the ranking of the
 * suggestions (LM-BFF's automatic label-word search: prune to the words the model finds likely at
 * the mask for a class, then rank them by how much more likely they are there than for the other
 * classes). No tensors here: `suggestLabelWords` (search.ts) measures the probabilities.
 */
import type { BertTokenizer } from '../tokenizer';
import type { VerbalizerSpec } from './verbalizer';

/**
 * Function words and odd tokens never proposed as label words: they are likely at almost any
 * mask, so they carry no class, and archaic forms ("thy") read as noise to a user.
 */
export const LABEL_WORD_STOP_LIST: ReadonlySet<string> = new Set(
  (
    'a an the and or but nor so yet if then than that this these those there here ' +
    'of in on at to for with by from as into onto upon over under about after before between through ' +
    'up down out off again further once ' +
    'is am are was were be been being has have had having do does did doing will would shall should ' +
    'can could may might must ought ' +
    'i me my mine myself we us our ours you your yours he him his she her hers it its they them their theirs ' +
    'who whom whose which what when where why how ' +
    'all any both each few more most other some such no not only own same too very just also even ' +
    'one two three mr mrs ms dr st vs etc ' +
    'thy thee thou thine ye hath doth art shalt wilt unto'
  ).split(/\s+/),
);

/** Label-name prefixes that negate the rest of the name (`non_irony`, `not-spam`, `no_hate`). */
const NEGATIONS: ReadonlySet<string> = new Set(['non', 'not', 'no']);

/** Real words that stand for "not X" (in this order of preference). */
const NEGATED_LABEL_WORDS = ['normal', 'other', 'neutral', 'ordinary', 'none'];

/** Short label names that abbreviate a word. */
const ABBREVIATIONS: Readonly<Record<string, string>> = {
  pos: 'positive',
  neg: 'negative',
  neu: 'neutral',
  neut: 'neutral',
  obj: 'objective',
  subj: 'subjective',
  sci: 'science',
  tech: 'technology',
};

/** Splits a label name into lower-case words: on `_`, `-`, `/`, spaces, digits' edges and camelCase. */
export function splitLabelName(label: string): string[] {
  return label
    .replace(/(\p{Ll}|\p{N})(\p{Lu})/gu, '$1 $2') // camelCase → camel Case
    .replace(/(\p{Lu}+)(\p{Lu}\p{Ll})/gu, '$1 $2') // HTMLParser → HTML Parser
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** True for a word that reads as a word: two or more letters, not a function word. */
function isPlainWord(word: string): boolean {
  return /^\p{L}{2,}$/u.test(word) && !LABEL_WORD_STOP_LIST.has(word);
}

export interface DefaultLabelWords {
  /** One word per label, in label order. */
  verbalizer: Record<string, string[]>;
  /** Per label whose word is not simply its name: why this word, in one sentence. */
  notes: Record<string, string>;
}

/**
 * A default label word for each label: the label itself when it is one vocabulary word; for a
 * longer name (`card_arrival`, `lostOrStolen`) the name's word that no other label's name shares
 * and that the vocabulary holds whole; for a negated name (`non_irony`) a real word such as
 * "normal", since "non irony" is not one word and would be scored by its first piece only; for a
 * label set the built-in library knows (`positive`/`negative`), pass its verbalizers as `known`:
 * the first whose words are all whole vocabulary words is used (`ham`/`spam` gets "personal" /
 * "advertising", since "spam" is two pieces in bert-base-uncased).
 * Two labels never get the same word: the words are matched to the labels so that as many as
 * possible get one (banking77: 75 of 77 labels from their names). A label left without one keeps
 * a free word of its name (or the name), and its note says to write one.
 */
export function defaultLabelWords(
  labels: readonly string[],
  tokenizer: BertTokenizer,
  known: readonly VerbalizerSpec[] = [],
): DefaultLabelWords {
  const verbalizer: Record<string, string[]> = {};
  const notes: Record<string, string> = {};
  const inVocab = (w: string) => tokenizer.tokenToId(w) !== undefined;
  const asList = (words: string | readonly string[]) => (typeof words === 'string' ? [words] : [...words]);
  const library = known.find(
    (spec) => labels.every((l) => spec[l] !== undefined) && labels.every((l) => asList(spec[l]).every(inVocab)),
  );
  if (library) {
    for (const l of labels) {
      verbalizer[l] = asList(library[l]);
      if (verbalizer[l].join() !== l.toLowerCase())
        notes[l] = `"${verbalizer[l].join(', ')}": the built-in prompt's word for "${l}".`;
    }
    return { verbalizer, notes };
  }
  const parts = labels.map((l) => splitLabelName(l).map((w) => ABBREVIATIONS[w] ?? w));
  // How many labels use each word in their name: a word in several names does not tell them apart.
  const shared = new Map<string, number>();
  for (const words of parts) for (const w of new Set(words)) shared.set(w, (shared.get(w) ?? 0) + 1);
  const owner = new Map<string, number>(); // word → label index
  const negated = parts.map((words) => words.length >= 2 && NEGATIONS.has(words[0]));
  for (const [i, words] of parts.entries()) {
    if (!negated[i]) continue;
    const word = NEGATED_LABEL_WORDS.find((w) => inVocab(w) && !owner.has(w) && !shared.has(w));
    if (!word) continue;
    owner.set(word, i);
    notes[labels[i]] =
      `"${word}" stands for "${words.join(' ')}": a label word must be one word of the vocabulary, and "${words[0]}" alone would mean the opposite.`;
  }
  const reserved = new Set(owner.keys());
  // Each name's usable words, best first: plain words before function words ("my", "up"), then
  // the words fewer other names share, then reading order.
  const options = parts.map((words) =>
    [...new Set(words)]
      .filter((w) => /^\p{L}+$/u.test(w) && inVocab(w) && !reserved.has(w))
      .map((w) => ({ w, plain: isPlainWord(w), position: words.indexOf(w) }))
      .sort(
        (a, b) => Number(b.plain) - Number(a.plain) || shared.get(a.w)! - shared.get(b.w)! || a.position - b.position,
      )
      .map(({ w }) => w),
  );
  // Distinct words for as many labels as possible: a bipartite matching (augmenting paths), each
  // label trying its words best first and moving an earlier label to its next word when that frees
  // one. Single-word names first, so "negative" keeps its word before "very_negative" looks.
  const place = (i: number, seen: Set<string>): boolean => {
    for (const w of options[i]) {
      if (seen.has(w)) continue;
      seen.add(w);
      const other = owner.get(w);
      if (other === undefined || place(other, seen)) {
        owner.set(w, i);
        return true;
      }
    }
    return false;
  };
  const order = labels
    .map((_, i) => i)
    .filter((i) => ![...owner.values()].includes(i))
    .sort((a, b) => Math.min(2, parts[a].length) - Math.min(2, parts[b].length) || a - b);
  for (const i of order) place(i, new Set());
  for (const [w, i] of owner) verbalizer[labels[i]] = [w];
  for (const [i, label] of labels.entries()) {
    const word = verbalizer[label]?.[0];
    if (word === undefined) {
      const fallback = parts[i].find((w) => !owner.has(w)) ?? label;
      owner.set(fallback, i);
      verbalizer[label] = [fallback];
      notes[label] =
        `No free vocabulary word in "${label}": replace "${fallback}" with one word that describes this class (Suggest label words can help).`;
    } else if (!negated[i] || !notes[label]) {
      if (word !== label)
        notes[label] =
          parts[i].length === 1
            ? `"${word}" is the vocabulary's word for "${label}".`
            : `"${word}": a word of the name; a label word must be one vocabulary word, best one no other label shares.`;
    }
  }
  return { verbalizer: Object.fromEntries(labels.map((l) => [l, verbalizer[l]])), notes };
}

/** How many of the vocabulary's whole words count as "frequent" for label-word suggestions. */
export const DEFAULT_SUGGESTION_VOCAB = 8000;

/**
 * Token ids that may be suggested as label words: whole words of two or more letters (no special
 * tokens, no `##` pieces, no digits or punctuation), not in the stop list, and among the first
 * `maxWords` such words in vocabulary order. BERT vocabularies list words roughly by frequency
 * (after specials and single characters): for bert-base-uncased, which the embedded models use,
 * word ids and Brown-corpus counts have a Spearman correlation of 0.73, and the median count falls
 * from 79 for ids below 5,000 to 7 for ids 10,000–15,000; the first 8,000 whole words end near id
 * 11,400. So the cut keeps common words and drops rare ones ("hydrogen" stays in, "radioactive",
 * "irony" and "thy" fall out).
 */
export function suggestionCandidates(tokenizer: BertTokenizer, maxWords = DEFAULT_SUGGESTION_VOCAB): number[] {
  const ids: number[] = [];
  for (let id = 0; id < tokenizer.vocabSize && ids.length < maxWords; id++) {
    const token = tokenizer.idToToken(id);
    if (!token || tokenizer.specialTokenIds.has(id) || token.startsWith('##') || /^\[.*\]$/.test(token)) continue;
    if (isPlainWord(token)) ids.push(id);
  }
  return ids;
}

export interface RankedWord {
  id: number;
  /** Mean log-probability at the mask over this class's rows minus the mean of the other classes' means. */
  score: number;
  /** Mean log-probability at the mask over this class's rows. */
  logProb: number;
}

/**
 * Ranks candidate label words per class from mean MLM log-probabilities at the mask.
 * `means[c][v]`: mean over class c's rows of log p(token v at the mask) (`counts[c]` rows).
 * Step 1, LM-BFF's pruning: per class, the `pruneK` candidates with the highest mean log-prob
 * (the words the model itself would put there for this class). Step 2: those ranked by the
 * margin over the other classes' mean, so a word likely for every class (e.g. "good" at "It was
 * [MASK]") sinks and a word likely for this class only rises. A rare word cannot win on a margin
 * between two tiny probabilities, because it never passes step 1.
 */
export function rankLabelWords(
  means: readonly Float64Array[],
  counts: readonly number[],
  candidates: readonly number[],
  options: { topK?: number; pruneK?: number } = {},
): RankedWord[][] {
  const topK = options.topK ?? 10;
  const pruneK = Math.max(topK, options.pruneK ?? 50);
  return means.map((mean, c) => {
    if (counts[c] === 0) return [];
    const others = means.map((_, k) => k).filter((k) => k !== c && counts[k] > 0);
    const likely = [...candidates].sort((a, b) => mean[b] - mean[a]).slice(0, pruneK);
    return likely
      .map((id) => {
        const other = others.length ? others.reduce((s, k) => s + means[k][id], 0) / others.length : 0;
        return { id, score: mean[id] - other, logProb: mean[id] };
      })
      .sort((a, b) => b.score - a.score || b.logProb - a.logProb)
      .slice(0, topK);
  });
}
