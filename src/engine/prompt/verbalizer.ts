/**
 * Verbalizers: each label maps to one or more label words whose MLM probability at the [MASK]
 * scores the label. Choices (docs/PROMPT_LEARNING.md):
 * - a word that is one vocabulary token is used as is; a word that splits into several word pieces
 *   is scored by its FIRST piece (a warning says so) — one [MASK] per example keeps batching simple;
 * - several words per label: the label's score is the MEAN of the words' probabilities (in log
 *   space: logsumexp(log p_w) − log n), then scores are renormalised over the labels;
 * - a word with an [UNK] piece is an error listing close vocabulary entries; two labels may not
 *   share a (first-piece) token.
 */
import { EngineError } from '../errors';
import type { BertTokenizer } from '../tokenizer';

/** label → label words, e.g. `{ positive: ['great'], negative: ['terrible'] }`. */
export type VerbalizerSpec = Record<string, string | readonly string[]>;

export interface Verbalizer {
  /** Labels in class-index order. */
  labels: string[];
  /** Words per label, same order as `labels`. */
  words: string[][];
  /** Flat token ids of all words [W]. */
  wordIds: number[];
  /** Label index of each entry of `wordIds` [W]. */
  wordLabel: number[];
  warnings: string[];
}

/** Levenshtein distance (small strings). */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** Up to `n` whole-word vocabulary entries close to `word` (shared prefix first, then edit distance). */
export function suggestVocabWords(tokenizer: BertTokenizer, word: string, n = 5): string[] {
  const w = word.toLowerCase();
  const scored: { tok: string; score: number }[] = [];
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    const tok = tokenizer.idToToken(id);
    if (!tok || tok.startsWith('##') || tokenizer.specialTokenIds.has(id) || /^\[.*\]$/.test(tok)) continue;
    if (Math.abs(tok.length - w.length) > 3 && !tok.startsWith(w.slice(0, 3))) continue;
    let prefix = 0;
    while (prefix < Math.min(tok.length, w.length) && tok[prefix] === w[prefix]) prefix++;
    scored.push({ tok, score: editDistance(w, tok) - 0.5 * Math.min(prefix, 4) });
  }
  scored.sort((a, b) => a.score - b.score || a.tok.localeCompare(b.tok));
  return scored.slice(0, n).map((s) => s.tok);
}

/** Validates a spec against the labels and the vocabulary and resolves word ids. */
export function buildVerbalizer(spec: VerbalizerSpec, labels: readonly string[], tokenizer: BertTokenizer): Verbalizer {
  const unknownLabels = Object.keys(spec).filter((l) => !labels.includes(l));
  if (unknownLabels.length > 0) {
    throw new EngineError(
      'VERBALIZER_UNKNOWN_LABEL',
      `The verbalizer names label${unknownLabels.length > 1 ? 's' : ''} ${unknownLabels.map((l) => `"${l}"`).join(', ')} that the data does not have. Labels: ${labels.join(', ')}.`,
    );
  }
  const warnings: string[] = [];
  const words: string[][] = [];
  const wordIds: number[] = [];
  const wordLabel: number[] = [];
  const owner = new Map<number, { label: string; word: string }>();
  labels.forEach((label, li) => {
    const raw = spec[label];
    const list = (typeof raw === 'string' ? [raw] : [...(raw ?? [])]).map((w) => w.trim()).filter((w) => w.length > 0);
    if (list.length === 0) {
      throw new EngineError(
        'VERBALIZER_NO_WORD',
        `Label "${label}" has no label word. Give it at least one, e.g. {"${label}": ["${label.toLowerCase()}"]}.`,
      );
    }
    for (const word of list) {
      const pieces = tokenizer.tokenize(word);
      const ids = pieces.map((p) => tokenizer.tokenToId(p) ?? tokenizer.unkTokenId);
      if (ids.length === 0 || ids.includes(tokenizer.unkTokenId)) {
        const close = suggestVocabWords(tokenizer, word);
        throw new EngineError(
          'VERBALIZER_WORD_NOT_IN_VOCAB',
          `Label word "${word}" (label "${label}") is not in the model's vocabulary.${close.length ? ` Close vocabulary entries: ${close.join(', ')}.` : ''}`,
        );
      }
      if (ids.length > 1)
        warnings.push(
          `Label word "${word}" (label "${label}") splits into ${pieces.join(' ')}; only its first piece "${pieces[0]}" is scored. Prefer a single-token word.`,
        );
      const id = ids[0];
      const prev = owner.get(id);
      if (prev && prev.label !== label) {
        throw new EngineError(
          'VERBALIZER_COLLISION',
          `Label words "${prev.word}" (label "${prev.label}") and "${word}" (label "${label}") map to the same token "${pieces[0]}", so the two labels could not be told apart. Pick different words.`,
        );
      }
      if (prev) continue; // the same token twice for one label counts once
      owner.set(id, { label, word });
      wordIds.push(id);
      wordLabel.push(li);
    }
    words.push(list);
  });
  return { labels: [...labels], words, wordIds, wordLabel, warnings };
}

/** Parses a JSON verbalizer string (CLI): `{"positive": "great", "negative": ["terrible", "bad"]}`. */
export function parseVerbalizerJson(json: string): VerbalizerSpec {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new EngineError(
      'VERBALIZER_BAD_JSON',
      `The verbalizer is not valid JSON (${String(error)}). Example: {"positive": ["great"], "negative": ["terrible"]}.`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EngineError(
      'VERBALIZER_BAD_JSON',
      'The verbalizer must be a JSON object from label to word(s), e.g. {"positive": ["great"], "negative": ["terrible"]}.',
    );
  }
  for (const [label, words] of Object.entries(value)) {
    const ok = typeof words === 'string' || (Array.isArray(words) && words.every((w) => typeof w === 'string'));
    if (!ok)
      throw new EngineError(
        'VERBALIZER_BAD_JSON',
        `The words for label "${label}" must be a string or a list of strings.`,
      );
  }
  return value as VerbalizerSpec;
}

/** Back to a plain spec (label → words) for config.json. */
export function verbalizerToSpec(v: Verbalizer): Record<string, string[]> {
  return Object.fromEntries(v.labels.map((l, i) => [l, [...v.words[i]]]));
}
