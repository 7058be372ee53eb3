/**
 * Column names that usually mean "text", "second text" or "label", shared by the parser (to
 * judge one-column files) and the column detector. Names are compared after `normalizeName`.
 */

/** First-segment text columns, most common first. */
export const TEXT_NAMES = [
  'text',
  'sentence',
  'sentence1',
  'text_a',
  'text1',
  'review',
  'content',
  'body',
  'message',
  'question',
  'question1',
  'utterance',
  'document',
  'premise',
  'query',
  'comment',
  'tweet',
  'description',
  'title',
  'headline',
  'abstract',
  'passage',
  'input',
  'prompt',
  'sms',
  'post',
];

/** Second-segment columns of sentence-pair tasks (NLI, paraphrase, QA pairs). */
export const PAIR_NAMES = [
  'sentence2',
  'text_b',
  'text2',
  'text_pair',
  'hypothesis',
  'question2',
  'sentence_b',
  'pair',
];

/** Label columns, most common first. */
export const LABEL_NAMES = [
  'label',
  'labels',
  'class',
  'category',
  'target',
  'intent',
  'sentiment',
  'y',
  'gold',
  'gold_label',
  'tag',
  'topic',
  'emotion',
  'polarity',
  'stance',
  'label_text',
  'label_name',
  'class_name',
  'classname',
  'categories',
  'output',
];

/** Columns that identify rows and never hold text or labels. */
export const ID_NAMES = ['id', 'idx', 'index', 'uid', 'guid', 'row', 'row_id', 'example_id', 'unnamed_0'];

/** Lowercase; spaces, dashes, dots and other punctuation become `_`; trimmed of `_`. */
export function normalizeName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '');
}

/** Exact normalized match, or one `_`-separated word of the name matching (e.g. `review_text`). */
export function nameMatch(name: string, list: readonly string[]): 'exact' | 'word' | null {
  const n = normalizeName(name);
  if (list.includes(n)) return 'exact';
  const words = n.split('_');
  return words.length > 1 && words.some((w) => list.includes(w)) ? 'word' : null;
}
