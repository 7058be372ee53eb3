/**
 * What defines a BERT tokenizer besides its vocabulary (`BertTokenizerConfig` and its Hugging Face
 * defaults), the per-call options of `encode` / `decode`, and the `Encoding` they return.
 */
import { EngineError } from '../errors';

/** How to shorten inputs longer than `maxLength` (Hugging Face names). */
export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';

/** `longest`: to the longest encoding of the batch; `max_length`: to `maxLength`. */
export type PaddingStrategy = 'longest' | 'max_length';

/** One piece of a post-processing template: a special token or one of the input sequences. */
export type TemplatePiece =
  { kind: 'special'; token: string; typeId: number } | { kind: 'sequence'; sequence: 'A' | 'B'; typeId: number };

/** Everything that defines a BERT tokenizer besides its vocabulary. */
export interface BertTokenizerConfig {
  /** Lower-case the input. HF BertTokenizer default: true (uncased checkpoints). */
  lowercase: boolean;
  /** Strip accents (NFD, drop non-spacing marks); `null` follows `lowercase`, as in HF. */
  stripAccents: boolean | null;
  /** Drop control characters and map all whitespace to spaces. Always on in HF BertTokenizer. */
  cleanText: boolean;
  /** Make every CJK ideograph its own word. HF default: true. */
  handleChineseChars: boolean;
  /** Replaces words WordPiece cannot cover. */
  unkToken: string;
  /** Starts every encoding (classification token). */
  clsToken: string;
  /** Ends each sequence. */
  sepToken: string;
  /** Fills padded positions. */
  padToken: string;
  /** Masked-LM token; `null` when the vocabulary has none (then fill-mask is unavailable). */
  maskToken: string | null;
  /** Further tokens that are never split and are skipped by `decode({ skipSpecialTokens })`. */
  additionalSpecialTokens: string[];
  /** Marks word-continuation pieces. Every BERT vocab uses "##". */
  continuingSubwordPrefix: string;
  /** Longer words (in code points) become `unkToken`. HF default: 100. */
  maxInputCharsPerWord: number;
  /** Default `maxLength` for truncation / padding; `null` = none (HF: "very large"). */
  modelMaxLength: number | null;
  /** Remove spaces before punctuation and in contractions when decoding. HF default: true. */
  cleanUpTokenizationSpaces: boolean;
  /** Post-processing of one sequence; BERT: [CLS] A [SEP], all type 0. */
  singleTemplate: TemplatePiece[];
  /** Post-processing of a pair; BERT: [CLS] A [SEP] (type 0) B [SEP] (type 1). */
  pairTemplate: TemplatePiece[];
  /** Words per generation of the two-generation word → pieces cache (≤ 2× this many kept; a few MB). */
  wordCacheSize: number;
}

/** Per-call options of `encode` / `encodeBatch`. */
export interface EncodeOptions {
  /** Add [CLS]/[SEP] per the templates. Default: true. */
  addSpecialTokens?: boolean;
  /** Truncate to `maxLength`; `true` means `longest_first`. Default: false (no truncation). */
  truncation?: boolean | TruncationStrategy;
  /** Length limit (special tokens included) for truncation and `max_length` padding. Default: `modelMaxLength`. */
  maxLength?: number;
  /** Pad with the pad token. Default: false (no padding). */
  padding?: false | PaddingStrategy;
  /** Round the padded length up to a multiple of this (bounds distinct tensor shapes). Default: none. */
  padToMultipleOf?: number;
}

/** Options of `decode`. */
export interface DecodeOptions {
  /** Leave out special tokens ([CLS], [SEP], [PAD], [UNK], [MASK], ...). Default: false, as in HF. */
  skipSpecialTokens?: boolean;
  /** Override the tokenizer's `cleanUpTokenizationSpaces`. */
  cleanUpTokenizationSpaces?: boolean;
}

/** Model inputs for one text (or text pair), all arrays the same length. */
export interface Encoding {
  /** Vocabulary ids. */
  ids: number[];
  /** Segment ids: 0 for the first sequence (and [CLS]), 1 for the second. */
  tokenTypeIds: number[];
  /** 1 for real tokens, 0 for padding. */
  attentionMask: number[];
  /** Token strings, e.g. "[CLS]", "hello", "##ing". */
  tokens: string[];
  /** [start, end) UTF-16 offsets into the text the token came from (the pair text for B); [0, 0] for added tokens. */
  offsets: [number, number][];
  /** 1 for tokens added by post-processing or padding, 0 for tokens from the text. */
  specialTokensMask: number[];
}

