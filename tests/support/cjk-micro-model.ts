/**
 * The CJK micro model the Chinese e2e spec trains (tests/fixtures/cjk-micro/model): a randomly
 * initialised micro BERT (2 layers, hidden 32, 4 heads, 64 positions) whose vocabulary is BERT's
 * five specials, four CJK punctuation marks and every character of the Chinese rows in
 * tests/fixtures/cjk-micro/reviews.csv, with bert-base-chinese's tokenizer settings
 * (do_lower_case false, tokenize_chinese_chars true): one token per Chinese character.
 *
 * `scripts/make-cjk-micro-model.ts` writes the folder; tests/cjk-micro-model.test.ts rebuilds it
 * here and requires the committed files byte for byte, so the fixture cannot drift from this recipe.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bertPreset } from '../../src/engine/bert/config';
import { FewShotModel } from '../../src/engine/studio';
import { BertTokenizer } from '../../src/engine/tokenizer';

export const CJK_MICRO_DIR = fileURLToPath(new URL('../fixtures/cjk-micro/model', import.meta.url));
export const CJK_REVIEWS_CSV = fileURLToPath(new URL('../fixtures/cjk-micro/reviews.csv', import.meta.url));
/** Seed of the random initialisation (any fixed value; this one is the day the fixture was made). */
const SEED = 20261207;
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const PUNCTUATION = ['，', '。', '！', '？'];

/** The texts of reviews.csv (header `text,label`; no text contains an ASCII comma). */
export function reviewTexts(csv = readFileSync(CJK_REVIEWS_CSV, 'utf8')): string[] {
  const [, ...rows] = csv.split('\n').filter((line) => line.length > 0);
  return rows.map((row) => row.slice(0, row.lastIndexOf(',')));
}

/** vocab.txt lines: specials, punctuation, then every other character of the texts in code point order. */
export function cjkVocab(texts: string[] = reviewTexts()): string[] {
  const fixed = new Set([...SPECIALS, ...PUNCTUATION]);
  const chars = [...new Set(texts.flatMap((text) => [...text]))].filter((c) => !fixed.has(c));
  chars.sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
  return [...SPECIALS, ...PUNCTUATION, ...chars];
}

/** The model, freshly initialised (the caller disposes it). Needs an initialised tfjs backend. */
export function buildCjkMicroModel(): FewShotModel {
  const vocab = cjkVocab();
  const tokenizer = BertTokenizer.fromVocabTxt(vocab.join('\n') + '\n', {
    do_lower_case: false,
    tokenize_chinese_chars: true,
    model_max_length: 64,
  });
  const config = bertPreset('micro', { vocab_size: vocab.length, max_position_embeddings: 64 });
  return FewShotModel.fromConfig(config, tokenizer, { name: 'cjk-micro', seed: SEED });
}