/** One input of `encodeBatch`: a text or a [text, textPair] pair. */
export type EncodeInput = string | readonly [string, string];

/** Standard BERT post-processing: [CLS] A [SEP] and [CLS] A [SEP] B [SEP]. */
export function bertTemplates(cls: string, sep: string): Pick<BertTokenizerConfig, 'singleTemplate' | 'pairTemplate'> {
  return {
    singleTemplate: [
      { kind: 'special', token: cls, typeId: 0 },
      { kind: 'sequence', sequence: 'A', typeId: 0 },
      { kind: 'special', token: sep, typeId: 0 },
    ],
    pairTemplate: [
      { kind: 'special', token: cls, typeId: 0 },
      { kind: 'sequence', sequence: 'A', typeId: 0 },
      { kind: 'special', token: sep, typeId: 0 },
      { kind: 'sequence', sequence: 'B', typeId: 1 },
      { kind: 'special', token: sep, typeId: 1 },
    ],
  };
}

/** Defaults of Hugging Face's BertTokenizer (bert-base-uncased behaviour). */
export const DEFAULT_BERT_TOKENIZER_CONFIG: Readonly<BertTokenizerConfig> = Object.freeze({
  lowercase: true,
  stripAccents: null,
  cleanText: true,
  handleChineseChars: true,
  unkToken: '[UNK]',
  clsToken: '[CLS]',
  sepToken: '[SEP]',
  padToken: '[PAD]',
  maskToken: '[MASK]',
  additionalSpecialTokens: [],
  continuingSubwordPrefix: '##',
  maxInputCharsPerWord: 100,
  modelMaxLength: null,
  cleanUpTokenizationSpaces: true,
  ...bertTemplates('[CLS]', '[SEP]'),
  wordCacheSize: 50_000,
});

/** Rejects settings the tokenizer cannot run with at construction, before they could mis-tokenize. */
export function validateConfig(config: BertTokenizerConfig): void {
  if (!Number.isInteger(config.maxInputCharsPerWord) || config.maxInputCharsPerWord <= 0) {
    throw new EngineError(
      'TOKENIZER_BAD_CONFIG',
      `maxInputCharsPerWord must be a positive integer, got ${config.maxInputCharsPerWord}.`,
    );
  }
  if (!Number.isInteger(config.wordCacheSize) || config.wordCacheSize < 1) {
    throw new EngineError(
      'TOKENIZER_BAD_CONFIG',
      `wordCacheSize must be a positive integer, got ${config.wordCacheSize}.`,
    );
  }
  if (config.modelMaxLength !== null && (!Number.isInteger(config.modelMaxLength) || config.modelMaxLength < 0)) {
    throw new EngineError(
      'TOKENIZER_BAD_CONFIG',
      `modelMaxLength must be a non-negative integer or null, got ${config.modelMaxLength}.`,
    );
  }
  for (const [name, template, sequences] of [
    ['singleTemplate', config.singleTemplate, ['A']],
    ['pairTemplate', config.pairTemplate, ['A', 'B']],
  ] as const) {
    // Type ids index the model's segment embeddings: NaN, negative or fractional ones would reach it.
    const badType = template.find((p) => !Number.isInteger(p.typeId) || p.typeId < 0);
    if (badType !== undefined) {
      throw new EngineError(
        'TOKENIZER_BAD_CONFIG',
        `${name} has type id ${String(badType.typeId)}; type ids must be non-negative integers.`,
      );
    }
    const used = template.filter((p) => p.kind === 'sequence').map((p) => (p.kind === 'sequence' ? p.sequence : ''));
    if (used.length !== sequences.length || !sequences.every((s) => used.includes(s))) {
      throw new EngineError(
        'TOKENIZER_BAD_CONFIG',
        `${name} must contain sequence ${sequences.join(' and ')} exactly once each, got ${used.join(', ') || 'none'}.`,
      );
    }
  }
}
